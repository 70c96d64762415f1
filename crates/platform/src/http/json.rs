//! A JSON body extractor whose every failure is a problem naming the field: wrong
//! content type (415), too large (413), not JSON (400), wrong shape (422).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest, http::header};
use futures::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::problem::{FieldError, Problem};

/// Body limit for one route, set with `.app_data(JsonLimit(n))`; otherwise the
/// service-wide `http.json_limit` applies.
#[derive(Debug, Clone, Copy)]
pub struct JsonLimit(pub usize);

/// A parsed JSON body plus its raw bytes (for Idempotency-Key hashing).
#[derive(Debug)]
pub struct Json<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = Problem;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Problem>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<JsonLimit>()
            .or_else(|| {
                req.app_data::<actix_web::web::Data<JsonLimit>>()
                    .map(|d| d.get_ref())
            })
            .map(|l| l.0)
            .unwrap_or(1 << 20);
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_json(&content_type) {
                return Err(Problem::unsupported_media_type(
                    &content_type,
                    "application/json",
                ));
            }
            if declared_len.is_some_and(|n| n > limit) {
                return Err(Problem::payload_too_large(limit));
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk
                    .map_err(|e| Problem::malformed(format!("could not read the body: {e}")))?;
                if body.len() + chunk.len() > limit {
                    return Err(Problem::payload_too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            let raw = body.freeze();
            let value = parse::<T>(&raw)?;
            Ok(Json { value, raw })
        })
    }
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses JSON into `T`, naming the offending field on a shape error, and on a string that
/// holds U+0000 (see [`reject_nul`]).
pub fn parse<T: DeserializeOwned>(raw: &[u8]) -> Result<T, Problem> {
    // Most bodies are valid: parse them at full speed, and parse a failed one again, tracking
    // the path, to name the field.
    if let Ok(v) = serde_json::from_slice(raw) {
        reject_nul(raw)?;
        return Ok(v);
    }
    let mut de = serde_json::Deserializer::from_slice(raw);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => {
            de.end()
                .map_err(|e| Problem::malformed(strip_position(&e.to_string())))?;
            Ok(v)
        }
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            let raw_message = strip_position(&inner.to_string());
            if inner.is_syntax() || inner.is_eof() || inner.is_io() {
                return Err(Problem::malformed(at_column(&inner)));
            }
            let message = humanize(&raw_message);
            // serde's path stops at the parent for a missing field, but includes an unknown one.
            let field = match field_from_message(&raw_message) {
                Some(f) if raw_message.starts_with("missing") && path != "." => {
                    format!("{path}.{f}")
                }
                Some(f) if path == "." => f,
                _ if path == "." => "body".to_string(),
                _ => path,
            };
            Err(Problem::validation(vec![FieldError { field, message }]))
        }
    }
}

/// A 422 naming every string or key of the JSON document `raw` that holds U+0000.
/// PostgreSQL's `text` and `jsonb` cannot store that character, and every body ends up
/// there, so it is refused at the door rather than failing the write.
pub fn reject_nul(raw: &[u8]) -> Result<(), Problem> {
    if !has_nul_escape(raw) {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(raw) else {
        return Ok(());
    };
    let mut errors = Vec::new();
    find_nul(&value, String::new(), &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::validation(errors))
    }
}

/// JSON writes U+0000 only as the escape `\u0000`; a body without one needs no walk.
fn has_nul_escape(raw: &[u8]) -> bool {
    let mut i = 0;
    while let Some(j) = raw[i..].iter().position(|b| *b == b'\\') {
        let at = i + j;
        if raw[at + 1..].starts_with(b"u0000") {
            return true;
        }
        // Skip the escaped character, so that `\\u0000` (a backslash, then text) is not one.
        i = at + 2;
        if i > raw.len() {
            return false;
        }
    }
    false
}

fn find_nul(value: &serde_json::Value, path: String, errors: &mut Vec<FieldError>) {
    const MESSAGE: &str = "must not contain the NUL character (U+0000)";
    let here = |path: &str| {
        if path.is_empty() {
            "body".to_string()
        } else {
            path.to_string()
        }
    };
    match value {
        serde_json::Value::String(s) if s.contains('\0') => errors.push(FieldError {
            field: here(&path),
            message: MESSAGE.into(),
        }),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_nul(item, format!("{path}[{i}]"), errors);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if key.contains('\0') {
                    errors.push(FieldError {
                        field: here(&child),
                        message: format!("{MESSAGE} in its name"),
                    });
                } else {
                    find_nul(item, child, errors);
                }
            }
        }
        _ => {}
    }
}

