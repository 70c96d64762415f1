//! The break-even service's errors and their problem+json form.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use platform::Problem;
use platform::http::FieldError;

use crate::domain::calculator::Rejection;
use crate::domain::cvp::CalcError;

#[derive(Debug, thiserror::Error)]
pub enum BreakevenError {
    #[error("{0}")]
    Invalid(Problem),
    /// Price does not exceed variable cost: no volume breaks even.
    #[error("contribution margin is not positive: break-even is unreachable")]
    Unreachable { field: String },
    #[error("the figures are too large to compute exactly")]
    Overflow,
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<Problem> for BreakevenError {
    fn from(p: Problem) -> Self {
        BreakevenError::Invalid(p)
    }
}

impl From<CalcError> for BreakevenError {
    fn from(e: CalcError) -> Self {
        match e {
            CalcError::Unreachable { field } => BreakevenError::Unreachable { field },
            CalcError::Overflow => BreakevenError::Overflow,
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

impl From<diesel::result::Error> for BreakevenError {
    fn from(e: diesel::result::Error) -> Self {
        BreakevenError::Unexpected(e.into())
    }
}

impl From<platform::DbError> for BreakevenError {
    fn from(e: platform::DbError) -> Self {
        BreakevenError::Unexpected(e.into())
    }
}

impl BreakevenError {
    pub fn problem(&self) -> Problem {
        match self {
            BreakevenError::Invalid(p) => p.clone(),
            BreakevenError::Unreachable { field } => {
                let message = "contribution margin is not positive: break-even is unreachable";
                let mut errors = vec![FieldError {
                    field: field.clone(),
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
            BreakevenError::Conflict(detail) => Problem::conflict(detail.clone()),
            BreakevenError::Unexpected(e) => {
                tracing::error!(error = ?e, "unexpected error");
                Problem::internal()
            }
        }
    }
}

impl ResponseError for BreakevenError {
    fn status_code(&self) -> StatusCode {
        match self {
            BreakevenError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
            other => other.problem().status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.problem().error_response()
    }
}
