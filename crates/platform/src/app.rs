//! Start-up and shutdown of a service: bind the listener, migrate, and run the HTTP
//! server, the outbox relay and the consumer together until SIGINT/SIGTERM.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use diesel_migrations::EmbeddedMigrations;
use tokio::sync::watch;

use crate::bus::BrokerStatus;
use crate::bus::consumer::{Consumer, EventHandler};
use crate::bus::relay::Relay;
use crate::config::Settings;
use crate::db::{Db, connect_and_migrate};
use crate::http::json::JsonLimit;
use crate::http::{OpenApiJson, middleware, not_found, platform_routes};
use crate::metrics::Metrics;

pub type Routes = Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>;

/// What a service brings to the shared runtime.
pub struct ServiceDefinition {
    pub name: &'static str,
    pub migrations: EmbeddedMigrations,
    pub openapi: utoipa::openapi::OpenApi,
    pub routes: Routes,
    pub handler: Option<Arc<dyn EventHandler>>,
    /// The service's own metrics, served at `/metrics` beside the platform's.
    pub collectors: Vec<Box<dyn prometheus::core::Collector>>,
}

pub struct Application {
    port: u16,
    server: Server,
    relay: Option<Relay>,
    consumer: Option<Consumer>,
    db: Db,
    metrics: Metrics,
    settings: Settings,
    status: BrokerStatus,
}

impl Application {
    pub async fn build(def: ServiceDefinition, settings: Settings) -> anyhow::Result<Self> {
        let db_settings = settings.database.clone();
        let migrations = def.migrations;
        let db = tokio::task::spawn_blocking(move || connect_and_migrate(&db_settings, migrations))
            .await??;
        let metrics = Metrics::new(def.name);
        for c in def.collectors {
            metrics.register(c);
        }
        let status = BrokerStatus::default();
        let listener = TcpListener::bind((settings.http.host.as_str(), settings.http.port))?;
        let port = listener.local_addr()?.port();
        let openapi = OpenApiJson(openapi_json(def.openapi)?);
        let routes = def.routes.clone();
        let data = (
            web::Data::new(db.clone()),
            web::Data::new(metrics.clone()),
            web::Data::new(status.clone()),
            web::Data::new(settings.clone()),
            web::Data::new(openapi),
            web::Data::new(JsonLimit(settings.http.json_limit)),
        );
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(middleware::problem_instance))
                .wrap(from_fn(middleware::observe))
                .app_data(data.0.clone())
                .app_data(data.1.clone())
                .app_data(data.2.clone())
                .app_data(data.3.clone())
                .app_data(data.4.clone())
                .app_data(data.5.clone())
                .configure(platform_routes)
                .configure(|cfg| routes(cfg))
                .default_service(web::to(not_found))
        })
        .disable_signals()
        .shutdown_timeout(10)
        .listen(listener)?;
        if let Some(w) = settings.http.workers {
            server = server.workers(w);
        }
        let server = server.run();
        let relay = if settings.outbox.enabled {
            let db_settings = settings.database.clone();
            let relay_db =
                tokio::task::spawn_blocking(move || crate::db::open_pool(&db_settings, 2))
                    .await??;
            Some(Relay::new(
                relay_db,
                settings.clone(),
                metrics.clone(),
                status.clone(),
                def.name,
            ))
        } else {
            None
        };
        let consumer = def.handler.filter(|_| settings.bus.consume).map(|h| {
            Consumer::new(
                db.clone(),
                settings.clone(),
                metrics.clone(),
                status.clone(),
                def.name,
                h,
            )
        });
        // Not ready until each bus component this process runs has connected (and the
        // consumer has declared and bound its queue).
        if relay.is_some() {
            status.set_relay(false);
        }
        if consumer.is_some() {
            status.set_consumer(false);
        }
        Ok(Application {
            port,
            server,
            relay,
            consumer,
            db,
            metrics,
            settings,
            status,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn broker_status(&self) -> BrokerStatus {
        self.status.clone()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Runs until SIGINT or SIGTERM, then drains in-flight requests and stops the bus tasks.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Runs until `stop` resolves (tests pass their own future).
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let (tx, rx) = watch::channel(false);
        let mut tasks = Vec::new();
        if let Some(relay) = self.relay {
            tasks.push(tokio::spawn(relay.run(rx.clone())));
        }
        if let Some(consumer) = self.consumer {
            tasks.push(tokio::spawn(consumer.run(rx.clone())));
        }
        let handle = self.server.handle();
        let mut server = tokio::spawn(self.server);
        let result = tokio::select! {
            r = &mut server => r.map_err(anyhow::Error::from).and_then(|r| r.map_err(Into::into)),
            () = stop => {
                tracing::info!("shutdown requested");
                handle.stop(true).await;
                Ok(())
            }
        };
        let _ = tx.send(true);
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
        result
    }
}

/// The document a service serves at `/openapi.json`.
pub fn openapi_json(mut openapi: utoipa::openapi::OpenApi) -> anyhow::Result<String> {
    openapi.info.version = env!("CARGO_PKG_VERSION").to_string();
    Ok(openapi.to_pretty_json()?)
}

/// `touchstone-<service> openapi` prints the service's OpenAPI document and exits, without
/// configuration, database or broker: the gateway's document is generated from these.
/// Returns whether it printed.
pub fn print_openapi_if_asked(
    definition: impl FnOnce() -> anyhow::Result<ServiceDefinition>,
) -> anyhow::Result<bool> {
    if std::env::args().nth(1).as_deref() != Some("openapi") {
        return Ok(false);
    }
    println!("{}", openapi_json(definition()?.openapi)?);
    Ok(true)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
