//! The runtime every Touchstone service uses: configuration, telemetry, HTTP
//! conventions, PostgreSQL access, and the event bus with outbox, inbox and DLQ.

pub mod app;
pub mod bus;
pub mod charts;
pub mod config;
pub mod db;
#[cfg(feature = "testing")]
mod fault_proxy;
pub mod http;
pub mod import;
pub mod metrics;
pub mod openapi;
pub mod reports;
pub mod schema;
pub mod sort;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;
pub mod validation;

pub use app::{Application, BackgroundTask, ServiceDefinition, TaskAborter};
pub use config::Settings;
pub use db::{Db, DbError};
/// diesel, for the paths of [`keyset!`] in the crates that use it.
#[doc(hidden)]
pub use diesel as __diesel;
pub use http::Problem;
pub use telemetry::TraceContext;
