//! The break-even service: the cost-volume-profit calculator, products, fixed costs,
//! campaigns and scenarios, and live campaign and company break-even from events.
//!
//! Layers: `api/` and `events.rs` call `usecases/`, which call the pure `domain/` and
//! write through `store/` (rows only) and the outbox.

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

pub use config::Tracking;

pub const SERVICE: &str = "breakeven";
/// The HTTP port this service listens on unless configured otherwise.
pub const PORT: u16 = 8084;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/breakeven");

/// Everything the shared runtime needs to run this service, with the configured tracking
/// settings. Panics when they are not valid; [`build`] returns that error instead.
pub fn definition() -> ServiceDefinition {
    definition_with(Tracking::load().unwrap_or_else(|e| panic!("{e}")))
}

pub fn definition_with(tracking: Tracking) -> ServiceDefinition {
    let handler = events::BreakevenHandler::new(tracking.clone());
    let collectors = handler.collectors();
    let data = actix_web::web::Data::new(tracking);
    ServiceDefinition {
        name: SERVICE,
        migrations: MIGRATIONS,
        openapi: api::ApiDoc::openapi(),
        routes: Arc::new(move |cfg: &mut actix_web::web::ServiceConfig| {
            cfg.app_data(data.clone());
            api::routes(cfg)
        }),
        handler: Some(Arc::new(handler)),
        collectors,
        tasks: Vec::new(),
    }
}

/// The service with its settings; fails when its own settings are not valid, naming the
/// key.
pub async fn build(settings: Settings) -> anyhow::Result<Application> {
    Application::build(definition_with(Tracking::load()?), settings).await
}
