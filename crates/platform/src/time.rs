//! Times and dates as requests may carry them: RFC 3339, years 0000 to 9999.
//!
//! chrono also reads signed and five-digit years (`-5000-01-01`, `+20000-01-01`), which
//! PostgreSQL cannot store (its timestamps start in 4713 BC) and RFC 3339 cannot write. Use
//! these with `#[serde(deserialize_with = "...")]` on every input field, so that such a
//! value is a 422 naming the field instead of a failed write or an answer that breaks its
//! own schema.

use chrono::{DateTime, Datelike, NaiveDate, SubsecRound, Utc};
use serde::{Deserialize, Deserializer};

pub const MIN_YEAR: i32 = 0;
pub const MAX_YEAR: i32 = 9999;
const MESSAGE: &str = "must be in the years 0000 to 9999";

/// The time a write records: now, to the microsecond PostgreSQL keeps, so that the write's
/// answer equals later reads.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Whether `year` can be written in RFC 3339 and stored by PostgreSQL.
pub fn year_in_range(year: i32) -> bool {
    (MIN_YEAR..=MAX_YEAR).contains(&year)
}

/// An RFC 3339 time in years 0000 to 9999.
pub fn datetime<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let t = DateTime::<Utc>::deserialize(d)?;
    if year_in_range(t.year()) {
        Ok(t)
    } else {
        Err(serde::de::Error::custom(format!("{t}: {MESSAGE}")))
    }
}

/// An optional RFC 3339 time in years 0000 to 9999.
pub fn option_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "datetime")] DateTime<Utc>);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

/// A `YYYY-MM-DD` date in years 0000 to 9999.
pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let t = NaiveDate::deserialize(d)?;
    if year_in_range(t.year()) {
        Ok(t)
    } else {
        Err(serde::de::Error::custom(format!("{t}: {MESSAGE}")))
    }
}

/// An optional `YYYY-MM-DD` date in years 0000 to 9999.
pub fn option_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "date")] NaiveDate);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        #[serde(deserialize_with = "datetime")]
        at: DateTime<Utc>,
        #[serde(default, deserialize_with = "option_date")]
        on: Option<NaiveDate>,
    }

    fn parse(json: &str) -> Result<Body, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn four_digit_years_pass_and_others_are_refused() {
        assert!(parse(r#"{"at":"0000-01-01T00:00:00Z","on":"9999-12-31"}"#).is_ok());
        assert!(parse(r#"{"at":"2026-01-01T00:00:00+02:00"}"#).is_ok());
        assert!(parse(r#"{"at":"2026-01-01T00:00:00Z","on":null}"#).is_ok());
        for bad in [
            r#"{"at":"-5000-01-01T00:00:00Z"}"#,
            r#"{"at":"+10000-01-01T00:00:00Z"}"#,
            r#"{"at":"2026-01-01T00:00:00Z","on":"+20000-01-01"}"#,
            r#"{"at":"2026-01-01T00:00:00Z","on":"-0001-01-01"}"#,
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(MESSAGE), "{bad}: {e}");
        }
    }
}
