//! Query strings and paging every service's list endpoints share: typed parameters that
//! report each bad or unknown one by name, and opaque cursors.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{FieldErrors, Problem};

/// A UUID path segment, or a 422 naming `id`.
pub fn path_id(raw: &str) -> Result<Uuid, Problem> {
    Uuid::parse_str(raw).map_err(|_| Problem::field("id", "must be a UUID"))
}

/// Cuts a page fetched with `limit + 1` rows back to `limit`, and names the cursor of the
/// next page when there is one.
pub fn paginate<T>(
    mut rows: Vec<T>,
    limit: i64,
    id: impl Fn(&T) -> Uuid,
) -> (Vec<T>, Option<String>) {
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        let next = rows.last().map(|r| encode_cursor(id(r)));
        (rows, next)
    } else {
        (rows, None)
    }
}

/// [`paginate`] for rows keyed by text (such as a campaign's own id).
pub fn paginate_by_key<T>(
    mut rows: Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        let next = rows.last().map(|r| encode_key_cursor(&key(r)));
        (rows, next)
    } else {
        (rows, None)
    }
}

/// `limit` and `cursor`, the paging parameters of every collection, for its OpenAPI.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageParams {
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// Opaque cursor from the previous page's `next_cursor`.
    cursor: Option<String>,
}

/// The one collection shape: `{"items": [...], "next_cursor": ...}`.
/// `platform::page!(ProductPage, ProductResponse);`
#[macro_export]
macro_rules! page {
    ($(#[$m:meta])* $name:ident, $item:ty) => {
        $(#[$m])*
        #[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; null on the last page.
            pub next_cursor: Option<String>,
        }
    };
}

pub fn encode_key_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("k:{key}"))
}

pub fn decode_key_cursor(s: &str) -> Result<String, String> {
    URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|k| k.strip_prefix("k:").map(str::to_string))
        .ok_or_else(|| "is not a cursor returned by this endpoint".to_string())
}

pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

pub fn decode_cursor(s: &str) -> Result<Uuid, String> {
    URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| Uuid::from_slice(&b).ok())
        .ok_or_else(|| "is not a cursor returned by this endpoint".to_string())
}

/// An RFC 3339 time, or a `YYYY-MM-DD` date as its midnight UTC; years 0000 to 9999.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        })?;
    crate::time::year_in_range(chrono::Datelike::year(&t)).then_some(t)
}

/// A route that takes no query parameters refuses any, as every route refuses an unknown
/// one: a 422 naming each.
pub fn no_query(req: &actix_web::HttpRequest) -> Result<(), Problem> {
    let params = actix_web::web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(actix_web::web::Query::into_inner)
        .unwrap_or_default();
    Query::new(&params, &[]).finish()
}

/// Typed access to a query string that reports every bad or unknown parameter by name.
pub struct Query<'a> {
    pub params: &'a HashMap<String, String>,
    pub errors: FieldErrors,
}

impl<'a> Query<'a> {
    pub fn new(params: &'a HashMap<String, String>, allowed: &[&str]) -> Self {
        let mut errors = FieldErrors::new();
        let mut unknown: Vec<&String> = params
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .collect();
        unknown.sort();
        for k in unknown {
            errors.add(k, "unknown query parameter");
        }
        // PostgreSQL's text cannot hold U+0000: refuse it here rather than fail the query.
        let mut nul: Vec<&String> = params
            .iter()
            .filter(|(k, v)| allowed.contains(&k.as_str()) && v.contains('\0'))
            .map(|(k, _)| k)
            .collect();
        nul.sort();
        for k in nul {
            errors.add(k, "must not contain the NUL character (U+0000)");
        }
        Query { params, errors }
    }

