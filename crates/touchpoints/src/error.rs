//! The touchpoints service's errors and their problem+json form: the one place that maps an
//! error to a problem.

use actix_web::http::StatusCode;
use platform::Problem;
use platform::http::ServiceError;
use platform::http::idempotency::IdempotencyError;
use platform::http::versioning;
use platform::validation::FieldError;
use uuid::Uuid;

use crate::domain::precondition::PreconditionError;

#[derive(Debug, thiserror::Error)]
pub enum TouchpointsError {
    #[error("{0}")]
    Invalid(Problem),
    #[error("{0} not found")]
    NotFound(String),
    /// A PUT's `If-Match` / `If-None-Match` did not hold, or neither was sent.
    #[error(transparent)]
    Precondition(#[from] PreconditionError),
    /// The attribution engine refused the request: its models, the Markov order, or ad-hoc
    /// paths it could not read.
    #[error(transparent)]
    Attribution(attribution::Error),
    /// The engine refused a won deal's journey. Not unexpected: the same journey and model
    /// fail the same way on every try, so the consumer sends the `deal.won` to the
    /// dead-letter queue at once, with this reason, instead of retrying it.
    #[error("attributing deal {deal_id}: {source}")]
    DealAttribution {
        deal_id: Uuid,
        source: attribution::Error,
    },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ServiceError for TouchpointsError {
    fn problem(&self) -> Problem {
        match self {
            TouchpointsError::Invalid(p) => p.clone(),
            TouchpointsError::NotFound(what) => {
                Problem::not_found(format!("{what} does not exist"))
            }
            TouchpointsError::Precondition(e) => precondition_problem(e),
            TouchpointsError::Attribution(e) => engine_problem(e),
            // Only the consumer attributes won deals; were a request to, it is our failure.
            TouchpointsError::DealAttribution { .. } => {
                tracing::error!(error = %self, "attribution of a won deal failed");
                Problem::internal()
            }
            TouchpointsError::Unexpected(e) => {
                tracing::error!(error = ?e, "unexpected error");
                Problem::internal()
            }
        }
    }

    fn is_unexpected(&self) -> bool {
        matches!(
            self,
            TouchpointsError::Unexpected(_)
                | TouchpointsError::Attribution(attribution::Error::NotConverged { .. })
        )
    }
}

platform::service_error!(TouchpointsError, unexpected = Unexpected, invalid = Invalid);

impl From<IdempotencyError> for TouchpointsError {
    fn from(e: IdempotencyError) -> Self {
        match e {
            IdempotencyError::Mismatch => {
                TouchpointsError::Invalid(Problem::idempotency_mismatch())
            }
            IdempotencyError::Db(e) => e.into(),
        }
    }
}

/// A 400 for a request body that could not be read (`detail` says why).
pub fn unreadable_body(detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "malformed-body",
        "The body could not be read",
        Some(detail.into()),
    )
}

/// The problem naming what the engine refused: the body, a path or CSV line, `models` or a
/// model parameter.
fn engine_problem(e: &attribution::Error) -> Problem {
    use attribution::Error as E;
    match e {
        E::Input { location, message } if location == "body" => unreadable_body(message.clone()),
        E::Input { location, message } => Problem::field(location, message.clone()),
        E::UnknownModel { .. } | E::NeedsJourneys { .. } => Problem::field("models", e.to_string()),
        E::Parameter { field, .. } => Problem::field(field, e.to_string()),
        E::NotConverged { .. } => {
            tracing::error!(error = %e, "attribution did not converge");
            Problem::internal()
        }
    }
}

/// 428 when no precondition was sent (naming the header the client needs), 412 when one
/// did not hold (with `current_etag` when the resource exists).
fn precondition_problem(e: &PreconditionError) -> Problem {
    match *e {
        PreconditionError::Required { exists: true } => versioning::precondition_required(),
        PreconditionError::Required { exists: false } => Problem {
            errors: vec![FieldError {
                field: "header:if-none-match".into(),
                message: "send If-None-Match: * to create it".into(),
            }],
            ..Problem::new(
                StatusCode::PRECONDITION_REQUIRED,
                "precondition-required",
                "A precondition is required",
                Some(
                    "this resource does not exist yet: send If-None-Match: * to create it"
                        .to_string(),
                ),
            )
        },
        PreconditionError::Stale { current } => versioning::stale(current),
        PreconditionError::Exists { current } => Problem::precondition_failed(format!(
            "If-None-Match: * but the resource exists; its current ETag is \"{current}\": send it in If-Match to replace it"
        ))
        .with("current_etag", format!("\"{current}\"")),
        PreconditionError::Absent => Problem::precondition_failed(
            "If-Match but the resource does not exist: send If-None-Match: * to create it",
        ),
    }
}
