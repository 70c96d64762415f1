//! The funnel service's errors and the one place they become problems.

use actix_web::http::StatusCode;
use platform::Problem;
use platform::http::ServiceError;
use platform::http::idempotency::IdempotencyError;
use uuid::Uuid;

use crate::domain::deal::OpenError;
use crate::domain::log::MoveError;

#[derive(Debug, thiserror::Error)]
pub enum FunnelError {
    #[error("{0}")]
    Invalid(Problem),
    #[error("funnel {0} not found")]
    FunnelNotFound(Uuid),
    #[error("deal {0} not found")]
    DealNotFound(Uuid),
    #[error("a deal with external id {external_id} exists in this funnel: {existing}")]
    DuplicateExternalId { external_id: String, existing: Uuid },
    #[error("Idempotency-Key reused with a different body")]
    IdempotencyMismatch,
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Move(#[from] MoveError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ServiceError for FunnelError {
    fn problem(&self) -> Problem {
        match self {
            FunnelError::Invalid(p) => p.clone(),
            FunnelError::FunnelNotFound(id) => {
                Problem::not_found(format!("funnel {id} does not exist"))
            }
            FunnelError::DealNotFound(id) => {
                Problem::not_found(format!("deal {id} does not exist"))
            }
            FunnelError::DuplicateExternalId {
                external_id,
                existing,
            } => Problem::conflict(format!(
                "deal {existing} has external_id {external_id} in this funnel"
            ))
            .with("existing_id", existing),
            FunnelError::IdempotencyMismatch => Problem::idempotency_mismatch(),
            FunnelError::Open(e) => match e {
                OpenError::NoSuchFunnel => Problem::field("funnel_id", e.to_string()),
                OpenError::UnknownStage(_) | OpenError::OpensClosed => {
                    Problem::field("stage", e.to_string())
                }
                OpenError::InFuture => Problem::field("opened_at", e.to_string()),
            },
            FunnelError::Move(e) => match e {
                MoveError::UnknownStage(_) => Problem::field("to_stage", e.to_string()),
                MoveError::InFuture | MoveError::BeforeOpen(_) => {
                    Problem::field("at", e.to_string())
                }
                MoveError::ReasonRequired => Problem::field("reason", e.to_string()),
                MoveError::ValueRequired => Problem::field("amount", e.to_string()),
                MoveError::FromTerminal { .. }
                | MoveError::SameStage(_)
                | MoveError::TerminalNotLast(_) => Problem::new(
                    StatusCode::CONFLICT,
                    "illegal-transition",
                    "The transition is not allowed",
                    Some(e.to_string()),
                ),
            },
            FunnelError::Unexpected(e) => {
                tracing::error!(error = ?e, "unexpected error");
                Problem::internal()
            }
        }
    }

    fn is_unexpected(&self) -> bool {
        matches!(self, FunnelError::Unexpected(_))
    }
}

platform::service_error!(FunnelError, unexpected = Unexpected, invalid = Invalid);

impl From<IdempotencyError> for FunnelError {
    fn from(e: IdempotencyError) -> Self {
        match e {
            IdempotencyError::Mismatch => FunnelError::IdempotencyMismatch,
            IdempotencyError::Db(e) => e.into(),
        }
    }
}

impl FunnelError {
    /// The error's message for one NDJSON line: its invalid fields, else its detail. Never
    /// called for unexpected errors (an import stops on those), so it logs nothing.
    pub fn line_message(&self) -> String {
        let p = self.problem();
        if !p.errors.is_empty() {
            let fields: Vec<String> = p
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            return fields.join("; ");
        }
        match self {
            FunnelError::Invalid(p) => p.detail.clone().unwrap_or_default(),
            other => other.to_string(),
        }
    }
}
