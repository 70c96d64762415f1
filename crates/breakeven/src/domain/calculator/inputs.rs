//! Reading the calculator's inputs: every field checked and every bad one named before
//! anything is computed.

use chrono::NaiveDate;
use contracts::Currency;
use platform::validation::Invalid;
use rust_decimal::Decimal;

use super::Rejection;
use super::request::CalculateRequest;
use crate::domain::cvp::UnitEconomics;
use crate::domain::input::Reader;
use crate::domain::marketing::MarketingInputs;
use crate::domain::mix::{self, MixLine};
use crate::domain::sensitivity;

/// The inputs of the single-product chart and core block, validated.
#[derive(Debug, Clone)]
pub struct CoreInputs {
    pub currency: Currency,
    pub fixed_costs: Decimal,
    pub unit: UnitEconomics,
}

/// Reads `currency`, `fixed_costs`, `price` and `variable_cost` (all required), as the
/// chart needs them.
pub fn core_inputs(
    currency: Option<&str>,
    fixed_costs: Option<&str>,
    price: Option<&str>,
    variable_cost: Option<&str>,
) -> Result<CoreInputs, Rejection> {
    let mut r = Reader::new();
    let currency = r.currency("currency", currency);
    let fixed = r.amount("fixed_costs", fixed_costs);
    let price_v = r.amount("price", price);
    let vc = r.amount("variable_cost", variable_cost);
    for (field, raw) in [
        ("fixed_costs", fixed_costs),
        ("price", price),
        ("variable_cost", variable_cost),
    ] {
        if raw.is_none() {
            r.errors.add(field, "is required");
        }
    }
    let ((currency, fixed_costs), (price, vc)) =
        r.finish(currency.zip(fixed).zip(price_v.zip(vc)))?;
    Ok(CoreInputs {
        currency,
        fixed_costs,
        unit: UnitEconomics::new(price, vc, "price")?,
    })
}

/// A monthly run-rate to project the break-even date from.
#[derive(Debug, Clone)]
pub(super) struct RunRate {
    pub units: Option<Decimal>,
    pub revenue: Option<Decimal>,
    pub to_date: Decimal,
    pub start: NaiveDate,
}

/// Every figure of a request, read and checked.
#[derive(Debug, Clone)]
pub(super) struct Inputs {
    pub currency: Currency,
    pub fixed: Option<Decimal>,
    pub price: Option<Decimal>,
    pub variable_cost: Option<Decimal>,
    pub actual: Option<Decimal>,
    pub planned: Option<Decimal>,
    pub target: Option<Decimal>,
    pub leverage: Option<Decimal>,
    /// The sales mix; empty without products.
    pub lines: Vec<MixLine>,
    /// `Some` when the request has a marketing block.
    pub marketing: Option<MarketingInputs>,
    pub steps: Option<Vec<Decimal>>,
    pub run_rate: Option<RunRate>,
}

/// Reads a request; `today` starts a projection that names no start.
pub(super) fn read(req: &CalculateRequest, today: NaiveDate) -> Result<Inputs, Invalid> {
    let mut r = Reader::new();
    let currency = r.currency("currency", Some(&req.currency));
    let fixed = r.amount("fixed_costs", req.fixed_costs.as_deref());
    let price = r.amount("price", req.price.as_deref());
    let variable_cost = r.amount("variable_cost", req.variable_cost.as_deref());
    let actual = r.amount("actual_units", req.actual_units.as_deref());
    let planned = r.amount("planned_units", req.planned_units.as_deref());
    let target = r.amount("target_profit", req.target_profit.as_deref());
    let leverage = r.amount("leverage_units", req.leverage_units.as_deref());
    require_single_product(&mut r, req);
    let lines = mix_lines(&mut r, req, currency.as_ref());
    let marketing = req.marketing.as_ref().map(|mk| MarketingInputs {
        average_order_value: r.amount(
            "marketing.average_order_value",
            mk.average_order_value.as_deref(),
        ),
        other_variable_costs: r.amount(
            "marketing.other_variable_costs",
            mk.other_variable_costs.as_deref(),
        ),
        target_roas: r.positive("marketing.target_roas", mk.target_roas.as_deref()),
        cac: r.amount("marketing.cac", mk.cac.as_deref()),
        arpa: r.amount("marketing.arpa", mk.arpa.as_deref()),
        gross_margin: r.share("marketing.gross_margin", mk.gross_margin.as_deref()),
        ltv: r.amount("marketing.ltv", mk.ltv.as_deref()),
        monthly_churn: r.share("marketing.monthly_churn", mk.monthly_churn.as_deref()),
        margin_ratio: None,
    });
    let steps = sensitivity_steps(&mut r, req);
    let run_rate = req.projection.as_ref().map(|p| {
        let units = r.amount("projection.monthly_units", p.monthly_units.as_deref());
        let revenue = r.amount("projection.monthly_revenue", p.monthly_revenue.as_deref());
        let to_date = r.amount("projection.units_to_date", p.units_to_date.as_deref());
        if p.monthly_units.is_none() && p.monthly_revenue.is_none() {
            r.errors.add(
                "projection.monthly_units",
                "is required (or projection.monthly_revenue)",
            );
        }
        RunRate {
            units,
            revenue,
            to_date: to_date.unwrap_or_default(),
            start: p.start.unwrap_or(today),
        }
    });
    if req.price.is_none() && req.products.is_none() && req.marketing.is_none() {
        r.errors.add(
            "price",
            "is required: give price and variable_cost, products, or marketing",
        );
    }
    let currency = r.finish(currency)?;
    Ok(Inputs {
        currency,
        fixed,
        price,
        variable_cost,
        actual,
        planned,
        target,
        leverage,
        lines,
        marketing,
        steps,
        run_rate,
    })
}

