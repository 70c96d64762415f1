//! Affiliate terms: the commission model and the cookie window.

use contracts::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use platform::http::FieldErrors;

/// Cookie window when an affiliate has no terms of its own.
pub const DEFAULT_COOKIE_WINDOW_DAYS: i32 = 30;

/// How an affiliate is paid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CommissionModel {
    /// A fixed amount per conversion (won deal) in the cookie window.
    FlatCpa(Decimal),
    /// A fixed amount per lead referred.
    FlatCpl(Decimal),
    /// A percentage (0–100) of the value of each conversion in the cookie window.
    RevenueShare(Decimal),
}

/// Body of `PUT /v1/affiliates/{id}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AffiliateInput {
    pub name: Option<String>,
    /// `flat_cpa`, `flat_cpl` or `revenue_share`.
    pub model: String,
    /// Commission per conversion (`flat_cpa`) or per lead (`flat_cpl`), as a decimal string.
    #[schema(value_type = Option<String>, example = "150.00")]
    pub amount: Option<Decimal>,
    /// Share of conversion value for `revenue_share`, 0 to 100.
    #[schema(value_type = Option<String>, example = "10")]
    pub revenue_share_percent: Option<Decimal>,
    /// Currency of the commission.
    pub currency: String,
    /// Days after an affiliate touch in which a conversion counts (default 30).
    pub cookie_window_days: Option<i32>,
}

/// An affiliate's validated terms.
#[derive(Debug, Clone, PartialEq)]
pub struct AffiliateTerms {
    pub name: Option<String>,
    pub model: CommissionModel,
    pub currency: Currency,
    pub cookie_window_days: i32,
}

/// The figures an affiliate is paid on, for one reporting window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AffiliateFigures {
    pub leads: i64,
    pub conversions: i64,
    pub conversion_value: Decimal,
    /// Counted conversions whose deal was later lost.
    pub clawed_back_conversions: i64,
    pub clawed_back_value: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Commission {
    pub gross: Decimal,
    pub clawback: Decimal,
    pub net: Decimal,
}

impl AffiliateTerms {
    pub fn parse(input: AffiliateInput) -> Result<Self, platform::Problem> {
        let mut errors = FieldErrors::new();
        let currency = errors.take("currency", Currency::parse(input.currency.trim()));
        let window = input
            .cookie_window_days
            .unwrap_or(DEFAULT_COOKIE_WINDOW_DAYS);
        if !(1..=3650).contains(&window) {
            errors.add("cookie_window_days", "must be from 1 to 3650");
        }
        let amount = |errors: &mut FieldErrors| match input.amount {
            Some(a) if a.is_sign_negative() && !a.is_zero() => {
                errors.add("amount", "must not be negative");
                None
            }
            Some(a) => Some(a),
            None => {
                errors.add("amount", format!("is required for {}", input.model));
                None
            }
        };
        let model = match input.model.as_str() {
            "flat_cpa" => amount(&mut errors).map(CommissionModel::FlatCpa),
            "flat_cpl" => amount(&mut errors).map(CommissionModel::FlatCpl),
            "revenue_share" => match input.revenue_share_percent {
                Some(p) if p >= Decimal::ZERO && p <= Decimal::ONE_HUNDRED => {
                    Some(CommissionModel::RevenueShare(p))
                }
                Some(_) => {
                    errors.add("revenue_share_percent", "must be from 0 to 100");
                    None
                }
                None => {
                    errors.add("revenue_share_percent", "is required for revenue_share");
                    None
                }
            },
            _ => {
                errors.add("model", "must be one of flat_cpa, flat_cpl, revenue_share");
                None
            }
        };
        errors.finish()?;
        Ok(AffiliateTerms {
            name: input
                .name
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty()),
            model: model.expect("checked above"),
            currency: currency.expect("checked above"),
            cookie_window_days: window,
        })
    }

    pub fn model_name(&self) -> &'static str {
        match self.model {
            CommissionModel::FlatCpa(_) => "flat_cpa",
            CommissionModel::FlatCpl(_) => "flat_cpl",
            CommissionModel::RevenueShare(_) => "revenue_share",
        }
    }

    /// Gross commission, the clawback of conversions whose deal was later lost, and net.
    /// A per-lead commission is never clawed back: the lead was delivered.
    pub fn commission(&self, f: &AffiliateFigures) -> Commission {
        let (gross, clawback) = match self.model {
            CommissionModel::FlatCpa(a) => (
                a * Decimal::from(f.conversions),
                a * Decimal::from(f.clawed_back_conversions),
            ),
            CommissionModel::FlatCpl(a) => (a * Decimal::from(f.leads), Decimal::ZERO),
            CommissionModel::RevenueShare(p) => (
                f.conversion_value * p / Decimal::ONE_HUNDRED,
                f.clawed_back_value * p / Decimal::ONE_HUNDRED,
            ),
        };
        let (gross, clawback) = (gross.round_dp(2), clawback.round_dp(2));
        Commission {
            gross,
            clawback,
            net: gross - clawback,
        }
    }
}

