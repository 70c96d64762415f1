//! Money on the wire: a decimal amount as a JSON string beside an ISO 4217 currency code.

use std::borrow::Cow;
use std::fmt;

use rust_decimal::Decimal;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount of money: `{"amount":"120.50","currency":"EUR"}`.
///
/// Payloads whose main figure is an amount carry `amount` and `currency` side by side at
/// their top level instead; this nested form is for secondary amounts such as an account's
/// annual revenue.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub struct Money {
    /// Decimal amount, as a string so that no JSON reader rounds it through a float.
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Self { amount, currency }
    }
}

/// An ISO 4217 alphabetic currency code such as `EUR`.
///
/// Only the shape is checked (three ASCII capital letters): the list of live codes changes
/// over time and a consumer must not reject an event because its copy of the list is old.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(String);

impl Currency {
    pub fn parse(code: &str) -> Result<Currency, String> {
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Currency(code.to_owned()))
        } else {
            Err(format!(
                "{code:?} is not an ISO 4217 currency code (three capital letters such as EUR)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Currency {
    type Err = String;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Currency::parse(code)
    }
}

impl AsRef<str> for Currency {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Currency::parse(&code).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Currency {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Currency".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[A-Z]{3}$",
            "description": "ISO 4217 alphabetic currency code, e.g. EUR.",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_accepts_three_capitals_only() {
        assert_eq!(Currency::parse("EUR").unwrap().as_str(), "EUR");
        for bad in ["eur", "EURO", "", "EU", "E1R", "ÉUR", " EUR"] {
            assert!(Currency::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn currency_rejects_invalid_codes_on_deserialize() {
        assert!(serde_json::from_str::<Currency>("\"usd\"").is_err());
        assert!(serde_json::from_str::<Currency>("42").is_err());
        let usd: Currency = serde_json::from_str("\"USD\"").unwrap();
        assert_eq!(usd.as_str(), "USD");
    }

    #[test]
    fn money_amount_is_a_json_string() {
        let money = Money::new(Decimal::new(12050, 2), Currency::parse("EUR").unwrap());
        assert_eq!(
            serde_json::to_value(&money).unwrap(),
            serde_json::json!({"amount": "120.50", "currency": "EUR"})
        );
    }
}
