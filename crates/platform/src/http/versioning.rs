//! Optimistic concurrency every service shares: a resource's version is its ETag
//! (`"3"`), `If-Match` is required on PUT and PATCH (428 when missing, 412 when stale or
//! unparsable), and `If-None-Match` with the current ETag answers 304 on a GET.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use super::problem::{FieldError, Problem};

/// The version named by a request's `If-Match` (`"3"` or `W/"3"`).
pub fn if_match(req: &HttpRequest) -> Result<i32, Problem> {
    let Some(v) = req.headers().get("if-match") else {
        return Err(precondition_required());
    };
    v.to_str()
        .ok()
        .and_then(parse_etag)
        .ok_or_else(|| Problem::precondition_failed("If-Match is not an ETag of this resource"))
}

/// For a resource that may not exist yet (version 0): `If-None-Match: *` asks to create it,
/// the same as `If-Match: "0"`; otherwise as [`if_match`].
pub fn if_match_or_new(req: &HttpRequest) -> Result<i32, Problem> {
    let create = req
        .headers()
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "*");
    if create && req.headers().get("if-match").is_none() {
        return Ok(0);
    }
    if_match(req)
}

/// 428: a PUT or PATCH sent without `If-Match`.
pub fn precondition_required() -> Problem {
    Problem {
        errors: vec![FieldError {
            field: "header:if-match".into(),
            message: "is required: send the ETag of your last read".into(),
        }],
        ..Problem::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition-required",
            "If-Match is required",
            Some("send the ETag of your last read in If-Match".to_string()),
        )
    }
}

/// 412: the version in `If-Match` is not the current one.
pub fn stale(current: i32) -> Problem {
    Problem::precondition_failed(format!(
        "If-Match does not match the current version; the current ETag is \"{current}\""
    ))
    .with("current_etag", format!("\"{current}\""))
}

/// Checks `If-Match` against the current version: `Ok(())` when they agree.
pub fn check(expected: i32, current: i32) -> Result<(), Problem> {
    if expected == current {
        Ok(())
    } else {
        Err(stale(current))
    }
}

fn parse_etag(s: &str) -> Option<i32> {
    s.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .ok()
}

pub fn etag(version: i32) -> (&'static str, String) {
    ("etag", format!("\"{version}\""))
}

/// A JSON answer about a versioned resource, its version in `ETag`.
pub fn versioned(status: StatusCode, version: i32, body: &impl Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(etag(version))
        .json(body)
}

/// Whether the request's `If-None-Match` names the current version (or is `*`).
pub fn not_modified(req: &HttpRequest, version: i32) -> bool {
    let Some(v) = req
        .headers()
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    v.split(',')
        .any(|t| t.trim() == "*" || parse_etag(t) == Some(version))
}

/// A GET of a single versioned resource: 304 with its ETag when the client's copy is
/// current, else 200 with the body.
pub fn read(req: &HttpRequest, version: i32, body: &impl Serialize) -> HttpResponse {
    if not_modified(req, version) {
        HttpResponse::NotModified()
            .insert_header(etag(version))
            .finish()
    } else {
        versioned(StatusCode::OK, version, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn if_match_is_required_and_parsed() {
        let none = TestRequest::default().to_http_request();
        assert_eq!(if_match(&none).unwrap_err().status, 428);
        let weak = TestRequest::default()
            .insert_header(("if-match", "W/\"7\""))
            .to_http_request();
        assert_eq!(if_match(&weak).unwrap(), 7);
        let junk = TestRequest::default()
            .insert_header(("if-match", "\"x\""))
            .to_http_request();
        assert_eq!(if_match(&junk).unwrap_err().status, 412);
        assert_eq!(check(3, 4).unwrap_err().status, 412);
        assert!(check(4, 4).is_ok());
    }

    #[test]
    fn if_none_match_gives_304_only_for_the_current_version() {
        let req = TestRequest::default()
            .insert_header(("if-none-match", "\"1\", \"2\""))
            .to_http_request();
        assert!(not_modified(&req, 2));
        assert!(!not_modified(&req, 3));
        assert_eq!(read(&req, 2, &1).status(), StatusCode::NOT_MODIFIED);
        assert_eq!(read(&req, 3, &1).status(), StatusCode::OK);
    }

    #[test]
    fn if_none_match_star_asks_for_version_zero() {
        let create = TestRequest::default()
            .insert_header(("if-none-match", "*"))
            .to_http_request();
        assert_eq!(if_match_or_new(&create).unwrap(), 0);
        let both = TestRequest::default()
            .insert_header(("if-none-match", "*"))
            .insert_header(("if-match", "\"4\""))
            .to_http_request();
        assert_eq!(if_match_or_new(&both).unwrap(), 4);
        let none = TestRequest::default().to_http_request();
        assert_eq!(if_match_or_new(&none).unwrap_err().status, 428);
    }
}
