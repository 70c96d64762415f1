//! Deals: what a client asks to open, validated into a `NewDeal`.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use contracts::funnel::{METHODOLOGIES, ProductLine, STAKEHOLDER_ROLES, Stakeholder};
use contracts::money::Currency;
use platform::validation::{FieldErrors, Invalid};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::funnel::FunnelDef;

/// Breakdown attributes a deal may carry; anything else in `attributes` is refused so that
/// a typo does not silently create a new dimension.
pub const ATTRIBUTES: [&str; 5] = ["source", "campaign", "channel", "owner", "segment"];

/// A member of the buying group before validation.
#[derive(Debug, Clone, Default)]
pub struct StakeholderInput {
    pub person: Option<String>,
    pub role: Option<String>,
}

/// A product line before validation; `amount` is a decimal string.
#[derive(Debug, Clone, Default)]
pub struct ProductInput {
    pub product_id: Option<String>,
    pub units: Option<u64>,
    pub amount: Option<String>,
}

/// A deal to open, before validation: what `POST /v1/deals` carries, or what an import
/// line or a lead event says.
#[derive(Debug, Clone, Default)]
pub struct DealInput {
    pub funnel_id: Option<Uuid>,
    pub external_id: Option<String>,
    pub lead_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub campaign_id: Option<String>,
    /// Decimal string; needs `currency`.
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub expected_close: Option<NaiveDate>,
    pub owner: Option<String>,
    /// `none` by default.
    pub methodology: Option<String>,
    pub stakeholders: Option<Vec<StakeholderInput>>,
    pub products: Option<Vec<ProductInput>>,
    pub attributes: Option<BTreeMap<String, String>>,
    /// The stage the deal opens in; the funnel's first stage by default.
    pub stage: Option<String>,
    /// When the deal opened; now by default.
    pub opened_at: Option<DateTime<Utc>>,
}

/// Why a valid deal cannot open as asked in its funnel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("no such funnel")]
    NoSuchFunnel,
    #[error("'{0}' is not a stage of this funnel")]
    UnknownStage(String),
    #[error("a deal cannot open closed")]
    OpensClosed,
    #[error("is in the future")]
    InFuture,
}

/// A validated deal, ready to store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewDeal {
    pub funnel_id: Uuid,
    pub external_id: Option<String>,
    pub lead_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub campaign_id: Option<String>,
    pub amount: Option<(Decimal, Currency)>,
    pub expected_close: Option<NaiveDate>,
    pub owner: Option<String>,
    pub methodology: String,
    pub stakeholders: Vec<Stakeholder>,
    pub products: Vec<ProductLine>,
    pub attributes: BTreeMap<String, String>,
    pub stage: Option<String>,
    pub opened_at: Option<DateTime<Utc>>,
}

fn text(errors: &mut FieldErrors, field: &str, v: Option<String>, max: usize) -> Option<String> {
    let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())?;
    if v.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
        return None;
    }
    Some(v)
}

/// A non-negative decimal string.
pub fn amount(s: &str) -> Result<Decimal, String> {
    let d: Decimal = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a decimal number"))?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err("must not be negative".into());
    }
    Ok(d)
}

/// Amount and currency: both or neither.
pub fn money(
    errors: &mut FieldErrors,
    amount_field: &str,
    a: Option<String>,
    c: Option<String>,
) -> Option<(Decimal, Currency)> {
    let a = a.and_then(|a| errors.take(amount_field, amount(&a)));
    let c = c.and_then(|c| errors.take("currency", Currency::parse(&c)));
    match (a, c) {
        (Some(a), Some(c)) => Some((a, c)),
        (Some(_), None) if !errors.has("currency") => {
            errors.add("currency", "is required with an amount");
            None
        }
        _ => None,
    }
}

