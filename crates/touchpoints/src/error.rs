//! The touchpoints service's errors and their problem+json form.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use platform::Problem;

#[derive(Debug, thiserror::Error)]
pub enum TouchpointsError {
    #[error("{0}")]
    Invalid(Problem),
    #[error("{0} not found")]
    NotFound(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<Problem> for TouchpointsError {
    fn from(p: Problem) -> Self {
        TouchpointsError::Invalid(p)
    }
}

impl From<diesel::result::Error> for TouchpointsError {
    fn from(e: diesel::result::Error) -> Self {
        TouchpointsError::Unexpected(e.into())
    }
}

impl From<platform::DbError> for TouchpointsError {
    fn from(e: platform::DbError) -> Self {
        TouchpointsError::Unexpected(e.into())
    }
}

impl TouchpointsError {
    pub fn problem(&self) -> Problem {
        match self {
            TouchpointsError::Invalid(p) => p.clone(),
            TouchpointsError::NotFound(what) => {
                Problem::not_found(format!("{what} does not exist"))
            }
            TouchpointsError::Unexpected(e) => {
                tracing::error!(error = ?e, "unexpected error");
                Problem::internal()
            }
        }
    }
}

impl ResponseError for TouchpointsError {
    fn status_code(&self) -> StatusCode {
        match self {
            TouchpointsError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
            other => other.problem().status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.problem().error_response()
    }
}
