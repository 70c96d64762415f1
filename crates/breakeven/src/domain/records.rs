//! What the service stores about the business: products, fixed-cost items and campaigns,
//! each parsed from its draft (the fields as given) into a validated form.

use chrono::NaiveDate;
use contracts::Currency;
use platform::validation::{FieldErrors, Invalid};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::cvp::div;
use super::input::Reader;
use super::mix;

/// A product as given: decimal strings and a currency code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductDraft {
    pub name: String,
    pub price: String,
    pub variable_cost: String,
    pub currency: String,
}

/// A product: price and variable cost per unit, in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub name: String,
    pub price: Decimal,
    pub variable_cost: Decimal,
    pub currency: Currency,
}

impl TryFrom<&ProductDraft> for Product {
    type Error = Invalid;

    fn try_from(i: &ProductDraft) -> Result<Self, Invalid> {
        let mut r = Reader::new();
        let name = r.errors.take("name", text(&i.name));
        let price = r.amount("price", Some(&i.price));
        let variable_cost = r.amount("variable_cost", Some(&i.variable_cost));
        let currency = r.currency("currency", Some(&i.currency));
        let ((name, price), (variable_cost, currency)) =
            r.finish(name.zip(price).zip(variable_cost.zip(currency)))?;
        Ok(Product {
            name,
            price,
            variable_cost,
            currency,
        })
    }
}

/// A product as the catalogue prices it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedProduct {
    pub id: Uuid,
    pub price: Decimal,
    pub variable_cost: Decimal,
    pub currency: String,
}

/// How often a fixed cost falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Month,
    Quarter,
    Year,
}

impl Period {
    pub fn parse(s: &str) -> Result<Period, String> {
        match s {
            "month" => Ok(Period::Month),
            "quarter" => Ok(Period::Quarter),
            "year" => Ok(Period::Year),
            other => Err(format!(
                "{other:?} is not a period; expected month, quarter or year"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Year => "year",
        }
    }

    pub fn months(self) -> Decimal {
        match self {
            Period::Month => Decimal::ONE,
            Period::Quarter => Decimal::from(3),
            Period::Year => Decimal::from(12),
        }
    }

    /// `amount` per this period expressed per month (company periods are months).
    pub fn monthly(self, amount: Decimal) -> Decimal {
        div(amount, self.months()).unwrap_or(amount)
    }
}

/// A fixed-cost item as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixedCostDraft {
    pub name: String,
    pub amount: String,
    pub period: String,
    pub currency: String,
}

/// A fixed-cost item: rent, salaries, tools; an amount per period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedCost {
    pub name: String,
    pub amount: Decimal,
    pub period: Period,
    pub currency: Currency,
}

impl TryFrom<&FixedCostDraft> for FixedCost {
    type Error = Invalid;

    fn try_from(i: &FixedCostDraft) -> Result<Self, Invalid> {
        let mut r = Reader::new();
        let name = r.errors.take("name", text(&i.name));
        let amount = r.amount("amount", Some(&i.amount));
        let period = r.errors.take("period", Period::parse(&i.period));
        let currency = r.currency("currency", Some(&i.currency));
        let ((name, amount), (period, currency)) =
            r.finish(name.zip(amount).zip(period.zip(currency)))?;
        Ok(FixedCost {
            name,
            amount,
            period,
            currency,
        })
    }
}

/// A campaign as given: its id (generated when `None`), decimal strings, and its product
/// mix as product ids with their shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignDraft {
    pub id: Option<String>,
    pub name: String,
    pub budget: String,
    pub currency: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub product_mix: Vec<(Uuid, String)>,
    pub risk_threshold: Option<String>,
}

/// A campaign: a budget over dates, selling a mix of products.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: String,
    pub name: String,
    pub budget: Decimal,
    pub currency: Currency,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub product_mix: Vec<(Uuid, Decimal)>,
    pub risk_threshold: Decimal,
}