/// Applies a JSON merge patch (RFC 7396, top level) to `current` and re-validates the
/// result as `T`: keys in the patch replace the current values, `null` clears one, a key
/// `T` does not have is a 422 naming it, and so is each key in `read_only`.
pub fn merge_patch<T: Serialize + DeserializeOwned>(
    current: &T,
    patch: &serde_json::Value,
    read_only: &[(&str, &str)],
) -> Result<T, Problem> {
    let serde_json::Value::Object(changes) = patch else {
        return Err(Problem::malformed("a PATCH body must be a JSON object"));
    };
    let mut merged = match serde_json::to_value(current) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => return Err(Problem::internal()),
    };
    let mut errors = super::FieldErrors::new();
    for (key, value) in changes {
        if let Some((_, why)) = read_only.iter().find(|(k, _)| k == key) {
            errors.add(key, *why);
        } else if !merged.contains_key(key) {
            errors.add(key, "unknown field");
        } else {
            merged.insert(key.clone(), value.clone());
        }
    }
    errors.finish()?;
    let bytes = serde_json::to_vec(&merged).map_err(|_| Problem::internal())?;
    parse(&bytes)
}

/// A parse error of a JSON body or NDJSON line with the column it is at (`column 12:
/// expected `,` or `}``), humanized; the line is the caller's to name.
pub fn at_column(e: &serde_json::Error) -> String {
    let message = humanize(&strip_position(&e.to_string()));
    if e.column() > 0 {
        format!("column {}: {message}", e.column())
    } else {
        message
    }
}

/// An example of the form times and dates are sent in.
pub const TIME_FORM: &str = "an RFC 3339 time such as 2026-01-01T00:00:00Z (or a date such as 2026-01-01 where a day is meant)";

/// serde's and chrono's messages as a client can act on them: no Rust type names, the form a
/// time takes, the range of a number.
pub fn humanize(message: &str) -> String {
    // chrono's parse errors, from a time or date field.
    const CHRONO: [&str; 6] = [
        "premature end of input",
        "input contains invalid characters",
        "trailing input",
        "input is out of range",
        "no possible date and time matching input",
        "input is not enough for unique date and time",
    ];
    if CHRONO.iter().any(|c| message.starts_with(c)) {
        return format!("must be {TIME_FORM}");
    }
    if message.starts_with("missing field `") {
        return "is required".to_string();
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let expected = rest
            .split_once("expected ")
            .map(|(_, e)| e.replace('`', ""))
            .unwrap_or_default();
        return if expected.is_empty() {
            "is not a field of this request".to_string()
        } else {
            format!("is not a field of this request; expected {expected}")
        };
    }
    if let Some(rest) = message.strip_prefix("invalid value: integer `") {
        // An integer out of the field's range: say the range.
        if let Some((value, expected)) = rest.split_once("`, expected ")
            && let Some(range) = integer_range(expected.trim())
        {
            return format!("{value} is out of range: must be a whole number from {range}");
        }
    }
    // A number where a string is expected: amounts are decimal strings, so show one.
    for number in ["floating point `", "integer `"] {
        if let Some(n) = message
            .strip_prefix("invalid type: ")
            .and_then(|r| r.strip_prefix(number))
            .and_then(|r| r.strip_suffix("`, expected a string"))
        {
            return format!(
                "must be a string, not the number {n} (an amount is sent as a decimal string: \"{n}\")"
            );
        }
    }
    if let Some((got, expected)) = message
        .strip_prefix("invalid type: ")
        .and_then(|r| r.split_once(", expected "))
    {
        return format!("must be {}, not {got}", plain_type(expected.trim()));
    }
    let expected = message.rsplit_once(", expected ").map(|(_, e)| e.trim());
    match expected {
        Some(e) if e != plain_type(e) => {
            let head = message
                .rsplit_once(", expected ")
                .map_or(message, |(h, _)| h);
            format!("{head}, expected {}", plain_type(e))
        }
        _ => message.to_string(),
    }
}

/// The range of a Rust integer type named in a serde message.
fn integer_range(name: &str) -> Option<String> {
    let (lo, hi): (i128, i128) = match name {
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" | "usize" => (0, u64::MAX.into()),
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "i64" | "isize" => (i64::MIN.into(), i64::MAX.into()),
        _ => return None,
    };
    Some(format!("{lo} to {hi}"))
}

/// What a client sends for a type serde names in Rust terms.
fn plain_type(expected: &str) -> String {
    if integer_range(expected).is_some() {
        return "a whole number".to_string();
    }
    match expected {
        "f32" | "f64" => "a number".to_string(),
        "a boolean" | "bool" => "true or false".to_string(),
        "a sequence" => "an array".to_string(),
        "a string" | "char" => "a string".to_string(),
        "a map" => "an object".to_string(),
        e if e.starts_with("struct ") => "an object".to_string(),
        e if e.starts_with("a Decimal") || e.contains("Decimal") => {
            "a decimal string such as \"12.50\"".to_string()
        }
        e if e.contains("DateTime") || e.contains("RFC 3339") || e.contains("formatted date") => {
            TIME_FORM.to_string()
        }
        e if e.starts_with("UUID") || e.contains("Uuid") => "a UUID".to_string(),
        e if e.starts_with("enum ") || e.starts_with("internally tagged enum ") => {
            "one of the values the field lists".to_string()
        }
        e if e.starts_with("tuple struct ") => "a value of the field's form".to_string(),
        e => e.to_string(),
    }
}

