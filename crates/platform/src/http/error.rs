//! One way for every service to turn its error enum into a problem+json response and to
//! tell the consumer whether an error is worth retrying.
//!
//! A service implements [`ServiceError`] once (its `problem()` mapping), then invokes
//! [`service_error!`](crate::service_error) for the actix `ResponseError` and the `From`
//! conversions of database errors into its `Unexpected` variant.

use super::Problem;

/// A service's error: how it reads as a problem, and whether it is unexpected (a 500 to an
/// API client, a transient failure to the consumer, which retries it).
pub trait ServiceError: std::error::Error + Send + Sync + 'static {
    /// The problem+json body (and status) for this error. Unexpected errors log their cause
    /// here and answer [`Problem::internal`].
    fn problem(&self) -> Problem;

    /// Whether the error is an infrastructure failure rather than a rule the input broke.
    fn is_unexpected(&self) -> bool;

    /// A `Location` to send with the problem (e.g. where a merged record went).
    fn location(&self) -> Option<String> {
        None
    }
}

/// Implements `actix_web::ResponseError` for a [`ServiceError`], and `From` for
/// `diesel::result::Error`, [`DbError`](crate::DbError) and
/// [`Invalid`](crate::validation::Invalid) and [`Problem`], given the names of its
/// variants that carry an `anyhow::Error` and a `Problem`.
#[macro_export]
macro_rules! service_error {
    ($ty:ident, unexpected = $unexpected:ident, invalid = $invalid:ident) => {
        impl ::actix_web::ResponseError for $ty {
            fn status_code(&self) -> ::actix_web::http::StatusCode {
                if $crate::http::ServiceError::is_unexpected(self) {
                    ::actix_web::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    $crate::http::ServiceError::problem(self).status_code()
                }
            }

            fn error_response(&self) -> ::actix_web::HttpResponse {
                let mut response = $crate::http::ServiceError::problem(self).error_response();
                if let Some(location) = $crate::http::ServiceError::location(self)
                    && let Ok(value) = location.parse()
                {
                    response
                        .headers_mut()
                        .insert(::actix_web::http::header::LOCATION, value);
                }
                response
            }
        }

        impl From<::diesel::result::Error> for $ty {
            fn from(e: ::diesel::result::Error) -> Self {
                $crate::DbError::Query(e).into()
            }
        }

        impl From<$crate::DbError> for $ty {
            fn from(e: $crate::DbError) -> Self {
                // Every connection busy, or the database unreachable: the service cannot
                // answer now, the request is not wrong.
                if e.is_unavailable() {
                    ::tracing::warn!(error = %e, "the database is unavailable");
                    $ty::$invalid($crate::Problem::unavailable(
                        "the database is unavailable or busy: retry after Retry-After seconds",
                    ))
                } else {
                    $ty::$unexpected(e.into())
                }
            }
        }

        impl From<$crate::Problem> for $ty {
            fn from(p: $crate::Problem) -> Self {
                $ty::$invalid(p)
            }
        }

        impl From<$crate::validation::Invalid> for $ty {
            fn from(i: $crate::validation::Invalid) -> Self {
                $ty::$invalid(i.into())
            }
        }
    };
}
