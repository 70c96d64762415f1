//! PostgreSQL access: one database per service, created and migrated at start-up, used
//! through an r2d2 pool on tokio's blocking threads with the caller's tracing span kept.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use secrecy::ExposeSecret;
use tracing::Instrument;

use crate::config::DatabaseSettings;

pub type PgPool = Pool<ConnectionManager<PgConnection>>;
pub type PgPooled = PooledConnection<ConnectionManager<PgConnection>>;

/// The tables every service has: outbox, inbox and idempotency keys.
pub const PLATFORM_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/platform");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("blocking task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("the database did not answer within {0:?}")]
    Timeout(Duration),
}

impl DbError {
    /// The database is unreachable or overloaded, not the request wrong: a 503 with
    /// `Retry-After` to a client, a transient failure to a consumer.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Pool(_) | DbError::Timeout(_) => true,
            DbError::Query(e) => connection_lost(e),
            DbError::Join(_) => false,
        }
    }
}

/// Whether a query failed because its connection broke (the server went away or
/// restarted), rather than because of the query.
pub fn connection_lost(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(
        e,
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
            | Error::BrokenTransactionManager
    )
}

/// The handle services use for every query.
#[derive(Clone)]
pub struct Db {
    pool: PgPool,
    timeout: Duration,
}

impl Db {
    /// A handle whose calls give up after a minute (see [`with_timeout`](Self::with_timeout)).
    pub fn new(pool: PgPool) -> Self {
        Db {
            pool,
            timeout: Duration::from_secs(60),
        }
    }

    /// Calls that get no answer within `timeout` fail with [`DbError::Timeout`]: when the
    /// network to the database drops packets, a query never fails by itself. (The blocking
    /// thread stays with its query until the connection answers or breaks.)
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Runs `f` with a pooled connection on a blocking thread, inside the current span.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        // Set when the caller stops waiting: work that only then gets its connection is
        // not started, so a request answered 503 does not go on to change data.
        let abandoned = Arc::new(AtomicBool::new(false));
        let given_up = abandoned.clone();
        let timeout = self.timeout;
        let call = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = pool.get().map_err(DbError::from)?;
            if given_up.load(Ordering::Acquire) {
                return Err(DbError::Timeout(timeout).into());
            }
            f(&mut conn)
        })
        .instrument(tracing::Span::current());
        match tokio::time::timeout(timeout, call).await {
            Ok(joined) => joined.map_err(DbError::from)?,
            Err(_) => {
                abandoned.store(true, Ordering::Release);
                Err(DbError::Timeout(timeout).into())
            }
        }
    }

    /// `SELECT 1` within the pool's timeout: the readiness probe.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.run(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok::<_, DbError>(())
        })
        .await
    }
}

