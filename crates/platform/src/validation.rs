//! Validation without transport: which fields of an input are invalid and why. Domain code
//! returns these; the HTTP layer turns them into a 422 problem (`impl From<Invalid> for
//! Problem`), so no domain module needs to know about HTTP.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the field, e.g. `email` or `domains[1]`; a header is `header:<name>`.
    pub field: String,
    pub message: String,
}

/// One or more invalid fields: the domain's "this input breaks a rule" error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(.0))]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    /// One invalid field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Invalid(vec![FieldError {
            field: field.to_string(),
            message: message.into(),
        }])
    }
}

fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Collects every invalid field of a request before answering, so a client fixes them all at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_string(),
            message: message.into(),
        });
    }

    /// Keeps the value of `result`, or records its error under `field`.
    pub fn take<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(m) => {
                self.add(field, m);
                None
            }
        }
    }

    /// Records a missing required field.
    pub fn require<T>(&mut self, field: &str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.add(field, "is required");
        }
        value
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `field` already has an error.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    /// `Ok` when no field was invalid, else every invalid field as one [`Invalid`].
    pub fn check(self) -> Result<(), Invalid> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Invalid(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_field_before_failing() {
        let mut errors = FieldErrors::new();
        assert_eq!(errors.take("a", Ok::<_, String>(1)), Some(1));
        assert_eq!(errors.take::<i32>("b", Err("is bad".into())), None);
        errors.require::<i32>("c", None);
        assert!(errors.has("b") && errors.has("c") && !errors.has("a"));
        let invalid = errors.check().unwrap_err();
        assert_eq!(invalid.to_string(), "b: is bad; c: is required");
        assert!(FieldErrors::new().check().is_ok());
    }
}

/// An optional amount of money, sent as a decimal string (`"12.50"`). A JSON number is
/// refused with the string to send instead: a float cannot carry an exact amount, and every
/// amount on the wire has one form. Use with `#[serde(default, deserialize_with = ...)]`.
pub fn option_decimal_string<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<rust_decimal::Decimal>, D::Error> {
    use serde::de::Error;
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => s
            .trim()
            .parse::<rust_decimal::Decimal>()
            .map(Some)
            .map_err(|_| {
                D::Error::custom(format!(
                    "must be a decimal string such as \"12.50\", not {s:?}"
                ))
            }),
        Some(serde_json::Value::Number(n)) => Err(D::Error::custom(format!(
            "must be a decimal string, not a number: send \"{n}\""
        ))),
        Some(other) => Err(D::Error::custom(format!(
            "must be a decimal string such as \"12.50\", not {other}"
        ))),
    }
}

#[cfg(test)]
mod money_tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct Cost {
        #[serde(default, deserialize_with = "option_decimal_string")]
        cost: Option<rust_decimal::Decimal>,
    }

    fn parse(json: &str) -> Result<Option<String>, String> {
        serde_json::from_str::<Cost>(json)
            .map(|c| c.cost.map(|d| d.to_string()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn amounts_are_decimal_strings_and_a_number_is_refused_with_its_string_form() {
        assert_eq!(parse(r#"{"cost": "0.0125"}"#), Ok(Some("0.0125".into())));
        assert_eq!(parse(r#"{"cost": null}"#), Ok(None));
        assert_eq!(parse(r#"{}"#), Ok(None));
        let e = parse(r#"{"cost": 0.0125}"#).unwrap_err();
        assert!(
            e.starts_with("must be a decimal string, not a number: send \"0.0125\""),
            "{e}"
        );
        let e = parse(r#"{"cost": "12,5"}"#).unwrap_err();
        assert!(
            e.starts_with("must be a decimal string such as \"12.50\", not \"12,5\""),
            "{e}"
        );
    }
}
