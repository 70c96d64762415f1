//! Processes of their own: a service's release binary on a free port, the memory figures
//! `/proc/<pid>/status` and the CPU time `/proc/<pid>/stat` give for any process, and `psql`.

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

/// CPU time (user and system) of a process so far, in seconds; NaN when it cannot be read.
/// `pid` may be `self`.
pub fn cpu_seconds(pid: impl Display) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // utime and stime are the 14th and 15th fields; the command name before them may hold
    // spaces, so count from the `)` that closes it.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / USER_HZ,
        _ => f64::NAN,
    }
}

/// Busy CPU time of the whole machine so far (every core, all but idle and I/O wait), in
/// seconds; NaN when `/proc/stat` cannot be read.
pub fn machine_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return f64::NAN;
    };
    let ticks: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    let busy: f64 = ticks.iter().take(8).sum::<f64>()
        - ticks.get(3).unwrap_or(&0.0)
        - ticks.get(4).unwrap_or(&0.0);
    busy / USER_HZ
}

/// `/proc`'s clock ticks per second: 100 on every Linux architecture we run on.
const USER_HZ: f64 = 100.0;

/// The release binary of `service`, which `make bench` builds.
pub fn release_binary(service: &str) -> anyhow::Result<String> {
    let binary = format!("target/release/touchstone-{service}");
    anyhow::ensure!(
        std::path::Path::new(&binary).exists(),
        "{binary} is missing: build with `cargo build --release -p {service}`"
    );
    Ok(binary)
}

/// A service's release binary on a free port, with its own database and the broker names
/// of a namespace. [`ReleaseService::stop`] kills it and drops its database.
pub struct ReleaseService {
    child: tokio::process::Child,
    /// The database and bus settings it was started with.
    pub settings: Settings,
    pub port: u16,
}

impl ReleaseService {
    /// `service` alone, in a fresh namespace.
    pub async fn start(binary: &str, service: &str) -> anyhow::Result<ReleaseService> {
        ReleaseService::start_in(binary, service, &TestNamespace::new()).await
    }

    /// `service` in `ns`: services started in one namespace keep their own databases and
    /// share the exchange and the queue prefix, so their events reach each other.
    pub async fn start_in(
        binary: &str,
        service: &str,
        ns: &TestNamespace,
    ) -> anyhow::Result<ReleaseService> {
        ReleaseService::start_with(binary, service, ns.settings(service)).await
    }

    /// `service` with the database name, the broker names and the bus settings that shape
    /// its queues (retries, expiry) of `settings`, so that a topology declared from the same
    /// settings has the queue arguments the service declares.
    pub async fn start_with(
        binary: &str,
        service: &str,
        settings: Settings,
    ) -> anyhow::Result<ReleaseService> {
        let port = free_port()?;
        let env = |key: &str| format!("TOUCHSTONE_{}__{key}", service.to_uppercase());
        let bus = &settings.bus;
        let mut command = tokio::process::Command::new(binary);
        command
            .env(env("HTTP__PORT"), port.to_string())
            .env(env("DATABASE__NAME"), &settings.database.name)
            .env(env("BUS__EXCHANGE"), &bus.exchange)
            .env(env("BUS__QUEUE_PREFIX"), &bus.queue_prefix)
            .env(env("BUS__RETRY_BASE_MS"), bus.retry_base_ms.to_string())
            .env(env("BUS__MAX_RETRIES"), bus.max_retries.to_string());
        if let Some(ms) = bus.ephemeral_ms {
            command.env(env("BUS__EPHEMERAL_MS"), ms.to_string());
        }
        let child = command
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

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// CPU time of the running process so far, as [`cpu_seconds`].
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(self.child.id().unwrap_or(0))
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