/// Creates the service's database if it does not exist yet.
pub fn ensure_database(settings: &DatabaseSettings) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(settings.maintenance_url().expose_secret())?;
    let exists: i64 = diesel::sql_query("SELECT 1 AS one FROM pg_database WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(&settings.name)
        .load::<One>(&mut conn)?
        .len() as i64;
    if exists == 0 {
        let sql = format!("CREATE DATABASE {}", quote_ident(&settings.name));
        match diesel::sql_query(sql).execute(&mut conn) {
            Ok(_) => tracing::info!(database = %settings.name, "created database"),
            // Another replica won the race: that is fine.
            Err(diesel::result::Error::DatabaseError(_, info))
                if info.message().contains("already exists") => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Drops a database, terminating its connections (test clean-up).
pub fn drop_database(settings: &DatabaseSettings) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(settings.maintenance_url().expose_secret())?;
    diesel::sql_query(format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote_ident(&settings.name)
    ))
    .execute(&mut conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct One {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    #[allow(dead_code)]
    one: i32,
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Makes sure the service's database can be opened. A service account owns its database
/// but may neither create databases nor use the maintenance database, so the database is
/// opened directly first; only when that fails is it created through the maintenance
/// database (as tests do, as the superuser, with a fresh name each).
fn open_or_create_database(settings: &DatabaseSettings) -> anyhow::Result<()> {
    let direct = match PgConnection::establish(settings.database_url().expose_secret()) {
        Ok(_) => return Ok(()),
        Err(e) => e,
    };
    ensure_database(settings).map_err(|created| {
        anyhow::anyhow!(
            "cannot open database {}: {direct}; nor create it through the maintenance database: {created:#}",
            settings.name
        )
    })
}

/// Opens (or creates) the service's database, applies the platform's and the service's
/// migrations, and returns a pool.
pub fn connect_and_migrate(
    settings: &DatabaseSettings,
    service_migrations: EmbeddedMigrations,
) -> anyhow::Result<Db> {
    open_or_create_database(settings)?;
    let db = open_pool(settings, settings.pool_size)?;
    let mut conn = db.pool.get()?;
    // Migrations of two replicas starting together must not interleave.
    diesel::sql_query("SELECT pg_advisory_lock(727274)").execute(&mut conn)?;
    let result = (|| -> anyhow::Result<()> {
        conn.run_pending_migrations(PLATFORM_MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("platform migrations: {e}"))?;
        conn.run_pending_migrations(service_migrations)
            .map_err(|e| anyhow::anyhow!("service migrations: {e}"))?;
        Ok(())
    })();
    diesel::sql_query("SELECT pg_advisory_unlock(727274)").execute(&mut conn)?;
    result?;
    drop(conn);
    Ok(db)
}

/// A pool of `size` connections to the service's (existing) database. The outbox relay
/// gets its own, so that request load on the main pool never delays publication.
pub fn open_pool(settings: &DatabaseSettings, size: u32) -> anyhow::Result<Db> {
    let manager = ConnectionManager::<PgConnection>::new(settings.database_url().expose_secret());
    let pool = Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_customizer(Box::new(SessionSettings))
        .connection_timeout(Duration::from_millis(settings.connect_timeout_ms))
        .build(manager)?;
    Ok(Db::new(pool).with_timeout(Duration::from_millis(settings.query_timeout_ms)))
}

/// Settings of every pooled session. JIT is off: PostgreSQL compiled the bulk ingest's
/// set-based statements (whose row estimates pass `jit_above_cost`) with LLVM on every
/// execution, which took about 8% of the machine's CPU in the 1M-touchpoint benchmark, for
/// statements that run for milliseconds.
#[derive(Debug, Clone, Copy)]
struct SessionSettings;

impl diesel::r2d2::CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        diesel::sql_query("SET jit = off")
            .execute(conn)
            .map(|_| ())
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Runs `COPY (<select>) TO STDOUT (FORMAT csv, HEADER)` on a connection of its own and
/// returns the bytes: the fastest way to hand many rows to a report.
pub async fn copy_csv(settings: &DatabaseSettings, select: &str) -> anyhow::Result<Vec<u8>> {
    use futures::StreamExt;
    let url = settings.database_url();
    let (client, connection) =
        tokio_postgres::connect(url.expose_secret(), tokio_postgres::NoTls).await?;
    let driver = tokio::spawn(connection);
    let sql = format!("COPY ({select}) TO STDOUT (FORMAT csv, HEADER)");
    let stream = client.copy_out(sql.as_str()).await?;
    futures::pin_mut!(stream);
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    drop(client);
    let _ = driver.await;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;
    use crate::config::Settings;

    fn superuser() -> PgConnection {
        let url = Settings::defaults("platform").database.maintenance_url();
        PgConnection::establish(url.expose_secret()).expect("superuser connection")
    }

    #[derive(Debug, thiserror::Error)]
    enum TestError {
        #[error("unexpected: {0}")]
        Unexpected(anyhow::Error),
        #[error("invalid")]
        Invalid(crate::Problem),
    }

    impl crate::http::ServiceError for TestError {
        fn problem(&self) -> crate::Problem {
            match self {
                TestError::Unexpected(_) => crate::Problem::internal(),
                TestError::Invalid(p) => p.clone(),
            }
        }

        fn is_unexpected(&self) -> bool {
            matches!(self, TestError::Unexpected(_))
        }
    }

    crate::service_error!(TestError, unexpected = Unexpected, invalid = Invalid);

    /// Every connection held: a request waits `connect_timeout_ms`, then is a 503 with
    /// `Retry-After`, not a 500.
    #[tokio::test]
    async fn a_busy_pool_is_a_503_with_retry_after() {
        use actix_web::ResponseError;
        let mut settings = Settings::defaults("platform").database;
        settings.name = "postgres".into();
        settings.connect_timeout_ms = 200;
        let db = open_pool(&settings, 1).expect("pool");
        let held = db.pool.get().expect("the one connection");
        let err = db
            .run(|conn| {
                diesel::sql_query("SELECT 1")
                    .execute(conn)
                    .map_err(DbError::from)
            })
            .await
            .map_err(TestError::from)
            .unwrap_err();
        drop(held);
        let response = err.error_response();
        assert_eq!(response.status().as_u16(), 503);
        assert_eq!(
            response.headers().get("retry-after").map(|v| v.as_bytes()),
            Some(&b"1"[..])
        );
        assert_eq!(
            crate::http::ServiceError::problem(&err).ty,
            "https://touchstone.dev/problems/unavailable"
        );
        // A free connection answers again.
        let ok: Result<usize, TestError> = db
            .run(|conn| {
                diesel::sql_query("SELECT 1")
                    .execute(conn)
                    .map_err(|e| TestError::from(DbError::from(e)))
            })
            .await;
        assert_eq!(ok.unwrap(), 1);
    }

    fn fresh_name(what: &str) -> String {
        format!(
            "test_{what}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        )
    }

    /// A login role and the database it owns, both dropped at the end of the test.
    struct OwnedDatabase(String);

    impl Drop for OwnedDatabase {
        fn drop(&mut self) {
            let mut conn = superuser();
            let name = quote_ident(&self.0);
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
            let _ = diesel::sql_query(format!("DROP ROLE IF EXISTS {name}")).execute(&mut conn);
        }
    }

    #[derive(QueryableByName)]
    struct Owner {
        #[diesel(sql_type = diesel::sql_types::Text)]
        owner: String,
    }

    #[test]
    fn a_role_owning_its_database_starts_without_the_maintenance_database() {
        let owned = OwnedDatabase(fresh_name("dbrole"));
        let name = quote_ident(&owned.0);
        let mut admin = superuser();
        for sql in [
            format!("CREATE ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"),
            format!("CREATE DATABASE {name} OWNER {name}"),
            format!("REVOKE ALL ON DATABASE {name} FROM PUBLIC"),
            // Shuts the maintenance database to this role alone, as a hardened server would:
            // every session it opens there fails to start.
            format!(
                "ALTER ROLE {name} IN DATABASE postgres \
                 SET session_preload_libraries = 'touchstone_no_such_library'"
            ),
        ] {
            diesel::sql_query(sql).execute(&mut admin).expect("setup");
        }
        let mut settings = Settings::defaults("platform").database;
        settings.url = SecretString::from(format!("postgres://{}@127.0.0.1:5432", owned.0));
        settings.name = owned.0.clone();
        settings.pool_size = 1;
        assert!(
            ensure_database(&settings).is_err(),
            "the role must not reach the maintenance database"
        );

        let db = connect_and_migrate(&settings, PLATFORM_MIGRATIONS).expect("service starts");

        let mut conn = db.pool().get().expect("pooled connection");
        let row: Owner = diesel::sql_query(
            "SELECT tableowner::text AS owner FROM pg_tables WHERE tablename = 'outbox'",
        )
        .get_result(&mut conn)
        .expect("outbox table");
        assert_eq!(row.owner, owned.0, "the role ran the migrations");
    }

    #[test]
    fn a_missing_database_is_created_through_the_maintenance_database() {
        let mut settings = Settings::defaults("platform").database;
        settings.name = fresh_name("dbcreate");
        settings.pool_size = 1;

        let db = connect_and_migrate(&settings, PLATFORM_MIGRATIONS).expect("service starts");
        db.pool().get().expect("pooled connection");
        drop(db);

        drop_database(&settings).expect("dropped");
    }

    #[test]
    fn a_database_that_can_be_neither_opened_nor_created_names_both_failures() {
        let mut settings = Settings::defaults("platform").database;
        settings.url = SecretString::from(format!(
            "postgres://{}@127.0.0.1:5432",
            fresh_name("norole")
        ));
        settings.name = fresh_name("nodb");

        let err = open_or_create_database(&settings).expect_err("no such role");
        let message = format!("{err:#}");
        assert!(message.contains(&settings.name), "{message}");
        assert!(message.contains("maintenance database"), "{message}");
    }
}
