//! The funnel service's errors and their problem+json form.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use platform::Problem;
use uuid::Uuid;

use crate::domain::log::MoveError;

#[derive(Debug, thiserror::Error)]
pub enum FunnelError {
    #[error("{0}")]
    Invalid(Problem),
    #[error("funnel {0} not found")]
    FunnelNotFound(Uuid),
    #[error("deal {0} not found")]
    DealNotFound(Uuid),
    #[error("a deal with external id {0} exists in this funnel")]
    DuplicateExternalId(String),
    #[error(transparent)]
    Move(#[from] MoveError),
    #[error("{field}: {message}")]
    Field { field: String, message: String },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<Problem> for FunnelError {
    fn from(p: Problem) -> Self {
        FunnelError::Invalid(p)
    }
}

impl From<diesel::result::Error> for FunnelError {
    fn from(e: diesel::result::Error) -> Self {
        FunnelError::Unexpected(e.into())
    }
}

impl From<platform::DbError> for FunnelError {
    fn from(e: platform::DbError) -> Self {
        FunnelError::Unexpected(e.into())
    }
}

impl FunnelError {
    pub fn field(field: &str, message: impl Into<String>) -> FunnelError {
        FunnelError::Field {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn problem(&self) -> Problem {
        match self {
            FunnelError::Invalid(p) => p.clone(),
            FunnelError::FunnelNotFound(id) => {
                Problem::not_found(format!("funnel {id} does not exist"))
            }
            FunnelError::DealNotFound(id) => {
                Problem::not_found(format!("deal {id} does not exist"))
            }
            FunnelError::DuplicateExternalId(x) => {
                Problem::conflict(format!("a deal with external_id {x} exists in this funnel"))
            }
            FunnelError::Field { field, message } => Problem::field(field, message.clone()),
            FunnelError::Move(e) => match e {
                MoveError::UnknownStage(_) => Problem::field("to_stage", e.to_string()),
                MoveError::InFuture | MoveError::BeforeOpen(_) => {
                    Problem::field("at", e.to_string())
                }
                MoveError::ReasonRequired => Problem::field("reason", e.to_string()),
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

    /// The error's message for one NDJSON line, without logging.
    pub fn line_message(&self) -> String {
        match self {
            FunnelError::Invalid(p) => {
                let fields: Vec<String> = p
                    .errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect();
                if fields.is_empty() {
                    p.detail.clone().unwrap_or_default()
                } else {
                    fields.join("; ")
                }
            }
            FunnelError::Move(e) => {
                let p = self.problem();
                match p.errors.first() {
                    Some(f) => format!("{}: {}", f.field, f.message),
                    None => e.to_string(),
                }
            }
            other => other.to_string(),
        }
    }
}

impl ResponseError for FunnelError {
    fn status_code(&self) -> StatusCode {
        match self {
            FunnelError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
            other => other.problem().status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.problem().error_response()
    }
}
