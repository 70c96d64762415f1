//! Accounts: the companies we sell to, with their ABM tier and target flag.

use std::fmt;
use std::str::FromStr;

use contracts::money::{Currency, Money};
use platform::validation::{FieldErrors, Invalid};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::email::normalise_domain;
use super::lead::text;

/// Account-based-marketing tier: how individually an account is marketed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbmTier {
    OneToOne,
    OneToFew,
    OneToMany,
    None,
}

impl AbmTier {
    pub const ALL: [AbmTier; 4] = [
        AbmTier::OneToOne,
        AbmTier::OneToFew,
        AbmTier::OneToMany,
        AbmTier::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AbmTier::OneToOne => "one_to_one",
            AbmTier::OneToFew => "one_to_few",
            AbmTier::OneToMany => "one_to_many",
            AbmTier::None => "none",
        }
    }
}

impl fmt::Display for AbmTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AbmTier {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        AbmTier::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| "must be one of one_to_one, one_to_few, one_to_many, none".to_string())
    }
}

/// A money amount as a client sent it: a decimal string and an ISO 4217 code, unchecked.
#[derive(Debug, Clone, Default)]
pub struct MoneyDraft {
    pub amount: Option<String>,
    pub currency: Option<String>,
}

/// An account as a client sent it (on create, or the merged result of a PATCH), unchecked.
#[derive(Debug, Clone, Default)]
pub struct AccountDraft {
    pub name: Option<String>,
    pub domains: Option<Vec<String>>,
    pub industry: Option<String>,
    pub employees: Option<i64>,
    pub annual_revenue: Option<MoneyDraft>,
    pub region: Option<String>,
    pub abm_tier: Option<String>,
    pub target: Option<bool>,
    pub owner: Option<String>,
}

/// A validated account.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAccount {
    pub name: String,
    pub domains: Vec<String>,
    pub industry: Option<String>,
    pub employees: Option<i32>,
    pub annual_revenue: Option<Money>,
    pub region: Option<String>,
    pub abm_tier: AbmTier,
    pub target: bool,
    pub owner: Option<String>,
}

impl NewAccount {
    /// Checks every field and reports all the invalid ones together.
    pub fn parse(input: AccountDraft) -> Result<NewAccount, Invalid> {
        let mut errors = FieldErrors::new();
        let name = text(&mut errors, "name", input.name, 300);
        if name.is_none() && !errors.has("name") {
            errors.add("name", "is required");
        }
        let mut domains = Vec::new();
        for (i, d) in input.domains.unwrap_or_default().iter().enumerate() {
            if let Some(d) = errors.take(&format!("domains[{i}]"), normalise_domain(d)) {
                if domains.contains(&d) {
                    errors.add(&format!("domains[{i}]"), "is listed twice");
                } else {
                    domains.push(d);
                }
            }
        }
        let industry = text(&mut errors, "industry", input.industry, 100).map(|s| s.to_lowercase());
        let employees = input.employees.and_then(|n| {
            errors.take(
                "employees",
                i32::try_from(n)
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| "must be a whole number from 0".to_string()),
            )
        });
        let annual_revenue = input
            .annual_revenue
            .and_then(|m| parse_money(&mut errors, "annual_revenue", m));
        let region = text(&mut errors, "region", input.region, 50).map(|s| s.to_lowercase());
        let abm_tier = match input.abm_tier {
            None => Some(AbmTier::None),
            Some(t) => errors.take("abm_tier", t.parse()),
        };
        let owner = text(&mut errors, "owner", input.owner, 200);
        errors.check()?;
        Ok(NewAccount {
            name: name.expect("checked"),
            domains,
            industry,
            employees,
            annual_revenue,
            region,
            abm_tier: abm_tier.expect("checked"),
            target: input.target.unwrap_or(false),
            owner,
        })
    }
}

/// A non-negative decimal amount with its currency; errors name `<field>.amount` or
/// `<field>.currency`.
pub fn parse_money(errors: &mut FieldErrors, field: &str, m: MoneyDraft) -> Option<Money> {
    let amount = errors
        .require(&format!("{field}.amount"), m.amount)
        .and_then(|a| {
            errors.take(
                &format!("{field}.amount"),
                Decimal::from_str_exact(a.trim())
                    .map_err(|_| "must be a decimal number in a string, e.g. \"1250.00\"".into())
                    .and_then(|d| {
                        if d.is_sign_negative() {
                            Err("must not be negative".to_string())
                        } else {
                            Ok(d)
                        }
                    }),
            )
        });
    let currency = errors
        .require(&format!("{field}.currency"), m.currency)
        .and_then(|c| errors.take(&format!("{field}.currency"), Currency::parse(&c)));
    Some(Money::new(amount?, currency?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> AccountDraft {
        AccountDraft {
            name: Some("Northwind".into()),
            domains: Some(vec![
                "Northwind.example".into(),
                "https://www.nw.example/".into(),
            ]),
            abm_tier: Some("one_to_few".into()),
            target: Some(true),
            ..Default::default()
        }
    }

    #[test]
    fn parses_and_normalises() {
        let a = NewAccount::parse(input()).unwrap();
        assert_eq!(a.domains, ["northwind.example", "nw.example"]);
        assert_eq!(a.abm_tier, AbmTier::OneToFew);
        assert!(a.target);
    }

    #[test]
    fn reports_each_bad_field() {
        let invalid = NewAccount::parse(AccountDraft {
            name: None,
            domains: Some(vec![
                "gmail.com".into(),
                "ok.example".into(),
                "ok.example".into(),
            ]),
            employees: Some(-3),
            annual_revenue: Some(MoneyDraft {
                amount: Some("-1".into()),
                currency: Some("euro".into()),
            }),
            abm_tier: Some("vip".into()),
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = invalid.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "domains[0]",
                "domains[2]",
                "employees",
                "annual_revenue.amount",
                "annual_revenue.currency",
                "abm_tier"
            ]
        );
    }

    #[test]
    fn money_is_exact() {
        let mut i = input();
        i.annual_revenue = Some(MoneyDraft {
            amount: Some("1250000.10".into()),
            currency: Some("EUR".into()),
        });
        let a = NewAccount::parse(i).unwrap();
        assert_eq!(
            a.annual_revenue.unwrap().amount,
            Decimal::from_str_exact("1250000.10").unwrap()
        );
    }
}
