//! The break-even service: the cost-volume-profit calculator, products, fixed costs,
//! campaigns and scenarios, and live campaign and company break-even from events.

pub mod api;
pub mod domain;
pub mod error;
pub mod events;
pub mod reports;
pub mod store;

use std::str::FromStr;
use std::sync::Arc;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use platform::{Application, ServiceDefinition, Settings};
use rust_decimal::Decimal;
use utoipa::OpenApi;

pub const SERVICE: &str = "breakeven";
/// The HTTP port this service listens on unless configured otherwise.
pub const PORT: u16 = 8084;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/breakeven");

/// Live-tracking settings beyond the platform's, from the environment:
/// `TOUCHSTONE_BREAKEVEN__TRACKING__RISK_THRESHOLD` (default 0.5) and
/// `TOUCHSTONE_BREAKEVEN__TRACKING__ATTRIBUTION_MODEL` (default `position_based`).
#[derive(Debug, Clone)]
pub struct Tracking {
    /// Share of budget spent that, with ROAS below break-even ROAS, makes a campaign at risk.
    pub risk_threshold: Decimal,
    /// Which attribution model's credits count when a deal was attributed by several.
    pub attribution_model: String,
}

impl Default for Tracking {
    fn default() -> Self {
        Tracking {
            risk_threshold: Decimal::new(5, 1),
            attribution_model: "position_based".to_string(),
        }
    }
}

impl Tracking {
    pub fn from_env() -> Self {
        let mut t = Tracking::default();
        if let Ok(v) = std::env::var("TOUCHSTONE_BREAKEVEN__TRACKING__RISK_THRESHOLD") {
            match Decimal::from_str(v.trim()) {
                Ok(d) if d > Decimal::ZERO && d <= Decimal::ONE => t.risk_threshold = d,
                _ => tracing::warn!(value = %v, "ignoring invalid risk threshold"),
            }
        }
        if let Ok(v) = std::env::var("TOUCHSTONE_BREAKEVEN__TRACKING__ATTRIBUTION_MODEL")
            && !v.trim().is_empty()
        {
            t.attribution_model = v.trim().to_string();
        }
        t
    }
}

/// Everything the shared runtime needs to run this service.
pub fn definition() -> ServiceDefinition {
    definition_with(Tracking::from_env())
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
    }
}

pub async fn build(settings: Settings) -> anyhow::Result<Application> {
    Application::build(definition(), settings).await
}
