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
    #[error("account {0} not found")]
    AccountNotFound(Uuid),
    #[error("lead {id} was merged into {survivor}")]
    Merged { id: Uuid, survivor: Uuid },
    #[error("If-Match does not match the current version {current}")]
    VersionMismatch { current: i32 },
    #[error("If-Match is required")]
    VersionRequired,
    #[error(transparent)]
    IllegalMove(#[from] crate::domain::lifecycle::MoveError),
    #[error("domain {domain} belongs to account {account}")]
    DomainTaken { domain: String, account: Uuid },
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
            LeadsError::AccountNotFound(id) => {
                Problem::not_found(format!("account {id} does not exist"))
            }
            LeadsError::Merged { id, survivor } => Problem::new(
                StatusCode::PERMANENT_REDIRECT,
                "merged",
                "The lead was merged into another",
                Some(format!("lead {id} was merged into {survivor}")),
            )
            .with("survivor_id", survivor),
            LeadsError::VersionMismatch { current } => Problem::precondition_failed(format!(
                "If-Match does not match the current version; the current ETag is \"{current}\""
            )),
            LeadsError::VersionRequired => Problem {
                errors: vec![platform::http::FieldError {
                    field: "header:if-match".into(),
                    message: "is required: send the ETag of your last read".into(),
                }],
                ..Problem::new(
                    StatusCode::PRECONDITION_REQUIRED,
                    "precondition-required",
                    "If-Match is required",
                    Some("send the ETag of your last read in If-Match".to_string()),
                )
            },
            LeadsError::IllegalMove(
                e @ crate::domain::lifecycle::MoveError::RecycleNeedsReason,
            ) => Problem::field("reason", e.to_string()),
            LeadsError::IllegalMove(e) => Problem::new(
                StatusCode::CONFLICT,
                "illegal-lifecycle-move",
                "The lifecycle move is not allowed",
                Some(e.to_string()),
            ),
            LeadsError::DomainTaken { domain, account } => Problem::new(
                StatusCode::CONFLICT,
                "domain-taken",
                "The domain belongs to another account",
                Some(format!("{domain} belongs to account {account}")),
            )
            .with("existing_id", account),
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
        let mut response = self.problem().error_response();
        if let LeadsError::Merged { survivor, .. } = self
            && let Ok(v) = format!("/v1/leads/{survivor}").parse()
        {
            response
                .headers_mut()
                .insert(actix_web::http::header::LOCATION, v);
        }
        response
    }
}
