//! Affiliate terms: the commission model and the cookie window.

use contracts::Currency;
use platform::validation::{FieldErrors, Invalid};
use rust_decimal::Decimal;

/// Cookie window when an affiliate has no terms of its own.
pub const DEFAULT_COOKIE_WINDOW_DAYS: i32 = 30;

/// An affiliate id as touches carry it in `affiliate_id`: trimmed, 1 to 512 characters,
/// without U+0000 (which PostgreSQL's text cannot hold).
pub fn affiliate_id(raw: &str) -> Result<String, Invalid> {
    let id = raw.trim();
    if id.is_empty() || id.chars().count() > 512 || id.contains('\0') {
        return Err(Invalid::field(
            "id",
            "must be 1 to 512 characters, without the NUL character (U+0000)",
        ));
    }
    Ok(id.to_string())
}

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

/// An affiliate's terms as received, before they are checked.
#[derive(Debug, Clone, Default)]
pub struct AffiliateDraft {
    pub name: Option<String>,
    /// `flat_cpa`, `flat_cpl` or `revenue_share`.
    pub model: String,
    pub amount: Option<Decimal>,
    pub revenue_share_percent: Option<Decimal>,
    pub currency: String,
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
    pub fn parse(input: AffiliateDraft) -> Result<Self, Invalid> {
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
        errors.check()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(model: &str, amount: &str, currency: &str) -> AffiliateDraft {
        let amount = (!amount.is_empty()).then(|| amount.parse().unwrap());
        AffiliateDraft {
            model: model.into(),
            amount,
            currency: currency.into(),
            ..AffiliateDraft::default()
        }
    }

    fn share(percent: &str) -> AffiliateDraft {
        AffiliateDraft {
            revenue_share_percent: Some(percent.parse().unwrap()),
            ..terms("revenue_share", "", "EUR")
        }
    }

    fn fields(r: Result<AffiliateTerms, Invalid>) -> Vec<String> {
        r.unwrap_err().0.into_iter().map(|e| e.field).collect()
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
        let cpa = AffiliateTerms::parse(terms("flat_cpa", "150", "EUR")).unwrap();
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
        let cpl = AffiliateTerms::parse(terms("flat_cpl", "12.50", "EUR")).unwrap();
        let c = cpl.commission(&figures());
        assert_eq!(
            (c.gross, c.clawback),
            (Decimal::new(8750, 2), Decimal::ZERO)
        );
        let share = AffiliateTerms::parse(AffiliateDraft {
            cookie_window_days: Some(7),
            ..share("10")
        })
        .unwrap();
        assert_eq!(share.cookie_window_days, 7);
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
        let r = AffiliateTerms::parse(AffiliateDraft {
            cookie_window_days: Some(0),
            ..terms("flat_cpa", "", "eur")
        });
        assert_eq!(fields(r), ["currency", "cookie_window_days", "amount"]);
        let r = AffiliateTerms::parse(share("101"));
        assert_eq!(fields(r), ["revenue_share_percent"]);
        let r = AffiliateTerms::parse(terms("cpm", "", "EUR"));
        assert_eq!(fields(r), ["model"]);
    }
}