/// Terms as stored and returned.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AffiliateResponse {
    pub id: String,
    pub name: Option<String>,
    pub model: String,
    #[schema(value_type = Option<String>)]
    pub amount: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub revenue_share_percent: Option<Decimal>,
    pub currency: String,
    pub cookie_window_days: i32,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(json: serde_json::Value) -> Result<AffiliateTerms, platform::Problem> {
        AffiliateTerms::parse(serde_json::from_value(json).unwrap())
    }

    fn figures() -> AffiliateFigures {
        AffiliateFigures {
            leads: 7,
            conversions: 3,
            conversion_value: Decimal::new(1000000, 2),
            clawed_back_conversions: 1,
            clawed_back_value: Decimal::new(250000, 2),
        }
    }

    #[test]
    fn commission_under_each_model() {
        let cpa =
            terms(serde_json::json!({"model": "flat_cpa", "amount": "150", "currency": "EUR"}))
                .unwrap();
        assert_eq!(cpa.cookie_window_days, 30);
        let c = cpa.commission(&figures());
        assert_eq!(
            (c.gross, c.clawback, c.net),
            (
                Decimal::new(450, 0),
                Decimal::new(150, 0),
                Decimal::new(300, 0)
            )
        );
        let cpl =
            terms(serde_json::json!({"model": "flat_cpl", "amount": "12.50", "currency": "EUR"}))
                .unwrap();
        let c = cpl.commission(&figures());
        assert_eq!(
            (c.gross, c.clawback),
            (Decimal::new(8750, 2), Decimal::ZERO)
        );
        let share = terms(serde_json::json!({"model": "revenue_share", "revenue_share_percent": "10", "currency": "EUR", "cookie_window_days": 7})).unwrap();
        let c = share.commission(&figures());
        // 10% of 10,000.00 and of 2,500.00.
        assert_eq!(
            (c.gross, c.clawback, c.net),
            (
                Decimal::new(1000, 0),
                Decimal::new(250, 0),
                Decimal::new(750, 0)
            )
        );
    }

    #[test]
    fn invalid_terms_name_their_fields() {
        let p = terms(
            serde_json::json!({"model": "flat_cpa", "currency": "eur", "cookie_window_days": 0}),
        )
        .unwrap_err();
        let f: Vec<_> = p.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(f, ["currency", "cookie_window_days", "amount"]);
        let p = terms(serde_json::json!({"model": "revenue_share", "revenue_share_percent": "101", "currency": "EUR"})).unwrap_err();
        assert_eq!(p.errors[0].field, "revenue_share_percent");
        let p = terms(serde_json::json!({"model": "cpm", "currency": "EUR"})).unwrap_err();
        assert_eq!(p.errors[0].field, "model");
    }
}
