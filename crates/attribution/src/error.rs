//! The engine's one error type; every variant but `NotConverged` is the caller's fault.

/// What can go wrong between raw input and a report.
///
/// `Input`, `UnknownModel`, `Parameter` and `NeedsJourneys` describe a bad request and carry
/// enough to name the culprit in a 4xx response. `NotConverged` is the engine's own failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Malformed or invalid input. `location` names where: `line 7` for CSV,
    /// `paths[2].value` for JSON and for [`PathStat`](crate::PathStat) lists,
    /// `journeys[0].touches[3].at` for journeys.
    #[error("{location}: {message}")]
    Input { location: String, message: String },
    /// A model name that the engine does not know.
    #[error("unknown model {name:?}; expected one of {}", crate::model::MODEL_NAMES.join(", "))]
    UnknownModel { name: String },
    /// A model parameter out of range, unknown, or given to a model that takes none.
    #[error("{model}.{field}: {message}")]
    Parameter {
        model: &'static str,
        field: String,
        message: String,
    },
    /// The model reads touch times or lead/opportunity flags, which aggregated paths lack.
    #[error(
        "{model} needs journeys with touch times and lead/opportunity flags, not aggregated paths"
    )]
    NeedsJourneys { model: &'static str },
    /// The Markov solver hit its sweep limit before the residual fell below tolerance.
    #[error(
        "markov order {order}: solver did not converge (residual {residual:e} after {sweeps} sweeps)"
    )]
    NotConverged {
        order: u8,
        sweeps: usize,
        residual: f64,
    },
}

impl Error {
    pub(crate) fn input(location: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Input {
            location: location.into(),
            message: message.into(),
        }
    }

    pub(crate) fn parameter(
        model: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Parameter {
            model,
            field: field.into(),
            message: message.into(),
        }
    }
}
