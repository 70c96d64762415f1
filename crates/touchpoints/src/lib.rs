//! The touchpoints service: touchpoint ingest, identity stitching, journeys and
//! conversions, and campaign, affiliate and journey reports.

pub mod api;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod reports;
pub mod store;
pub mod usecases;

use std::sync::Arc;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use platform::{Application, ServiceDefinition, Settings};
use utoipa::OpenApi;

pub use config::{IngestSettings, TouchpointsConfig};

pub const SERVICE: &str = "touchpoints";
/// The HTTP port this service listens on unless configured otherwise.
pub const PORT: u16 = 8083;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/touchpoints");

/// Everything the shared runtime needs to run this service, with its own settings from its
/// file and environment (see [`config`]).
pub fn definition() -> anyhow::Result<ServiceDefinition> {
    Ok(definition_with(TouchpointsConfig::load()?))
}

/// The service with explicit settings of its own (tests shorten windows and chunks).
pub fn definition_with(config: TouchpointsConfig) -> ServiceDefinition {
    let config = Arc::new(config);
    let handler = events::TouchpointsHandler::new(config.clone());
    let collectors = handler.collectors();
    let tasks = handler.tasks();
    ServiceDefinition {
        name: SERVICE,
        migrations: MIGRATIONS,
        openapi: api::ApiDoc::openapi(),
        routes: Arc::new(move |cfg| api::routes(cfg, config.clone())),
        handler: Some(Arc::new(handler)),
        collectors,
        tasks,
    }
}

pub async fn build(settings: Settings) -> anyhow::Result<Application> {
    Application::build(definition()?, settings).await
}
