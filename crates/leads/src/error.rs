//! The leads service's errors and the one place they become problem+json.

use actix_web::http::StatusCode;
use platform::Problem;
use platform::http::ServiceError;
use platform::http::idempotency::IdempotencyError;
use uuid::Uuid;

use crate::domain::lifecycle::MoveError;

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
    #[error("lead {0} has no MEDDICC card")]
    NoCard(Uuid),
    #[error("lead {id} was merged into {survivor}")]
    Merged { id: Uuid, survivor: Uuid },
    #[error(transparent)]
    IllegalMove(#[from] MoveError),
    #[error("domain {domain} belongs to account {account}")]
    DomainTaken { domain: String, account: Uuid },
    #[error("Idempotency-Key reused with a different body")]
    IdempotencyMismatch,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

platform::service_error!(LeadsError, unexpected = Unexpected, invalid = Invalid);

impl From<IdempotencyError> for LeadsError {
    fn from(e: IdempotencyError) -> Self {
        match e {
            IdempotencyError::Mismatch => LeadsError::IdempotencyMismatch,
            IdempotencyError::Db(e) => e.into(),
        }
    }
}

impl ServiceError for LeadsError {
    fn problem(&self) -> Problem {
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
            // A lead without a card is at version 0: the first PUT sends `If-Match: "0"`.
            LeadsError::NoCard(id) => {
                Problem::not_found(format!("lead {id} has no MEDDICC card yet"))
                    .with("current_etag", "\"0\"")
            }
            LeadsError::Merged { id, survivor } => Problem::new(
                StatusCode::PERMANENT_REDIRECT,
                "merged",
                "The lead was merged into another",
                Some(format!("lead {id} was merged into {survivor}")),
            )
            .with("survivor_id", survivor),
            LeadsError::IllegalMove(e @ MoveError::RecycleNeedsReason) => {
                Problem::field("reason", e.to_string())
            }
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

    fn is_unexpected(&self) -> bool {
        matches!(self, LeadsError::Unexpected(_))
    }

    /// A merged lead answers 308 with the survivor's address.
    fn location(&self) -> Option<String> {
        match self {
            LeadsError::Merged { survivor, .. } => Some(format!("/v1/leads/{survivor}")),
            _ => None,
        }
    }
}