impl NewDeal {
    pub fn parse(input: DealInput) -> Result<NewDeal, Invalid> {
        let mut errors = FieldErrors::new();
        let funnel_id = errors.require("funnel_id", input.funnel_id);
        let external_id = text(&mut errors, "external_id", input.external_id, 200);
        let campaign_id = text(&mut errors, "campaign_id", input.campaign_id, 200);
        let owner = text(&mut errors, "owner", input.owner, 200);
        let amount = money(&mut errors, "amount", input.amount, input.currency);
        let methodology = input.methodology.unwrap_or_else(|| "none".into());
        if !METHODOLOGIES.contains(&methodology.as_str()) {
            errors.add(
                "methodology",
                format!("must be one of {}", METHODOLOGIES.join(", ")),
            );
        }
        let mut stakeholders = Vec::new();
        for (i, s) in input
            .stakeholders
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let person = text(
                &mut errors,
                &format!("stakeholders[{i}].person"),
                s.person,
                200,
            );
            if person.is_none() {
                errors.add(&format!("stakeholders[{i}].person"), "is required");
            }
            let role = s.role.unwrap_or_default();
            if !STAKEHOLDER_ROLES.contains(&role.as_str()) {
                errors.add(
                    &format!("stakeholders[{i}].role"),
                    format!("must be one of {}", STAKEHOLDER_ROLES.join(", ")),
                );
            }
            if let Some(person) = person {
                stakeholders.push(Stakeholder { person, role });
            }
        }
        let products = products(&mut errors, input.products.unwrap_or_default());
        let attributes = input.attributes.unwrap_or_default();
        for k in attributes.keys() {
            if !ATTRIBUTES.contains(&k.as_str()) {
                errors.add(
                    &format!("attributes.{k}"),
                    format!("is not one of {}", ATTRIBUTES.join(", ")),
                );
            }
        }
        errors.check()?;
        Ok(NewDeal {
            funnel_id: funnel_id.unwrap_or_default(),
            external_id,
            lead_id: input.lead_id,
            account_id: input.account_id,
            campaign_id,
            amount,
            expected_close: input.expected_close,
            owner,
            methodology,
            stakeholders,
            products,
            attributes,
            stage: input.stage,
            opened_at: input.opened_at,
        })
    }

    /// The stage the deal opens in and when: a stage of `def` that is not terminal (the
    /// first by default), at a time not in the future (now by default).
    pub fn opening(
        &self,
        def: &FunnelDef,
        now: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>), OpenError> {
        let stage = self
            .stage
            .clone()
            .unwrap_or_else(|| def.first_stage().to_string());
        if def.index_of(&stage).is_none() {
            return Err(OpenError::UnknownStage(stage));
        }
        if def.is_terminal(&stage) {
            return Err(OpenError::OpensClosed);
        }
        let opened_at = self.opened_at.unwrap_or(now);
        // A little clock skew between a client and us is not "the future".
        if opened_at > now + Duration::seconds(5) {
            return Err(OpenError::InFuture);
        }
        Ok((stage, opened_at))
    }
}

pub fn products(errors: &mut FieldErrors, inputs: Vec<ProductInput>) -> Vec<ProductLine> {
    let mut lines = Vec::new();
    for (i, p) in inputs.into_iter().enumerate() {
        let field = |f: &str| format!("products[{i}].{f}");
        let id = errors.require(&field("product_id"), p.product_id);
        let units = errors.require(&field("units"), p.units);
        let amount = p
            .amount
            .and_then(|a| errors.take(&field("amount"), amount(&a)));
        if let (Some(product_id), Some(units)) = (id, units) {
            lines.push(ProductLine {
                product_id,
                units,
                amount,
            });
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_bad_field() {
        let input = DealInput {
            amount: Some("-5".into()),
            methodology: Some("vibes".into()),
            stakeholders: Some(vec![StakeholderInput {
                person: Some("Ann".into()),
                role: Some("boss".into()),
            }]),
            attributes: Some([("colour".to_string(), "red".to_string())].into()),
            ..Default::default()
        };
        let invalid = NewDeal::parse(input).unwrap_err();
        let fields: Vec<_> = invalid.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "funnel_id",
                "amount",
                "methodology",
                "stakeholders[0].role",
                "attributes.colour"
            ]
        );
    }

    #[test]
    fn opens_in_a_stage_that_is_not_terminal_and_not_in_the_future() {
        use crate::domain::funnel::{FunnelInput, StageInput};
        let stage = |n: &str| StageInput {
            name: Some(n.into()),
            ..Default::default()
        };
        let def = FunnelDef::parse(FunnelInput {
            name: Some("f".into()),
            stages: Some(vec![stage("a"), stage("b"), stage("won")]),
            open_on_lead_created: None,
        })
        .unwrap();
        let now = Utc::now();
        let deal = |stage: Option<&str>, opened_at| NewDeal {
            stage: stage.map(str::to_string),
            opened_at,
            ..Default::default()
        };
        assert_eq!(deal(None, None).opening(&def, now), Ok(("a".into(), now)));
        assert_eq!(
            deal(Some("b"), None).opening(&def, now),
            Ok(("b".into(), now))
        );
        assert_eq!(
            deal(Some("c"), None).opening(&def, now),
            Err(OpenError::UnknownStage("c".into()))
        );
        assert_eq!(
            deal(Some("won"), None).opening(&def, now),
            Err(OpenError::OpensClosed)
        );
        assert_eq!(
            deal(None, Some(now + Duration::hours(1))).opening(&def, now),
            Err(OpenError::InFuture)
        );
    }

    #[test]
    fn amount_needs_currency() {
        let input = DealInput {
            funnel_id: Some(Uuid::nil()),
            amount: Some("10.50".into()),
            ..Default::default()
        };
        let invalid = NewDeal::parse(input).unwrap_err();
        assert_eq!(
            invalid,
            Invalid::field("currency", "is required with an amount")
        );
        let ok = NewDeal::parse(DealInput {
            funnel_id: Some(Uuid::nil()),
            amount: Some("10.50".into()),
            currency: Some("EUR".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok.amount.unwrap().0, Decimal::new(1050, 2));
    }
}