    pub fn text(&mut self, name: &str) -> Option<String> {
        self.params
            .get(name)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    pub fn parse<T>(&mut self, name: &str, what: &str, f: impl Fn(&str) -> Option<T>) -> Option<T> {
        let raw = self.params.get(name)?;
        let parsed = f(raw.trim()).ok_or_else(|| format!("must be {what}"));
        self.errors.take(name, parsed)
    }

    /// An RFC 3339 time, or a date (`2026-01-01`) meaning its midnight UTC, in years 0000
    /// to 9999.
    pub fn time(&mut self, name: &str) -> Option<DateTime<Utc>> {
        self.parse(name, crate::http::json::TIME_FORM, parse_time)
    }

    pub fn uuid(&mut self, name: &str) -> Option<Uuid> {
        self.parse(name, "a UUID", |s| Uuid::parse_str(s).ok())
    }

    pub fn bool(&mut self, name: &str) -> Option<bool> {
        self.parse(name, "true or false", |s| match s {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })
    }

    pub fn number(&mut self, name: &str) -> Option<f64> {
        self.parse(name, "a number", |s| {
            s.parse::<f64>().ok().filter(|n| n.is_finite())
        })
    }

    /// `limit` (1..=500, default 50) and `cursor`.
    pub fn page(&mut self) -> (i64, Option<Uuid>) {
        let limit = self.limit();
        let after = match self.params.get("cursor") {
            Some(c) => self.errors.take("cursor", decode_cursor(c)),
            None => None,
        };
        (limit, after)
    }

    /// [`Query::page`] for collections keyed by text.
    pub fn page_by_key(&mut self) -> (i64, Option<String>) {
        let limit = self.limit();
        let after = match self.params.get("cursor") {
            Some(c) => self.errors.take("cursor", decode_key_cursor(c)),
            None => None,
        };
        (limit, after)
    }

    fn limit(&mut self) -> i64 {
        self.parse("limit", "an integer from 1 to 500", |s| {
            s.parse::<i64>().ok().filter(|n| (1..=500).contains(n))
        })
        .unwrap_or(50)
    }

    /// `format`: json (the default), csv or parquet.
    pub fn format(&mut self) -> crate::reports::Format {
        use crate::reports::Format;
        Format::parse(self.params.get("format").map(String::as_str)).unwrap_or_else(|e| {
            self.errors.add("format", e);
            Format::Json
        })
    }

    pub fn finish(self) -> Result<(), Problem> {
        self.errors.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_take_rfc_3339_or_a_date_and_say_the_form_when_wrong() {
        let params = HashMap::from([
            ("from".to_string(), "2026-03-01".to_string()),
            ("to".to_string(), "2026-03-02T10:30:00+02:00".to_string()),
            ("bad".to_string(), "2026-03-01 10:00".to_string()),
            ("far".to_string(), "+20000-01-01T00:00:00Z".to_string()),
        ]);
        let mut q = Query::new(&params, &["from", "to", "bad", "far"]);
        assert_eq!(
            q.time("from"),
            Some("2026-03-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap())
        );
        assert_eq!(
            q.time("to"),
            Some("2026-03-02T08:30:00Z".parse::<DateTime<Utc>>().unwrap())
        );
        assert_eq!(q.time("bad"), None);
        assert_eq!(q.time("far"), None);
        let p = q.finish().unwrap_err();
        let fields: Vec<&str> = p.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["bad", "far"]);
        assert!(
            p.errors[0].message.contains("2026-01-01T00:00:00Z"),
            "{}",
            p.errors[0].message
        );
    }

    #[test]
    fn nul_characters_and_unknown_parameters_are_named() {
        let params = HashMap::from([
            ("q".to_string(), "a\0b".to_string()),
            ("x".to_string(), "1".to_string()),
        ]);
        let p = Query::new(&params, &["q"]).finish().unwrap_err();
        let fields: Vec<&str> = p.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["x", "q"]);
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)), Ok(id));
        assert!(decode_cursor("!!").is_err());
        assert!(decode_cursor("abc").is_err());
        assert_eq!(
            decode_key_cursor(&encode_key_cursor("spring-26")),
            Ok("spring-26".to_string())
        );
        assert!(decode_key_cursor(&encode_cursor(id)).is_err());
    }
}
