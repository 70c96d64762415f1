//! The stateless calculator behind `POST /v1/breakeven/calculate`: request in, every block
//! whose inputs are present out. No I/O; the request is validated field by field first.

use chrono::NaiveDate;
use contracts::Currency;
use platform::Problem;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cvp::{self, CalcError, UnitEconomics, present};
use super::input::Reader;
use super::marketing::{self, MarketingInputs};
use super::mix::{self, MixLine};
use super::projection;
use super::sensitivity;

/// Calculator inputs. Amounts are decimal strings in `currency`; all figures are optional
/// and each output block appears when its inputs are given.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalculateRequest {
    /// ISO 4217 code of every amount.
    pub currency: String,
    /// Fixed costs of the period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_costs: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variable_cost: Option<String>,
    /// Units actually sold: margin of safety and operating leverage at that volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_units: Option<String>,
    /// Units planned (used when `actual_units` is absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_units: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_profit: Option<String>,
    /// Volume at which to state the degree of operating leverage (default: actual or
    /// planned units).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leverage_units: Option<String>,
    /// Several products and their sales mix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub products: Option<Vec<MixProductInput>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing: Option<MarketingInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<SensitivityInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection: Option<ProjectionInput>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MixProductInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub price: String,
    pub variable_cost: String,
    /// Share of units sold, 0 to 1; the shares sum to 1 (±0.000001, then normalised).
    pub mix: String,
    /// Must equal the request's currency when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketingInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_order_value: Option<String>,
    /// Variable costs per order outside the margin (shipping, payment fees).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_variable_costs: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_roas: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cac: Option<String>,
    /// Average revenue per account per month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arpa: Option<String>,
    /// 0 to 1; defaults to the CM ratio of price and variable cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gross_margin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ltv: Option<String>,
    /// 0 to 1; with ARPA and margin gives LTV = ARPA × margin / churn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_churn: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SensitivityInput {
    /// ± this many percent around today's price and variable cost.
    pub range_percent: String,
    pub step_percent: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectionInput {
    /// Run-rate in units a month (or give `monthly_revenue`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_units: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_revenue: Option<String>,
    /// Units already sold in the period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units_to_date: Option<String>,
    /// Start of the period (default: today, UTC).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "platform::time::option_date"
    )]
    pub start: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CalculateResponse {
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakeven: Option<BreakevenResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin_of_safety: Option<MarginOfSafetyResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_profit: Option<TargetResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operating_leverage: Option<LeverageResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales_mix: Option<MixResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing: Option<MarketingResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<SensitivityResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection: Option<ProjectionResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UnitResult {
    pub contribution_margin: Decimal,
    pub contribution_margin_ratio: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BreakevenResult {
    /// Exact, to 6 places.
    pub units_exact: Decimal,
    /// Rounded up to whole units.
    pub units: Decimal,
    pub revenue: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MarginOfSafetyResult {
    /// `actual` or `planned`: which units it is measured at.
    pub basis: String,
    pub sales_units: Decimal,
    pub units: Decimal,
    pub revenue: Decimal,
    /// Margin of safety as a percentage of sales revenue; absent at zero sales.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TargetResult {
    pub profit: Decimal,
    pub units_exact: Decimal,
    pub units: Decimal,
    pub revenue: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LeverageResult {
    pub units: Decimal,
    /// Contribution / operating profit; absent exactly at break-even (profit 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degree: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MixResult {
    pub weighted_contribution_margin: Decimal,
    pub weighted_price: Decimal,
    pub weighted_contribution_margin_ratio: Decimal,
    pub composite_units_exact: Decimal,
    pub composite_units: Decimal,
    pub revenue: Decimal,
    pub products: Vec<MixProductResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MixProductResult {
    pub name: String,
    pub units_exact: Decimal,
    pub units: Decimal,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct MarketingResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakeven_roas: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contribution_per_order: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakeven_cpa: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowable_cpa: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cac_payback_months: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ltv: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ltv_to_cac: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SensitivityResult {
    /// Columns: percentage change of the price.
    pub price_changes_percent: Vec<Decimal>,
    /// Rows: percentage change of the variable cost.
    pub variable_cost_changes_percent: Vec<Decimal>,
    /// Whole break-even units per (row, column); null where break-even is unreachable.
    pub units: Vec<Vec<Option<Decimal>>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectionResult {
    pub start: NaiveDate,
    /// Months from `start` (2 places); absent when the run-rate is zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
}

/// Why the calculator gave no answer.
#[derive(Debug, Clone)]
pub enum Rejection {
    Invalid(Problem),
    Calc(CalcError),
}

impl From<Problem> for Rejection {
    fn from(p: Problem) -> Self {
        Rejection::Invalid(p)
    }
}

impl From<CalcError> for Rejection {
    fn from(e: CalcError) -> Self {
        Rejection::Calc(e)
    }
}

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
    r.errors.finish()?;
    let (Some(currency), Some(fixed_costs), Some(price), Some(vc)) = (currency, fixed, price_v, vc)
    else {
        return Err(Problem::internal().into());
    };
    Ok(CoreInputs {
        currency,
        fixed_costs,
        unit: UnitEconomics::new(price, vc, "price")?,
    })
}

pub fn calculate(req: &CalculateRequest, today: NaiveDate) -> Result<CalculateResponse, Rejection> {
    let mut r = Reader::new();
    let currency = r.currency("currency", Some(&req.currency));
    let fixed = r.amount("fixed_costs", req.fixed_costs.as_deref());
    let price = r.amount("price", req.price.as_deref());
    let vc = r.amount("variable_cost", req.variable_cost.as_deref());
    let actual = r.amount("actual_units", req.actual_units.as_deref());
    let planned = r.amount("planned_units", req.planned_units.as_deref());
    let target = r.amount("target_profit", req.target_profit.as_deref());
    let leverage = r.amount("leverage_units", req.leverage_units.as_deref());

    // Fields that mean nothing without a single product and fixed costs.
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

    let mut lines = Vec::new();
    if let Some(products) = &req.products {
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
            r.same_currency(&f("currency"), p.currency.as_deref(), currency.as_ref());
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
    }

    let mut m = MarketingInputs::default();
    if let Some(mk) = &req.marketing {
        m.average_order_value = r.amount(
            "marketing.average_order_value",
            mk.average_order_value.as_deref(),
        );
        m.other_variable_costs = r.amount(
            "marketing.other_variable_costs",
            mk.other_variable_costs.as_deref(),
        );
        m.target_roas = r.positive("marketing.target_roas", mk.target_roas.as_deref());
        m.cac = r.amount("marketing.cac", mk.cac.as_deref());
        m.arpa = r.amount("marketing.arpa", mk.arpa.as_deref());
        m.gross_margin = r.share("marketing.gross_margin", mk.gross_margin.as_deref());
        m.ltv = r.amount("marketing.ltv", mk.ltv.as_deref());
        m.monthly_churn = r.share("marketing.monthly_churn", mk.monthly_churn.as_deref());
    }

    let steps = req.sensitivity.as_ref().and_then(|s| {
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
    });

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
        (
            units,
            revenue,
            to_date.unwrap_or_default(),
            p.start.unwrap_or(today),
        )
    });

    if req.price.is_none() && req.products.is_none() && req.marketing.is_none() {
        r.errors.add(
            "price",
            "is required: give price and variable_cost, products, or marketing",
        );
    }
    r.errors.finish()?;
    let currency = currency.ok_or_else(Problem::internal)?;

    let mut out = CalculateResponse {
        currency: currency.to_string(),
        unit: None,
        breakeven: None,
        margin_of_safety: None,
        target_profit: None,
        operating_leverage: None,
        sales_mix: None,
        marketing: None,
        sensitivity: None,
        projection: None,
    };

    let unit = match (price, vc) {
        (Some(p), Some(v)) => Some(UnitEconomics::new(p, v, "price")?),
        _ => None,
    };
    let mut margin_ratio = None;
    if let Some(unit) = &unit {
        let ratio = unit.margin_ratio()?;
        margin_ratio = Some(ratio);
        out.unit = Some(UnitResult {
            contribution_margin: present::money(unit.margin()),
            contribution_margin_ratio: present::ratio(ratio),
        });
    }
    if let (Some(unit), Some(fixed)) = (&unit, fixed) {
        let point = cvp::breakeven(unit, fixed)?;
        out.breakeven = Some(BreakevenResult {
            units_exact: present::units(point.units_exact),
            units: point.units,
            revenue: present::money(point.revenue),
        });
        let basis = actual
            .map(|u| ("actual", u))
            .or_else(|| planned.map(|u| ("planned", u)));
        if let Some((basis, sales_units)) = basis {
            let mos = cvp::margin_of_safety(unit, &point, sales_units)?;
            out.margin_of_safety = Some(MarginOfSafetyResult {
                basis: basis.to_string(),
                sales_units,
                units: present::units(mos.units),
                revenue: present::money(mos.revenue),
                percent: mos.percent.map(present::percent),
            });
        }
        if let Some(profit) = target {
            let units_exact = unit.units_for(fixed, profit)?;
            out.target_profit = Some(TargetResult {
                profit: present::money(profit),
                units_exact: present::units(units_exact),
                units: cvp::ceil_units(units_exact),
                revenue: present::money(unit.revenue_for(fixed, profit)?),
            });
        }
        if let Some(units) = leverage.or(actual).or(planned) {
            out.operating_leverage = Some(LeverageResult {
                units,
                degree: cvp::operating_leverage(unit, fixed, units)?.map(present::ratio),
            });
        }
        if let Some(steps) = steps {
            let g = sensitivity::grid(
                fixed,
                unit.price(),
                unit.variable_cost(),
                steps.clone(),
                steps,
            )?;
            out.sensitivity = Some(SensitivityResult {
                price_changes_percent: g.price_changes,
                variable_cost_changes_percent: g.variable_cost_changes,
                units: g.units,
            });
        }
        if let Some((units, revenue, to_date, start)) = run_rate {
            let per_month = match (units, revenue) {
                (Some(u), _) => u,
                (None, Some(rev)) => cvp::div(rev, unit.price())?,
                (None, None) => Decimal::ZERO,
            };
            let p = projection::project(point.units_exact, to_date, per_month, start)?;
            out.projection = Some(ProjectionResult {
                start,
                months: p.as_ref().map(|p| present::percent(p.months)),
                date: p.map(|p| p.date),
            });
        }
    }

    if !lines.is_empty()
        && let Some(fixed) = fixed
    {
        let b = mix::breakeven(&lines, fixed)?;
        margin_ratio = margin_ratio.or(Some(b.weighted_margin_ratio));
        out.sales_mix = Some(MixResult {
            weighted_contribution_margin: present::money(b.weighted_margin),
            weighted_price: present::money(b.weighted_price),
            weighted_contribution_margin_ratio: present::ratio(b.weighted_margin_ratio),
            composite_units_exact: present::units(b.composite_units_exact),
            composite_units: b.composite_units,
            revenue: present::money(b.revenue),
            products: b
                .products
                .into_iter()
                .map(|p| MixProductResult {
                    name: p.name,
                    units_exact: present::units(p.units_exact),
                    units: p.units,
                })
                .collect(),
        });
    }

    if req.marketing.is_some() {
        m.margin_ratio = margin_ratio.or(m.gross_margin);
        let k = marketing::compute(&m)?;
        out.marketing = Some(MarketingResult {
            breakeven_roas: k.breakeven_roas.map(present::ratio),
            contribution_per_order: k.contribution_per_order.map(present::money),
            breakeven_cpa: k.breakeven_cpa.map(present::money),
            allowable_cpa: k.allowable_cpa.map(present::money),
            cac_payback_months: k.cac_payback_months.map(present::percent),
            ltv: k.ltv.map(present::money),
            ltv_to_cac: k.ltv_to_cac.map(present::ratio),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    fn today() -> NaiveDate {
        "2025-01-01".parse().unwrap()
    }

    fn hicks() -> CalculateRequest {
        CalculateRequest {
            currency: "USD".into(),
            fixed_costs: s("18000"),
            price: s("100"),
            variable_cost: s("60"),
            ..Default::default()
        }
    }

    fn fields(r: Rejection) -> Vec<String> {
        match r {
            Rejection::Invalid(p) => p.errors.into_iter().map(|e| e.field).collect(),
            Rejection::Calc(e) => panic!("{e}"),
        }
    }

    #[test]
    fn hicks_blocks_appear_with_their_inputs() {
        let out = calculate(&hicks(), today()).unwrap();
        assert_eq!(out.breakeven.as_ref().unwrap().units, d("450"));
        assert_eq!(out.breakeven.unwrap().revenue.to_string(), "45000.00");
        assert!(out.margin_of_safety.is_none() && out.sales_mix.is_none());

        let req = CalculateRequest {
            actual_units: s("1000"),
            target_profit: s("16000"),
            ..hicks()
        };
        let out = calculate(&req, today()).unwrap();
        let mos = out.margin_of_safety.unwrap();
        assert_eq!((mos.basis.as_str(), mos.percent), ("actual", Some(d("55"))));
        assert_eq!(out.target_profit.unwrap().units, d("850"));
        assert_eq!(out.operating_leverage.unwrap().degree, Some(d("1.818182")));
    }

    #[test]
    fn unreachable_is_a_rejection_not_infinity() {
        let req = CalculateRequest {
            price: s("60"),
            ..hicks()
        };
        assert!(matches!(
            calculate(&req, today()),
            Err(Rejection::Calc(CalcError::Unreachable { .. }))
        ));
    }

    #[test]
    fn bad_fields_are_all_named() {
        let req = CalculateRequest {
            currency: "usd".into(),
            fixed_costs: s("-5"),
            price: s("ten"),
            ..hicks()
        };
        assert_eq!(
            fields(calculate(&req, today()).unwrap_err()),
            ["currency", "fixed_costs", "price"]
        );
        let req = CalculateRequest {
            products: Some(vec![
                MixProductInput {
                    price: "10".into(),
                    variable_cost: "5".into(),
                    mix: "0.5".into(),
                    currency: s("EUR"),
                    ..Default::default()
                },
                MixProductInput {
                    price: "10".into(),
                    variable_cost: "5".into(),
                    mix: "0.4".into(),
                    ..Default::default()
                },
            ]),
            ..hicks()
        };
        assert_eq!(
            fields(calculate(&req, today()).unwrap_err()),
            ["products[0].currency", "products"]
        );
    }

    #[test]
    fn marketing_alone_uses_the_gross_margin() {
        let req = CalculateRequest {
            currency: "EUR".into(),
            marketing: Some(MarketingInput {
                gross_margin: s("0.4"),
                average_order_value: s("80"),
                ..Default::default()
            }),
            ..Default::default()
        };
        let out = calculate(&req, today()).unwrap();
        let m = out.marketing.unwrap();
        assert_eq!(m.breakeven_roas, Some(d("2.5")));
        assert_eq!(m.breakeven_cpa, Some(d("32.00")));
    }

    #[test]
    fn projection_and_sensitivity() {
        let req = CalculateRequest {
            projection: Some(ProjectionInput {
                monthly_units: s("200"),
                ..Default::default()
            }),
            sensitivity: Some(SensitivityInput {
                range_percent: "10".into(),
                step_percent: "10".into(),
            }),
            ..hicks()
        };
        let out = calculate(&req, today()).unwrap();
        let p = out.projection.unwrap();
        assert_eq!(p.months, Some(d("2.25")));
        assert_eq!(p.date, Some("2025-03-09".parse().unwrap()));
        assert_eq!(out.sensitivity.unwrap().units[1][1], Some(d("450")));
    }
}
