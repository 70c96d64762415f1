//! The break-even service's errors and the one place they become problem+json.

use actix_web::http::StatusCode;
use platform::Problem;
use platform::http::idempotency::IdempotencyError;
use platform::http::{FieldError, ServiceError};

use crate::domain::calculator::Rejection;
use crate::domain::cvp::CalcError;

#[derive(Debug, thiserror::Error)]
pub enum BreakevenError {
    /// A problem as it stands: invalid input, a missing or stale `If-Match`, a reused
    /// `Idempotency-Key`.
    #[error("{0}")]
    Invalid(Problem),
    /// Price does not exceed variable cost: no volume breaks even.
    #[error("contribution margin is not positive: break-even is unreachable")]
    Unreachable { field: String },
    #[error("the figures are too large to compute exactly")]
    Overflow,
    #[error("{0} not found")]
    NotFound(String),
    /// A create names a resource that exists: the 409 carries its id as `existing_id`, so a
    /// client whose create timed out can find what it made.
    #[error("a {what} with id {id:?} exists")]
    Exists { what: &'static str, id: String },
    /// Stored data that breaks the service's own rules (e.g. a campaign currency that does
    /// not parse). A 500 to an API client, yet not unexpected: a consumer would read the
    /// same data on every retry, so it dead-letters the event with this reason, to replay
    /// once the data is corrected.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

platform::service_error!(BreakevenError, unexpected = Unexpected, invalid = Invalid);

impl From<CalcError> for BreakevenError {
    fn from(e: CalcError) -> Self {
        match e {
            CalcError::Unreachable { field } => BreakevenError::Unreachable { field },
            CalcError::Overflow => BreakevenError::Overflow,
        }
    }
}

impl From<IdempotencyError> for BreakevenError {
    fn from(e: IdempotencyError) -> Self {
        match e {
            IdempotencyError::Mismatch => BreakevenError::Invalid(e.into()),
            IdempotencyError::Db(e) => e.into(),
        }
    }
}

impl From<Rejection> for BreakevenError {
    fn from(r: Rejection) -> Self {
        match r {
            Rejection::Invalid(p) => p.into(),
            Rejection::Calc(e) => e.into(),
        }
    }
}

impl ServiceError for BreakevenError {
    fn problem(&self) -> Problem {
        match self {
            BreakevenError::Invalid(p) => p.clone(),
            BreakevenError::Unreachable { field } => unreachable_problem(field),
            BreakevenError::Overflow => Problem {
                errors: vec![FieldError {
                    field: "body".into(),
                    message: "the figures are too large to compute exactly".into(),
                }],
                ..Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "figures-too-large",
                    "The figures are too large to compute exactly",
                    Some("a result exceeds the range of exact decimal arithmetic".to_string()),
                )
            },
            BreakevenError::NotFound(what) => Problem::not_found(format!("{what} does not exist")),
            BreakevenError::Exists { id, .. } => {
                Problem::conflict(self.to_string()).with("existing_id", id)
            }
            BreakevenError::Corrupt(what) => {
                tracing::error!(error = %what, "invalid stored data");
                Problem::internal()
            }
            BreakevenError::Unexpected(e) => {
                tracing::error!(error = ?e, "unexpected error");
                Problem::internal()
            }
        }
    }

    fn is_unexpected(&self) -> bool {
        matches!(self, BreakevenError::Unexpected(_))
    }
}

/// No volume covers the fixed costs: `field` (and, for the price, the variable cost) must
/// change.
fn unreachable_problem(field: &str) -> Problem {
    let message = "contribution margin is not positive: break-even is unreachable";
    let mut errors = vec![FieldError {
        field: field.to_string(),
        message: "must exceed the variable cost".into(),
    }];
    if field == "price" {
        errors.push(FieldError {
            field: "variable_cost".into(),
            message: "must be below the price".into(),
        });
    }
    Problem {
        errors,
        ..Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "breakeven-unreachable",
            message,
            Some(format!(
                "{message}; no volume covers the fixed costs ({field})"
            )),
        )
    }
}