/// Fields that mean nothing without a single product and fixed costs require them; price
/// and variable cost come together.
fn require_single_product(r: &mut Reader, req: &CalculateRequest) {
    let dependents = [
        ("actual_units", req.actual_units.is_some()),
        ("planned_units", req.planned_units.is_some()),
        ("target_profit", req.target_profit.is_some()),
        ("leverage_units", req.leverage_units.is_some()),
        ("sensitivity", req.sensitivity.is_some()),
        ("projection", req.projection.is_some()),
    ];
    if let Some((dependent, _)) = dependents.iter().find(|(_, given)| *given) {
        for (field, raw) in [
            ("price", &req.price),
            ("variable_cost", &req.variable_cost),
            ("fixed_costs", &req.fixed_costs),
        ] {
            if raw.is_none() {
                r.errors.add(field, format!("is required with {dependent}"));
            }
        }
    } else if req.price.is_some() != req.variable_cost.is_some() {
        let missing = if req.price.is_none() {
            "price"
        } else {
            "variable_cost"
        };
        r.errors
            .add(missing, "is required with price and variable_cost alike");
    }
}

/// The products of a sales mix, each in the request's currency, their shares summing to 1.
fn mix_lines(r: &mut Reader, req: &CalculateRequest, currency: Option<&Currency>) -> Vec<MixLine> {
    let mut lines = Vec::new();
    let Some(products) = &req.products else {
        return lines;
    };
    if products.is_empty() {
        r.errors.add("products", "must not be empty");
    }
    if req.fixed_costs.is_none() {
        r.errors.add("fixed_costs", "is required with products");
    }
    for (i, p) in products.iter().enumerate() {
        let f = |name: &str| format!("products[{i}].{name}");
        let price = r.amount(&f("price"), Some(&p.price));
        let vc = r.amount(&f("variable_cost"), Some(&p.variable_cost));
        let share = r.share(&f("mix"), Some(&p.mix));
        r.same_currency(&f("currency"), p.currency.as_deref(), currency);
        if let (Some(price), Some(variable_cost), Some(share)) = (price, vc, share) {
            lines.push(MixLine {
                name: p
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("product {}", i + 1)),
                price,
                variable_cost,
                share,
            });
        }
    }
    if lines.len() == products.len()
        && !lines.is_empty()
        && let Err(sum) = mix::check_shares(&lines.iter().map(|l| l.share).collect::<Vec<_>>())
    {
        r.errors.add(
            "products",
            format!("the sales mix must sum to 1; it sums to {sum}"),
        );
    }
    lines
}

/// The steps of the sensitivity grid's axes.
fn sensitivity_steps(r: &mut Reader, req: &CalculateRequest) -> Option<Vec<Decimal>> {
    let s = req.sensitivity.as_ref()?;
    let range = r.amount("sensitivity.range_percent", Some(&s.range_percent));
    let step = r.positive("sensitivity.step_percent", Some(&s.step_percent));
    let (range, step) = (range?, step?);
    if range >= Decimal::ONE_HUNDRED * Decimal::TEN {
        r.errors
            .add("sensitivity.range_percent", "must be below 1000");
        return None;
    }
    let steps = sensitivity::steps(range, step);
    if steps.is_none() {
        r.errors.add(
            "sensitivity.step_percent",
            format!(
                "gives more than {} steps per axis; use a larger step",
                sensitivity::MAX_STEPS
            ),
        );
    }
    steps
}
