//! Decimal strings from requests turned into checked numbers, every failure named by field.

use std::str::FromStr;

use contracts::Currency;
use platform::validation::{FieldErrors, Invalid};
use rust_decimal::Decimal;

/// Collects every bad field of a request while reading decimal strings.
#[derive(Debug, Default)]
pub struct Reader {
    pub errors: FieldErrors,
}

impl Reader {
    pub fn new() -> Self {
        Self::default()
    }

    /// A decimal string; `None` when absent.
    pub fn decimal(&mut self, field: &str, raw: Option<&str>) -> Option<Decimal> {
        let raw = raw?;
        self.errors.take(field, parse_decimal(raw))
    }

    /// A decimal string that must not be negative.
    pub fn amount(&mut self, field: &str, raw: Option<&str>) -> Option<Decimal> {
        let value = self.decimal(field, raw)?;
        if value.is_sign_negative() && !value.is_zero() {
            self.errors.add(field, "must not be negative");
            return None;
        }
        Some(value)
    }

    /// A decimal string that must be greater than zero.
    pub fn positive(&mut self, field: &str, raw: Option<&str>) -> Option<Decimal> {
        let value = self.amount(field, raw)?;
        if value.is_zero() {
            self.errors.add(field, "must be greater than zero");
            return None;
        }
        Some(value)
    }

    /// A ratio in `[0, 1]`, e.g. a gross margin or a sales-mix share.
    pub fn share(&mut self, field: &str, raw: Option<&str>) -> Option<Decimal> {
        let value = self.amount(field, raw)?;
        if value > Decimal::ONE {
            self.errors.add(field, "must be between 0 and 1");
            return None;
        }
        Some(value)
    }

    pub fn require<T>(&mut self, field: &str, value: Option<T>) -> Option<T> {
        self.errors.require(field, value)
    }

    /// `value` when no field was invalid, else every invalid field. Each value read is
    /// `Some` or has its field's error, so a `None` here with no errors means the caller
    /// asked for a value it never read: named as an invalid body rather than a panic.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, Invalid> {
        self.errors.check()?;
        value.ok_or_else(|| Invalid::field("body", "is incomplete"))
    }

    pub fn currency(&mut self, field: &str, raw: Option<&str>) -> Option<Currency> {
        match raw {
            None => {
                self.errors.add(field, "is required");
                None
            }
            Some(code) => self.errors.take(field, Currency::parse(code)),
        }
    }

    /// A currency that must equal `expected` (no conversion is ever made).
    pub fn same_currency(&mut self, field: &str, raw: Option<&str>, expected: Option<&Currency>) {
        let Some(raw) = raw else { return };
        let Some(found) = self.errors.take(field, Currency::parse(raw)) else {
            return;
        };
        if let Some(expected) = expected
            && &found != expected
        {
            self.errors.add(
                field,
                format!("currency mismatch: {found} differs from {expected}"),
            );
        }
    }
}

/// Parses a plain decimal string such as `"1250.50"`: no exponent, no thousands separators,
/// at most 10^15 in magnitude (large enough for any business,
/// small enough that products of two figures stay inside `Decimal`'s range) and at most 10 decimal places.
pub fn parse_decimal(raw: &str) -> Result<Decimal, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("must be a decimal number such as \"1250.50\", got an empty string".into());
    }
    if trimmed.contains(['e', 'E']) {
        return Err(format!(
            "must be a plain decimal number such as \"1250.50\" (no exponent), got {raw:?}"
        ));
    }
    let value = Decimal::from_str(trimmed)
        .map_err(|_| format!("must be a decimal number such as \"1250.50\", got {raw:?}"))?;
    if value.abs() > max_figure() {
        return Err(format!("must be at most {} in magnitude", max_figure()));
    }
    if value.scale() > 10 {
        return Err("must have at most 10 decimal places".into());
    }
    Ok(value)
}

/// 10^15.
pub fn max_figure() -> Decimal {
    Decimal::from(1_000_000_000_000_000i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_decimals_and_names_bad_ones() {
        assert_eq!(parse_decimal(" 12.50 "), Ok(Decimal::new(1250, 2)));
        assert!(parse_decimal("abc").unwrap_err().contains("\"abc\""));
        assert!(parse_decimal("").is_err());
        assert!(parse_decimal("1e5").is_err());
        assert!(parse_decimal("10000000000000000").is_err());
        assert!(parse_decimal("0.00000000001").is_err());
    }

    #[test]
    fn reader_names_each_field() {
        let mut r = Reader::new();
        assert_eq!(r.amount("price", Some("-1")), None);
        assert_eq!(r.positive("cac", Some("0")), None);
        assert_eq!(r.share("gross_margin", Some("1.5")), None);
        assert_eq!(r.amount("fixed_costs", Some("0")), Some(Decimal::ZERO));
        r.same_currency(
            "products[0].currency",
            Some("EUR"),
            Some(&Currency::parse("USD").unwrap()),
        );
        let invalid = r.finish(Some(())).unwrap_err();
        let fields: Vec<&str> = invalid.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["price", "cac", "gross_margin", "products[0].currency"]
        );
    }
}
