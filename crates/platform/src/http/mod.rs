//! HTTP conventions shared by every service: problems, JSON bodies, request telemetry,
//! idempotency, health, metrics and the OpenAPI document.

pub mod error;
pub mod idempotency;
pub mod json;
pub mod middleware;
pub mod problem;
pub mod query;
pub mod sort;
pub mod versioning;

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::bus::BrokerStatus;
use crate::db::Db;
use crate::metrics::Metrics;
pub use error::ServiceError;
pub use problem::{FieldError, FieldErrors, Problem};

/// The OpenAPI document of a service, serialised once at start-up.
#[derive(Clone)]
pub struct OpenApiJson(pub String);

/// Routes every service has: health, metrics, OpenAPI and its viewer.
pub fn platform_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/live", web::get().to(live))
        .route("/health/ready", web::get().to(ready))
        .route("/metrics", web::get().to(metrics))
        .route("/openapi.json", web::get().to(openapi))
        .route("/docs", web::get().to(docs))
        .route("/docs/{asset}", web::get().to(docs_asset));
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// 200 when the database answers and the broker connections are up, else 503.
async fn ready(db: web::Data<Db>, broker: web::Data<BrokerStatus>) -> HttpResponse {
    let db_ok = matches!(
        tokio::time::timeout(Duration::from_secs(2), db.ping()).await,
        Ok(Ok(()))
    );
    let broker_ok = broker.is_up();
    let body = serde_json::json!({
        "status": if db_ok && broker_ok { "ready" } else { "unavailable" },
        "checks": {
            "database": if db_ok { "up" } else { "down" },
            "broker": if broker_ok { "up" } else { "down" },
        }
    });
    if db_ok && broker_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn metrics(m: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(m.render())
}

async fn openapi(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.clone())
}

/// Swagger UI's files, vendored from swagger-ui-dist (see `assets/swagger-ui/README.md`) so
/// that `/docs` works offline; the gateway serves the same files.
const DOCS_ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js"),
    ),
    (
        "swagger-ui.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/swagger-ui/swagger-ui.css"),
    ),
    (
        "init.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/swagger-ui/init.js"),
    ),
];

/// Swagger UI over `/openapi.json`.
async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(include_str!("../../assets/swagger-ui/index.html"))
}

async fn docs_asset(asset: web::Path<String>) -> Result<HttpResponse, Problem> {
    let (_, content_type, body) = DOCS_ASSETS
        .iter()
        .find(|(name, _, _)| *name == asset.as_str())
        .ok_or_else(|| Problem::not_found(format!("no documentation asset {asset}")))?;
    Ok(HttpResponse::Ok()
        .content_type(*content_type)
        .insert_header(("cache-control", "public, max-age=86400"))
        .body(*body))
}

/// Unknown routes get a problem too.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, Problem> {
    Err(Problem::not_found(format!(
        "no route for {} {}",
        req.method(),
        req.path()
    )))
}
