//! Layered service configuration: defaults, then an optional TOML file, then `TOUCHSTONE_<SERVICE>__<SECTION>__<KEY>`.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Everything a service needs to run. Every field has a default, so zero configuration
/// runs against the local PostgreSQL and RabbitMQ.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub bus: BusSettings,
    pub outbox: OutboxSettings,
    pub runtime: RuntimeSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RuntimeSettings {
    /// When the relay, the consumer or a service task dies, how long the process stays up
    /// (not ready, finishing requests) before it exits non-zero.
    pub task_grace_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HttpSettings {
    pub host: String,
    pub port: u16,
    /// Default JSON body limit in bytes; bulk endpoints set their own.
    pub json_limit: usize,
    pub workers: Option<usize>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// Server URL without a database name, e.g. `postgres://postgres@127.0.0.1:5432`.
    pub url: SecretString,
    /// The service's own database; created at start-up when missing.
    pub name: String,
    pub pool_size: u32,
    pub connect_timeout_ms: u64,
    /// A call that gets no answer from the database in this long fails (503 to a client,
    /// a retry to a consumer): what bounds a request when the network drops packets.
    pub query_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BusSettings {
    pub url: SecretString,
    pub exchange: String,
    /// Queues are `<queue_prefix>.<service>`, `<…>.dlq`, `<…>.retry.<n>`.
    pub queue_prefix: String,
    pub prefetch: u16,
    /// Deliveries already received that the consumer applies in one transaction, up to
    /// this many messages or `group_events` events (1 turns grouping off). A group that
    /// fails is rolled back and its messages are applied one by one, so each message
    /// still succeeds, retries or is dead-lettered on its own.
    pub group_messages: usize,
    pub group_events: usize,
    /// Tries after the first failure before a message goes to the DLQ.
    pub max_retries: u32,
    /// Delay before the first retry; each later retry waits 4× longer.
    pub retry_base_ms: u64,
    /// Test isolation: queues expire this long after their last consumer leaves and the
    /// exchange is auto-deleted, so test runs leave nothing behind in the broker.
    pub ephemeral_ms: Option<u64>,
    /// Whether this process runs its consumer (tests of the HTTP side alone turn it off).
    pub consume: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OutboxSettings {
    /// Relay polling fallback when no NOTIFY arrives.
    pub poll_ms: u64,
    /// Rows claimed per relay transaction.
    pub batch_size: i64,
    /// Published rows are deleted after this many hours.
    pub retention_hours: i64,
    pub enabled: bool,
}

impl DatabaseSettings {
    pub fn database_url(&self) -> SecretString {
        SecretString::from(format!(
            "{}/{}",
            self.url.expose_secret().trim_end_matches('/'),
            self.name
        ))
    }

    pub fn maintenance_url(&self) -> SecretString {
        SecretString::from(format!(
            "{}/postgres",
            self.url.expose_secret().trim_end_matches('/')
        ))
    }
}

impl BusSettings {
    pub fn queue(&self, service: &str) -> String {
        format!("{}.{}", self.queue_prefix, service)
    }
    pub fn dlq(&self, service: &str) -> String {
        format!("{}.{}.dlq", self.queue_prefix, service)
    }
    pub fn retry_queue(&self, service: &str, attempt: u32) -> String {
        format!("{}.{}.retry.{}", self.queue_prefix, service, attempt)
    }
    /// Delay before retry `attempt` (1-based): base, 4×base, 16×base, …
    pub fn retry_delay_ms(&self, attempt: u32) -> u64 {
        self.retry_base_ms
            .saturating_mul(4u64.saturating_pow(attempt.saturating_sub(1)))
    }
}

impl Settings {
    /// Loads defaults (`port` is the service's own default port), then the file named by
    /// `TOUCHSTONE_<SERVICE>_CONFIG` (or `config/<service>.toml` if present), then the
    /// environment.
    pub fn load(service: &str, port: u16) -> Result<Settings, config::ConfigError> {
        layered(service, Self::builder(service, port)?)?.try_deserialize()
    }

    /// Defaults only: what tests start from before overriding names and ports. The port is
    /// 0: any free one.
    pub fn defaults(service: &str) -> Settings {
        Self::builder(service, 0)
            .and_then(|b| b.build())
            .and_then(|c| c.try_deserialize())
            .expect("built-in defaults are valid")
    }

    /// A service's own settings: the `[<section>]` table of its file and
    /// `TOUCHSTONE_<SERVICE>__<SECTION>__<KEY>`, over `T`'s defaults (`#[serde(default)]`).
    /// A value that does not parse fails with an error naming its key.
    pub fn section<T: serde::de::DeserializeOwned>(
        service: &str,
        section: &str,
    ) -> Result<T, config::ConfigError> {
        let config = layered(service, config::Config::builder())?;
        let value = match config.get::<config::Value>(section) {
            Err(config::ConfigError::NotFound(_)) => {
                config::Value::new(None, config::ValueKind::Table(Default::default()))
            }
            other => other?,
        };
        // Deserialised through serde_path_to_error so that a bad value names its whole key.
        serde_path_to_error::deserialize(value).map_err(|e| {
            let upper = service.to_uppercase();
            let key = format!("{section}.{}", e.path());
            let env = format!(
                "TOUCHSTONE_{upper}__{}",
                key.replace('.', "__").to_uppercase()
            );
            config::ConfigError::Message(format!(
                "invalid setting {key} ({env}): {}",
                e.into_inner()
            ))
        })
    }

    fn builder(
        service: &str,
        port: u16,
    ) -> Result<config::ConfigBuilder<config::builder::DefaultState>, config::ConfigError> {
        config::Config::builder()
            .set_default("http.host", "127.0.0.1")?
            .set_default("http.port", port)?
            .set_default("http.json_limit", 1024 * 1024)?
            .set_default("database.url", "postgres://postgres@127.0.0.1:5432")?
            .set_default("database.name", format!("touchstone_{service}"))?
            .set_default("database.pool_size", 16)?
            .set_default("database.connect_timeout_ms", 5000)?
            .set_default("database.query_timeout_ms", 60_000)?
            .set_default("bus.url", "amqp://guest:guest@127.0.0.1:5672/%2f")?
            .set_default("bus.exchange", "touchstone.events")?
            .set_default("bus.queue_prefix", "touchstone")?
            .set_default("bus.prefetch", 256)?
            .set_default("bus.group_messages", 32)?
            .set_default("bus.group_events", 5000)?
            .set_default("bus.max_retries", 3)?
            .set_default("bus.retry_base_ms", 1000)?
            .set_default("bus.consume", true)?
            .set_default("outbox.poll_ms", 1000)?
            .set_default("outbox.batch_size", 500)?
            .set_default("outbox.retention_hours", 72)?
            .set_default("outbox.enabled", true)?
            .set_default("runtime.task_grace_ms", 5000)
    }
}

/// `builder`, then the service's file, then its environment.
fn layered(
    service: &str,
    builder: config::ConfigBuilder<config::builder::DefaultState>,
) -> Result<config::Config, config::ConfigError> {
    let upper = service.to_uppercase();
    let file = std::env::var(format!("TOUCHSTONE_{upper}_CONFIG"))
        .unwrap_or_else(|_| format!("config/{service}.toml"));
    builder
        .add_source(config::File::with_name(&file).required(false))
        .add_source(
            config::Environment::with_prefix(&format!("TOUCHSTONE_{upper}"))
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        )
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_point_at_local_services() {
        let s = Settings::load("leads", 8081).unwrap();
        assert_eq!(s.http.port, 8081);
        assert_eq!(Settings::defaults("leads").http.port, 0);
        assert_eq!(s.http.host, "127.0.0.1");
        assert_eq!(
            s.database.database_url().expose_secret(),
            "postgres://postgres@127.0.0.1:5432/touchstone_leads"
        );
        assert_eq!(s.bus.queue("leads"), "touchstone.leads");
        assert_eq!(s.bus.dlq("leads"), "touchstone.leads.dlq");
        assert_eq!(s.http.json_limit, 1 << 20);
    }

    #[test]
    fn retry_delays_grow() {
        let s = Settings::defaults("funnel");
        assert_eq!(s.bus.retry_delay_ms(1), 1000);
        assert_eq!(s.bus.retry_delay_ms(2), 4000);
        assert_eq!(s.bus.retry_delay_ms(3), 16000);
    }

    #[derive(Debug, Default, serde::Deserialize, PartialEq)]
    #[serde(default)]
    struct Section {
        window_days: u32,
        name: String,
    }

    #[test]
    fn a_section_reads_the_environment_and_names_a_bad_key() {
        // A service name no other test uses, so the environment is this test's own.
        let none: Section = Settings::section("sectiontest", "sample").unwrap();
        assert_eq!(none, Section::default());
        // SAFETY: no other test reads or writes TOUCHSTONE_SECTIONTEST__*.
        unsafe { std::env::set_var("TOUCHSTONE_SECTIONTEST__SAMPLE__WINDOW_DAYS", "7") };
        let set: Section = Settings::section("sectiontest", "sample").unwrap();
        assert_eq!(set.window_days, 7);
        unsafe { std::env::set_var("TOUCHSTONE_SECTIONTEST__SAMPLE__WINDOW_DAYS", "soon") };
        let err = Settings::section::<Section>("sectiontest", "sample").unwrap_err();
        unsafe { std::env::remove_var("TOUCHSTONE_SECTIONTEST__SAMPLE__WINDOW_DAYS") };
        assert!(err.to_string().contains("sample.window_days"), "{err}");
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let s = Settings::defaults("leads");
        let printed = format!("{s:?}");
        assert!(!printed.contains("guest:guest"), "{printed}");
        assert!(!printed.contains("postgres@127"), "{printed}");
    }
}
