//! The leads service: accounts, leads, sources, scoring and lifecycle.

pub mod api;
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

pub const SERVICE: &str = "leads";
/// The HTTP port this service listens on unless configured otherwise.
pub const PORT: u16 = 8081;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/leads");

/// Everything the shared runtime needs to run this service.
pub fn definition() -> ServiceDefinition {
    let handler = events::LeadsHandler::new();
    let collectors = handler.collectors();
    ServiceDefinition {
        name: SERVICE,
        migrations: MIGRATIONS,
        openapi: api::ApiDoc::openapi(),
        routes: Arc::new(api::routes),
        handler: Some(Arc::new(handler)),
        collectors,
        tasks: Vec::new(),
    }
}

pub async fn build(settings: Settings) -> anyhow::Result<Application> {
    Application::build(definition(), settings).await
}
