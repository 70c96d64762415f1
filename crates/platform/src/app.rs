//! Start-up and shutdown of a service: bind the listener, migrate, and run the HTTP
//! server, the outbox relay and the consumer together until SIGINT/SIGTERM.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use diesel_migrations::EmbeddedMigrations;
use futures::future::BoxFuture;
use tokio::sync::watch;
use tokio::task::JoinSet;

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
    /// Long-running work of the service's own (e.g. refreshing a trained model), supervised
    /// like the relay and the consumer.
    pub tasks: Vec<BackgroundTask>,
}

/// A service's own long-running task: started with the service's database pool and the
/// shutdown signal, it must run until that signal turns true. Returning earlier, or
/// panicking, is a failure the supervisor acts on (see [`Application::run_until`]).
pub struct BackgroundTask {
    pub name: &'static str,
    pub run: Box<dyn FnOnce(Db, watch::Receiver<bool>) -> BoxFuture<'static, ()> + Send>,
}

impl BackgroundTask {
    pub fn new<F, Fut>(name: &'static str, run: F) -> Self
    where
        F: FnOnce(Db, watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        BackgroundTask {
            name,
            run: Box::new(move |db, stop| Box::pin(run(db, stop))),
        }
    }
}

pub struct Application {
    port: u16,
    server: Server,
    relay: Option<Relay>,
    consumer: Option<Consumer>,
    tasks: Vec<BackgroundTask>,
    aborts: TaskAborter,
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
        let write_queries = web::Data::new(middleware::WriteQueries::from_openapi(&def.openapi));
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
                .wrap(from_fn(middleware::refuse_unknown_write_queries))
                .wrap(from_fn(middleware::problem_instance))
                .wrap(from_fn(middleware::observe))
                .app_data(data.0.clone())
                .app_data(data.1.clone())
                .app_data(data.2.clone())
                .app_data(data.3.clone())
                .app_data(data.4.clone())
                .app_data(data.5.clone())
                .app_data(write_queries.clone())
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
            tasks: def.tasks,
            aborts: TaskAborter::default(),
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
    ///
    /// The relay, the consumer and the service's own tasks are supervised: they run until
    /// shutdown, so one that ends before it (a panic, or a bug that returns) leaves a
    /// process that answers HTTP but no longer moves events. Readiness then turns 503 at
    /// once, and after `runtime.task_grace_ms` (for in-flight requests and the load
    /// balancer to notice) the server stops and this returns an error: the process exits
    /// non-zero and its supervisor (`make run`, Kubernetes) starts a fresh one.
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let (tx, rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let aborts = self.aborts;
        if let Some(relay) = self.relay {
            let name = "outbox relay";
            aborts.register(name, tasks.spawn(named(name, relay.run(rx.clone()))));
        }
        if let Some(consumer) = self.consumer {
            let name = "consumer";
            aborts.register(name, tasks.spawn(named(name, consumer.run(rx.clone()))));
        }
        for task in self.tasks {
            let run = (task.run)(self.db.clone(), rx.clone());
            aborts.register(task.name, tasks.spawn(named(task.name, run)));
        }
        let grace = Duration::from_millis(self.settings.runtime.task_grace_ms);
        let handle = self.server.handle();
        let mut server = tokio::spawn(self.server);
        let names = aborts.names();
        let watched = async {
            match tasks.join_next().await {
                Some(Ok(name)) => format!("the {name} task stopped"),
                Some(Err(e)) => {
                    let name = names.get(&e.id()).copied().unwrap_or("background");
                    let how = if e.is_panic() {
                        "panicked"
                    } else {
                        "was cancelled"
                    };
                    format!("the {name} task {how}")
                }
                None => std::future::pending().await,
            }
        };
        let result = tokio::select! {
            r = &mut server => r.map_err(anyhow::Error::from).and_then(|r| r.map_err(Into::into)),
            () = stop => {
                tracing::info!("shutdown requested");
                handle.stop(true).await;
                Ok(())
            }
            failure = watched => {
                self.status.set_failed();
                tracing::error!(%failure, ?grace, "a bus task died; not ready, exiting after the grace period");
                tokio::time::sleep(grace).await;
                handle.stop(true).await;
                Err(anyhow::anyhow!("{failure}; exiting so that a supervisor restarts the service"))
            }
        };
        let _ = tx.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        result
    }

    /// Ends the supervised tasks from outside, as a crash would: how tests check the
    /// supervisor. Take it before [`run_until`](Self::run_until).
    pub fn task_aborter(&self) -> TaskAborter {
        self.aborts.clone()
    }
}

/// Aborts a supervised task by name (`outbox relay`, `consumer` or a service task's).
#[derive(Clone, Default)]
pub struct TaskAborter(Arc<std::sync::Mutex<Vec<(&'static str, tokio::task::AbortHandle)>>>);

impl TaskAborter {
    fn register(&self, name: &'static str, handle: tokio::task::AbortHandle) {
        self.0.lock().expect("aborter lock").push((name, handle));
    }

    fn names(&self) -> std::collections::HashMap<tokio::task::Id, &'static str> {
        let tasks = self.0.lock().expect("aborter lock");
        tasks.iter().map(|(name, h)| (h.id(), *name)).collect()
    }

    /// Whether a running task of that name was found and aborted.
    pub fn abort(&self, name: &str) -> bool {
        let tasks = self.0.lock().expect("aborter lock");
        let found = tasks.iter().filter(|(n, _)| *n == name);
        let mut any = false;
        for (_, handle) in found {
            handle.abort();
            any = true;
        }
        any
    }
}

async fn named(name: &'static str, task: impl std::future::Future<Output = ()>) -> &'static str {
    task.await;
    name
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