impl Campaign {
    /// Parses a campaign; `default_threshold` applies when the draft names none.
    pub fn parse(i: &CampaignDraft, default_threshold: Decimal) -> Result<Campaign, Invalid> {
        let mut r = Reader::new();
        let id = match &i.id {
            Some(id) => r.errors.take("id", campaign_id(id)),
            None => Some(Uuid::now_v7().to_string()),
        };
        let name = r.errors.take("name", text(&i.name));
        let budget = r.amount("budget", Some(&i.budget));
        let currency = r.currency("currency", Some(&i.currency));
        if i.ends_on < i.starts_on {
            r.errors.add("ends_on", "must not be before starts_on");
        }
        if i.product_mix.is_empty() {
            r.errors
                .add("product_mix", "must name at least one product");
        }
        let mut shares = Vec::new();
        for (n, (product_id, share)) in i.product_mix.iter().enumerate() {
            if let Some(s) = r.share(&format!("product_mix[{n}].share"), Some(share)) {
                shares.push((*product_id, s));
            }
        }
        if shares.len() == i.product_mix.len()
            && !shares.is_empty()
            && let Err(sum) = mix::check_shares(&shares.iter().map(|s| s.1).collect::<Vec<_>>())
        {
            r.errors.add(
                "product_mix",
                format!("the sales mix must sum to 1; it sums to {sum}"),
            );
        }
        let threshold = match &i.risk_threshold {
            Some(t) => r.share("risk_threshold", Some(t)),
            None => Some(default_threshold),
        };
        let (((id, name), (budget, currency)), risk_threshold) =
            r.finish(id.zip(name).zip(budget.zip(currency)).zip(threshold))?;
        Ok(Campaign {
            id,
            name,
            budget,
            currency,
            starts_on: i.starts_on,
            ends_on: i.ends_on,
            product_mix: shares,
            risk_threshold,
        })
    }
}

impl Campaign {
    /// Every product of the mix must be in the catalogue (`known`) and priced in the
    /// campaign's currency.
    pub fn check_products(&self, known: &[PricedProduct]) -> Result<(), Invalid> {
        let mut errors = FieldErrors::new();
        for (i, (id, _)) in self.product_mix.iter().enumerate() {
            let field = format!("product_mix[{i}].product_id");
            match known.iter().find(|p| p.id == *id) {
                None => errors.add(&field, "does not name an existing product"),
                Some(p) if p.currency != self.currency.as_str() => errors.add(
                    &field,
                    format!(
                        "currency mismatch: the product is priced in {}, the campaign in {}",
                        p.currency, self.currency
                    ),
                ),
                Some(_) => {}
            }
        }
        errors.check()
    }
}

/// A campaign id as the other services send it in `campaign_id`.
pub fn campaign_id(raw: &str) -> Result<String, String> {
    let ok = !raw.is_empty()
        && raw.len() <= 100
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(raw.to_string())
    } else {
        Err("must be 1 to 100 letters, digits, '-', '_' or '.'".into())
    }
}

fn text(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if t.is_empty() {
        Err("must not be empty".into())
    } else if t.chars().count() > 200 {
        Err("must be at most 200 characters".into())
    } else {
        Ok(t.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign() -> CampaignDraft {
        CampaignDraft {
            id: Some("spring-25".into()),
            name: "Spring".into(),
            budget: "1000".into(),
            currency: "USD".into(),
            starts_on: "2025-03-01".parse().unwrap(),
            ends_on: "2025-03-31".parse().unwrap(),
            product_mix: vec![(Uuid::nil(), "1".into())],
            risk_threshold: None,
        }
    }

    #[test]
    fn campaign_defaults_and_errors() {
        let c = Campaign::parse(&campaign(), Decimal::new(5, 1)).unwrap();
        assert_eq!(c.risk_threshold, Decimal::new(5, 1));
        let bad = CampaignDraft {
            id: Some("no spaces".into()),
            budget: "-1".into(),
            ends_on: "2025-02-01".parse().unwrap(),
            product_mix: vec![(Uuid::nil(), "0.9".into())],
            ..campaign()
        };
        let invalid = Campaign::parse(&bad, Decimal::new(5, 1)).unwrap_err();
        let fields: Vec<&str> = invalid.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["id", "budget", "ends_on", "product_mix"]);
    }

    #[test]
    fn the_mix_must_name_known_products_in_the_campaign_currency() {
        let c = Campaign::parse(&campaign(), Decimal::new(5, 1)).unwrap();
        let priced = |currency: &str| PricedProduct {
            id: Uuid::nil(),
            price: Decimal::from(100),
            variable_cost: Decimal::from(60),
            currency: currency.into(),
        };
        assert_eq!(c.check_products(&[priced("USD")]), Ok(()));
        let unknown = c.check_products(&[]).unwrap_err();
        assert_eq!(unknown.0[0].field, "product_mix[0].product_id");
        assert_eq!(unknown.0[0].message, "does not name an existing product");
        let euro = c.check_products(&[priced("EUR")]).unwrap_err();
        assert_eq!(
            euro.0[0].message,
            "currency mismatch: the product is priced in EUR, the campaign in USD"
        );
    }

    #[test]
    fn periods_to_months() {
        assert_eq!(
            Period::parse("year").unwrap().monthly(Decimal::from(1200)),
            Decimal::from(100)
        );
        assert!(Period::parse("week").is_err());
    }
}
