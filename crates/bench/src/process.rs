//! Processes of their own: a service's release binary on a free port, the memory figures
//! `/proc/<pid>/status` gives for any process, and `psql`.

use std::fmt::Display;
use std::time::Duration;

use platform::Settings;
use platform::testing::TestNamespace;

/// A port nothing listens on yet.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A memory figure of `/proc/<pid>/status` (`VmRSS`, `VmHWM`) in MB; NaN when it cannot be
/// read. `pid` may be `self`.
pub fn status_mb(pid: impl Display, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let prefix = format!("{field}:");
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with(&prefix))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    kb / 1024.0
}

/// The release binary of `service`, which `make bench` builds.
pub fn release_binary(service: &str) -> anyhow::Result<String> {
    let binary = format!("target/release/touchstone-{service}");
    anyhow::ensure!(
        std::path::Path::new(&binary).exists(),
        "{binary} is missing: build with `cargo build --release -p {service}`"
    );
    Ok(binary)
}

/// A service's release binary on a free port, with a fresh namespace's database and broker
/// names. [`ReleaseService::stop`] kills it and drops its database.
pub struct ReleaseService {
    child: tokio::process::Child,
    settings: Settings,
    pub port: u16,
}

impl ReleaseService {
    pub async fn start(binary: &str, service: &str) -> anyhow::Result<ReleaseService> {
        let settings = TestNamespace::new().settings(service);
        let port = free_port()?;
        let env = |key: &str| format!("TOUCHSTONE_{}__{key}", service.to_uppercase());
        let child = tokio::process::Command::new(binary)
            .env(env("HTTP__PORT"), port.to_string())
            .env(env("DATABASE__NAME"), &settings.database.name)
            .env(env("BUS__EXCHANGE"), &settings.bus.exchange)
            .env(env("BUS__QUEUE_PREFIX"), &settings.bus.queue_prefix)
            .env(env("BUS__EPHEMERAL_MS"), "60000")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()?;
        Ok(ReleaseService {
            child,
            settings,
            port,
        })
    }

    /// Whether `/health/ready` answered within `tries` polls 100 ms apart.
    pub async fn ready(&self, tries: usize) -> bool {
        let url = format!("http://127.0.0.1:{}/health/ready", self.port);
        for _ in 0..tries {
            if reqwest::get(&url)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// A memory figure of the running process, as [`status_mb`].
    pub fn status_mb(&self, field: &str) -> f64 {
        status_mb(self.child.id().unwrap_or(0), field)
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        let db = self.settings.database.clone();
        let _ = tokio::task::spawn_blocking(move || platform::db::drop_database(&db)).await;
    }
}

/// Runs one `psql` command against `db` on the local server; fails unless it succeeds.
pub fn psql(db: &str, command: &str) -> anyhow::Result<()> {
    let out = std::process::Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            db,
            "-v",
            "ON_ERROR_STOP=1",
            "-qc",
            command,
        ])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "psql {command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}
