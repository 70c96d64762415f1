//! RFC 9457 problem details: the one error shape every endpoint returns.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::validation::{FieldError, FieldErrors, Invalid};

pub const PROBLEM_JSON: &str = "application/problem+json";
const TYPE_BASE: &str = "https://touchstone.dev/problems/";

/// An RFC 9457 problem. `type` is stable and documented; `errors` lists invalid fields.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub ty: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// This occurrence: `urn:touchstone:request:<X-Request-Id>`, the id in the response's
    /// `X-Request-Id` header and in the service's logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Problem-specific members, e.g. `existing_id` on a duplicate.
    #[serde(flatten, default, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(value_type = Object)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.title, self.status)?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        for e in &self.errors {
            write!(f, "; {}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

impl Problem {
    pub fn new(
        status: StatusCode,
        slug: &str,
        title: &str,
        detail: impl Into<Option<String>>,
    ) -> Self {
        Problem {
            ty: format!("{TYPE_BASE}{slug}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            instance: None,
            extensions: serde_json::Map::new(),
        }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Problem {
            errors,
            ..Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "The request has invalid fields",
                Some(detail),
            )
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Problem::validation(vec![FieldError {
            field: field.to_string(),
            message: message.into(),
        }])
    }

    pub fn malformed(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed-body",
            "The body is not valid JSON",
            Some(detail.into()),
        )
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            Some(detail.into()),
        )
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::CONFLICT,
            "conflict",
            "Conflict",
            Some(detail.into()),
        )
    }

    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            "Precondition failed",
            Some(detail.into()),
        )
    }

    pub fn unsupported_media_type(found: &str, expected: &str) -> Self {
        let mut p = Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            Some(format!("content-type must be {expected}, got {found:?}")),
        );
        p.errors.push(FieldError {
            field: "header:content-type".into(),
            message: format!("expected {expected}"),
        });
        p
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload too large",
            Some(format!("the body exceeds the limit of {limit} bytes")),
        )
    }

    pub fn idempotency_mismatch() -> Self {
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency-key-reused",
            "Idempotency-Key reused with a different body",
            Some("this Idempotency-Key was already used with another request body".to_string()),
        );
        p.errors.push(FieldError {
            field: "header:idempotency-key".into(),
            message: "already used with a different body".into(),
        });
        p
    }

    /// 503: the service cannot take the request now (no database connection came free in
    /// time); answered with `Retry-After`, and safe to retry.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            Some(detail.into()),
        )
    }

    /// The only 5xx that is a bug: the cause is logged by the caller, never returned.
    pub fn internal() -> Self {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            Some("an unexpected error occurred; it has been logged".to_string()),
        )
    }

    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.extensions.insert(
            key.to_string(),
            serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
        );
        self
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if self.status == 503 {
            response.insert_header(("retry-after", "1"));
        }
        response.content_type(PROBLEM_JSON).json(self)
    }
}

impl From<Invalid> for Problem {
    fn from(invalid: Invalid) -> Self {
        Problem::validation(invalid.0)
    }
}

impl FieldErrors {
    /// `Ok` when no field was invalid, else the 422 problem listing them all.
    pub fn finish(self) -> Result<(), Problem> {
        self.check().map_err(Problem::from)
    }
}
