//! The leads service's errors and their problem+json form.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use platform::Problem;
use platform::http::idempotency::IdempotencyError;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum LeadsError {
    #[error("{0}")]
    Invalid(Problem),
    #[error("lead {0} not found")]
    NotFound(Uuid),
    #[error("a lead with this email exists: {existing}")]
    DuplicateEmail { existing: Uuid },
    #[error("Idempotency-Key reused with a different body")]
    IdempotencyMismatch,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<Problem> for LeadsError {
    fn from(p: Problem) -> Self {
        LeadsError::Invalid(p)
    }
}

impl From<diesel::result::Error> for LeadsError {
    fn from(e: diesel::result::Error) -> Self {
        LeadsError::Unexpected(e.into())
    }
}

impl From<platform::DbError> for LeadsError {
    fn from(e: platform::DbError) -> Self {
        LeadsError::Unexpected(e.into())
    }
}

impl From<IdempotencyError> for LeadsError {
    fn from(e: IdempotencyError) -> Self {
        match e {
            IdempotencyError::Mismatch => LeadsError::IdempotencyMismatch,
            IdempotencyError::Db(e) => e.into(),
        }
    }
}

impl LeadsError {
    pub fn problem(&self) -> Problem {
        match self {
            LeadsError::Invalid(p) => p.clone(),
            LeadsError::NotFound(id) => Problem::not_found(format!("lead {id} does not exist")),
            LeadsError::DuplicateEmail { existing } => Problem::new(
                StatusCode::CONFLICT,
                "duplicate-lead",
                "A lead with this email already exists",
                Some(format!("lead {existing} already has this email")),
            )
            .with("existing_id", existing),
            LeadsError::IdempotencyMismatch => Problem::idempotency_mismatch(),
            LeadsError::Unexpected(e) => {
                tracing::error!(error = ?e, "unexpected error");
                Problem::internal()
            }
        }
    }
}

impl ResponseError for LeadsError {
    fn status_code(&self) -> StatusCode {
        match self {
            LeadsError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
            other => other.problem().status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.problem().error_response()
    }
}