/// serde names missing and unknown fields only in the message.
fn field_from_message(message: &str) -> Option<String> {
    for prefix in ["missing field `", "unknown field `"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return rest.split('`').next().map(str::to_string);
        }
    }
    None
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        tags: Option<Vec<String>>,
    }

    #[test]
    fn names_the_missing_field() {
        let p = parse::<Body>(br#"{"tags":[]}"#).unwrap_err();
        assert_eq!(p.status, 422);
        assert_eq!(p.errors[0].field, "email");
    }

    #[test]
    fn names_a_wrongly_typed_nested_field() {
        let p = parse::<Body>(br#"{"email":"a@b.co","tags":["x",5]}"#).unwrap_err();
        assert_eq!(p.errors[0].field, "tags[1]");
        assert!(
            p.errors[0]
                .message
                .starts_with("must be a string, not the number 5"),
            "{}",
            p.errors[0].message
        );
    }

    #[test]
    fn names_an_unknown_field() {
        let p = parse::<Body>(br#"{"email":"a@b.co","emali":"x"}"#).unwrap_err();
        assert_eq!(p.errors[0].field, "emali");
    }

    #[test]
    fn syntax_errors_are_400() {
        let p = parse::<Body>(b"{not json").unwrap_err();
        assert_eq!(p.status, 400);
        let p = parse::<Body>(br#"{"email":"a@b.co"} trailing"#).unwrap_err();
        assert_eq!(p.status, 400);
    }

    #[test]
    fn nul_characters_are_named_fields() {
        let p = parse::<serde_json::Value>(br#"{"a":{"b":["ok","x\u0000y"]},"c\u0000":1}"#)
            .unwrap_err();
        assert_eq!(p.status, 422);
        let fields: Vec<&str> = p.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["a.b[1]", "c\u{0}"]);
        let p = parse::<String>(br#""\u0000""#).unwrap_err();
        assert_eq!(p.errors[0].field, "body");
        // An escaped backslash followed by `u0000` is text, not U+0000.
        assert_eq!(
            parse::<String>(br#""\\u0000""#).unwrap(),
            "\\u0000".to_string()
        );
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json(""));
    }

    #[test]
    fn messages_name_no_rust_types_and_show_the_form_to_send() {
        assert_eq!(humanize("missing field `email`"), "is required");
        assert_eq!(
            humanize("unknown field `emial`, expected one of `email`, `tags`"),
            "is not a field of this request; expected one of email, tags"
        );
        assert_eq!(
            humanize("invalid type: string \"7\", expected i64"),
            "must be a whole number, not string \"7\""
        );
        assert_eq!(
            humanize("invalid type: floating point `12.5`, expected a string"),
            "must be a string, not the number 12.5 (an amount is sent as a decimal string: \"12.5\")"
        );
        assert_eq!(
            humanize("invalid type: map, expected a sequence"),
            "must be an array, not map"
        );
        assert_eq!(
            humanize("invalid value: integer `-1`, expected u32"),
            "-1 is out of range: must be a whole number from 0 to 4294967295"
        );
        assert_eq!(
            humanize("premature end of input"),
            format!("must be {TIME_FORM}")
        );
        assert!(TIME_FORM.contains("2026-01-01T00:00:00Z"));
    }

    #[test]
    fn a_time_field_error_shows_the_rfc_3339_form() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct At {
            at: chrono::DateTime<chrono::Utc>,
        }
        let p = parse::<At>(br#"{"at": "2026-01-01"}"#).unwrap_err();
        assert_eq!(p.status, 422);
        assert_eq!(p.errors[0].field, "at");
        assert!(
            p.errors[0].message.contains("2026-01-01T00:00:00Z"),
            "{}",
            p.errors[0].message
        );
        let p = parse::<At>(br#"{"at": 7}"#).unwrap_err();
        assert!(
            !p.errors[0].message.contains("DateTime"),
            "{}",
            p.errors[0].message
        );
    }

    #[test]
    fn a_syntax_error_names_its_column() {
        let p = parse::<Body>(br#"{"email": "a@b.c",, }"#).unwrap_err();
        assert_eq!(p.status, 400);
        assert!(
            p.detail
                .as_deref()
                .unwrap_or_default()
                .starts_with("column 19:"),
            "{:?}",
            p.detail
        );
    }
}
