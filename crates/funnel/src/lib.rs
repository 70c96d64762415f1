//! The funnel service: funnels, deals, the append-only stage-transition log and its
//! projections, and funnel analytics.

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

pub const SERVICE: &str = "funnel";
/// The HTTP port this service listens on unless configured otherwise.
pub const PORT: u16 = 8082;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/funnel");

/// Everything the shared runtime needs to run this service.
pub fn definition() -> ServiceDefinition {
    ServiceDefinition {
        name: SERVICE,
        migrations: MIGRATIONS,
        openapi: api::ApiDoc::openapi(),
        routes: Arc::new(api::routes),
        handler: Some(Arc::new(events::FunnelHandler)),
        collectors: Vec::new(),
        tasks: Vec::new(),
    }
}

pub async fn build(settings: Settings) -> anyhow::Result<Application> {
    Application::build(definition(), settings).await
}

/// Replays every deal's transition log into its projections; returns the deals corrected.
pub fn rebuild_projections(settings: &Settings) -> anyhow::Result<usize> {
    let db = platform::db::connect_and_migrate(&settings.database, MIGRATIONS)?;
    let mut conn = db.pool().get()?;
    use diesel::Connection;
    Ok(conn.transaction(|tx| usecases::deals::rebuild(tx))?)
}
