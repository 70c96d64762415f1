//! Deals: what a client asks to open, validated into a `NewDeal`, and the terms a PATCH
//! may change, validated into `Terms`.

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
        let methodology = methodology(&mut errors, input.methodology);
        let stakeholders = stakeholders(&mut errors, input.stakeholders.unwrap_or_default());
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

/// One of `METHODOLOGIES`, `none` when absent.
fn methodology(errors: &mut FieldErrors, m: Option<String>) -> String {
    let m = m.unwrap_or_else(|| "none".into());
    if !METHODOLOGIES.contains(&m.as_str()) {
        errors.add(
            "methodology",
            format!("must be one of {}", METHODOLOGIES.join(", ")),
        );
    }
    m
}

/// The buying group: each member named, with one of `STAKEHOLDER_ROLES`.
fn stakeholders(errors: &mut FieldErrors, inputs: Vec<StakeholderInput>) -> Vec<Stakeholder> {
    let mut out = Vec::new();
    for (i, s) in inputs.into_iter().enumerate() {
        let person = text(errors, &format!("stakeholders[{i}].person"), s.person, 200);
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
            out.push(Stakeholder { person, role });
        }
    }
    out
}

/// A deal's terms as a PATCH leaves them, before validation: the current terms with the
/// patch merged on.
#[derive(Debug, Clone, Default)]
pub struct TermsInput {
    /// Decimal string; needs `currency`.
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub owner: Option<String>,
    pub expected_close: Option<NaiveDate>,
    pub methodology: Option<String>,
    pub stakeholders: Option<Vec<StakeholderInput>>,
}

/// The terms of a deal a PATCH may change, validated. The rest of a deal is fixed when it
/// opens (funnel, ids, attributes) or changed by its moves (stage, products).
#[derive(Debug, Clone, PartialEq)]
pub struct Terms {
    pub amount: Option<(Decimal, Currency)>,
    pub owner: Option<String>,
    pub expected_close: Option<NaiveDate>,
    pub methodology: String,
    pub stakeholders: Vec<Stakeholder>,
}

impl Terms {
    /// The terms a PATCH makes of these: `merged` is these terms with the patch merged on,
    /// `sent` the fields the patch names. The rules of a deal's opening apply, and two more:
    /// amount and currency are sent together (both, or neither; both null clears the value),
    /// so that an amount is never read in a currency it was not meant in; and a won deal's
    /// value is fixed, because `deal.won` already carried it to attribution and break-even.
    pub fn revise(&self, merged: TermsInput, sent: &[String], won: bool) -> Result<Terms, Invalid> {
        let mut errors = FieldErrors::new();
        let has = |f: &str| sent.iter().any(|s| s == f);
        match (has("amount"), has("currency")) {
            (true, false) => errors.add("currency", "is required with amount: send both"),
            (false, true) => errors.add("amount", "is required with currency: send both"),
            _ => {}
        }
        let owner = text(&mut errors, "owner", merged.owner, 200);
        let amount = match (merged.amount, merged.currency) {
            (None, None) => None,
            (None, Some(_)) if !errors.has("amount") => {
                errors.add("amount", "is required with a currency");
                None
            }
            (a, c) => money(&mut errors, "amount", a, c),
        };
        let methodology = methodology(&mut errors, merged.methodology);
        let stakeholders = stakeholders(&mut errors, merged.stakeholders.unwrap_or_default());
        if won && amount != self.amount && !errors.has("amount") && !errors.has("currency") {
            errors.add(
                "amount",
                "is fixed once the deal is won: deal.won carried it to attribution and break-even",
            );
        }
        errors.check()?;
        Ok(Terms {
            amount,
            owner,
            expected_close: merged.expected_close,
            methodology,
            stakeholders,
        })
    }

    /// The names of the fields `after` changes, in the order of the API.
    pub fn changed(&self, after: &Terms) -> Vec<String> {
        let (a, b) = (self.amount.as_ref(), after.amount.as_ref());
        let mut out = Vec::new();
        // 1000 and 1000.00 are one value: a changed scale is not a change.
        if a.map(|m| m.0) != b.map(|m| m.0) {
            out.push("amount");
        }
        if a.map(|m| &m.1) != b.map(|m| &m.1) {
            out.push("currency");
        }
        if self.owner != after.owner {
            out.push("owner");
        }
        if self.expected_close != after.expected_close {
            out.push("expected_close");
        }
        if self.methodology != after.methodology {
            out.push("methodology");
        }
        if self.stakeholders != after.stakeholders {
            out.push("stakeholders");
        }
        out.into_iter().map(str::to_string).collect()
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

    fn terms() -> Terms {
        Terms {
            amount: Some((Decimal::new(100_000, 2), Currency::parse("EUR").unwrap())),
            owner: Some("ann".into()),
            expected_close: None,
            methodology: "none".into(),
            stakeholders: Vec::new(),
        }
    }

    fn merged(amount: Option<&str>, currency: Option<&str>) -> TermsInput {
        TermsInput {
            amount: amount.map(str::to_string),
            currency: currency.map(str::to_string),
            owner: Some("ann".into()),
            methodology: Some("spin".into()),
            ..Default::default()
        }
    }

    fn sent(fields: &[&str]) -> Vec<String> {
        fields.iter().map(|f| f.to_string()).collect()
    }

    #[test]
    fn a_patch_sends_amount_and_currency_together() {
        let t = terms();
        let err = t
            .revise(merged(Some("5"), Some("EUR")), &sent(&["amount"]), false)
            .unwrap_err();
        assert_eq!(
            err,
            Invalid::field("currency", "is required with amount: send both")
        );
        let err = t
            .revise(
                merged(Some("1000"), Some("USD")),
                &sent(&["currency"]),
                false,
            )
            .unwrap_err();
        assert_eq!(
            err,
            Invalid::field("amount", "is required with currency: send both")
        );
        let after = t
            .revise(
                merged(Some("5"), Some("USD")),
                &sent(&["amount", "currency"]),
                false,
            )
            .unwrap();
        assert_eq!(after.changed(&t), ["amount", "currency", "methodology"]);
        let cleared = t
            .revise(merged(None, None), &sent(&["amount", "currency"]), false)
            .unwrap();
        assert_eq!(cleared.amount, None);
    }

    #[test]
    fn a_won_deal_keeps_its_value_but_not_its_other_terms() {
        let t = terms();
        let err = t
            .revise(
                merged(Some("5"), Some("EUR")),
                &sent(&["amount", "currency"]),
                true,
            )
            .unwrap_err();
        assert_eq!(err.0[0].field, "amount");
        // The same value at another scale is no change.
        let after = t
            .revise(
                merged(Some("1000"), Some("EUR")),
                &sent(&["amount", "currency"]),
                true,
            )
            .unwrap();
        assert_eq!(t.changed(&after), ["methodology"]);
    }

    #[test]
    fn an_unknown_methodology_or_role_is_named() {
        let mut m = merged(None, None);
        m.methodology = Some("vibes".into());
        m.stakeholders = Some(vec![StakeholderInput {
            person: Some("Ann".into()),
            role: Some("boss".into()),
        }]);
        let err = terms()
            .revise(m, &sent(&["methodology"]), false)
            .unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["methodology", "stakeholders[0].role"]);
    }
}
