//! Real processes for the gateway's tests: the services' own binaries on fresh databases
//! and broker names, and HAProxy started by `touchstone gateway start`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `target/debug`, where `make test` built the binaries before the tests.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/debug/deps/..")
        .to_path_buf()
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: build the binaries first (`cargo build --workspace --bins`, as `make test` does)",
        p.display()
    );
    p
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub fn unique_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

fn quiet() -> Stdio {
    if std::env::var("TEST_LOG").is_ok() {
        Stdio::inherit()
    } else {
        Stdio::null()
    }
}

/// One instance of a service, as its binary runs in production.
pub struct ServiceProcess {
    pub service: String,
    pub port: u16,
    env: Vec<(String, String)>,
    child: Option<Child>,
}

impl ServiceProcess {
    /// Starts `service` on a new port, with the database and broker names of namespace `ns`
    /// (instances in one namespace share them, as replicas do), and waits until ready.
    pub async fn start(service: &str, ns: &str) -> ServiceProcess {
        Self::start_on(service, ns, free_port()).await
    }

    pub async fn start_on(service: &str, ns: &str, port: u16) -> ServiceProcess {
        let mut s = Self::prepare(service, ns, port);
        s.restart().await;
        s
    }

    /// The instance, configured but not started.
    pub fn prepare(service: &str, ns: &str, port: u16) -> ServiceProcess {
        let upper = service.to_uppercase();
        let p = |k: &str| format!("TOUCHSTONE_{upper}__{k}");
        let env = vec![
            (p("HTTP__PORT"), port.to_string()),
            (p("HTTP__WORKERS"), "1".into()),
            (p("DATABASE__NAME"), format!("test_{service}_{ns}")),
            (p("DATABASE__POOL_SIZE"), "4".into()),
            (p("BUS__EXCHANGE"), format!("test.{ns}.events")),
            (p("BUS__QUEUE_PREFIX"), format!("test.{ns}")),
            (p("BUS__EPHEMERAL_MS"), "60000".into()),
            (p("OUTBOX__POLL_MS"), "200".into()),
            ("RUST_LOG".into(), "warn".into()),
        ];
        ServiceProcess {
            service: service.to_string(),
            port,
            env,
            child: None,
        }
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn database(&self) -> String {
        self.env
            .iter()
            .find(|(k, _)| k.ends_with("DATABASE__NAME"))
            .map(|(_, v)| v.clone())
            .expect("a database name")
    }

    /// Starts (again) on the same port and data, and waits until ready.
    pub async fn restart(&mut self) {
        let child = Command::new(bin(&format!("touchstone-{}", self.service)))
            .envs(self.env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(quiet())
            .stderr(quiet())
            .spawn()
            .expect("service starts");
        self.child = Some(child);
        self.wait_ready().await;
    }

    /// Starts the service under `make run`'s supervisor (deploy/scripts/supervise.sh),
    /// with the supervisor's output piped, and waits until ready. The child is the
    /// supervising shell.
    pub async fn start_supervised(&mut self) -> std::process::ChildStdout {
        let binary = bin(&format!("touchstone-{}", self.service));
        let mut child = Command::new("bash")
            .current_dir(repo())
            .arg("-c")
            .arg(r#". deploy/scripts/supervise.sh; supervise "$0" "$1""#)
            .arg(&self.service)
            .arg(binary)
            .envs(self.env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(quiet())
            .spawn()
            .expect("the supervisor starts");
        let out = child.stdout.take().expect("piped");
        self.child = Some(child);
        self.wait_ready().await;
        out
    }

    /// The process id of the child (the service, or its supervisor).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends SIGTERM to the child and waits for it to end; its exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().ok()?.code()
    }

    async fn wait_ready(&self) {
        let url = format!("http://{}/health/ready", self.address());
        wait_for(Duration::from_secs(60), || answers_ok(&url))
            .await
            .unwrap_or_else(|| panic!("{} on {} never became ready", self.service, self.port));
    }

    /// SIGKILL: no drain, no goodbye, as a crash.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Requests this instance has served for a route template, from its own /metrics.
    pub async fn served(&self, route: &str) -> u64 {
        let text = reqwest::get(format!("http://{}/metrics", self.address()))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        let needle = format!("route=\"{route}\"");
        text.lines()
            .filter(|l| l.starts_with("http_requests_total{") && l.contains(&needle))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Drops the test databases of a namespace when the test ends, pass or fail.
pub struct Databases(pub Vec<String>);

impl Drop for Databases {
    fn drop(&mut self) {
        for db in &self.0 {
            let _ = Command::new("psql")
                .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc"])
                .arg(format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// All four services in one namespace behind one gateway, once the gateway is ready.
pub struct Suite {
    pub services: Vec<ServiceProcess>,
    pub gw: Gateway,
    _dbs: Databases,
}

impl Suite {
    pub async fn start() -> Suite {
        let ns = unique_id();
        let (l, f, t, b) = tokio::join!(
            ServiceProcess::start("leads", &ns),
            ServiceProcess::start("funnel", &ns),
            ServiceProcess::start("touchpoints", &ns),
            ServiceProcess::start("breakeven", &ns),
        );
        let services = vec![l, f, t, b];
        let dbs = Databases(services.iter().map(ServiceProcess::database).collect());
        let instances: Vec<(&str, Vec<String>)> = services
            .iter()
            .map(|s| (s.service.as_str(), vec![s.address()]))
            .collect();
        let gw = Gateway::start(&instances, &[]).await;
        // Health checks pass before the first request is routed.
        let ready = gw.url("/health/ready");
        wait_for(Duration::from_secs(10), || answers_ok(&ready))
            .await
            .expect("the gateway becomes ready");
        Suite {
            services,
            gw,
            _dbs: dbs,
        }
    }
}

/// Runs the `touchstone` command from the repository root; panics unless it succeeds.
pub fn touchstone(args: &[&str], state: &Path) -> String {
    let out = Command::new(bin("touchstone"))
        .current_dir(repo())
        .args(args)
        .arg("--state")
        .arg(state)
        .output()
        .expect("touchstone runs");
    assert!(
        out.status.success(),
        "touchstone {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// HAProxy, started by `touchstone gateway start` with a state folder of its own.
pub struct Gateway {
    pub port: u16,
    pub metrics_port: u16,
    pub state: PathBuf,
    child: Option<Child>,
    pub client: reqwest::Client,
}

impl Gateway {
    /// `instances`: (service, addresses) for `TOUCHSTONE_GATEWAY_<SERVICE>_INSTANCES`;
    /// services not listed point at a closed port.
    pub async fn start(instances: &[(&str, Vec<String>)], extra: &[&str]) -> Gateway {
        let state = std::env::temp_dir().join(format!("ts-gw-{}", unique_id()));
        Self::start_with_state(instances, extra, state).await
    }

    pub async fn start_with_state(
        instances: &[(&str, Vec<String>)],
        extra: &[&str],
        state: PathBuf,
    ) -> Gateway {
        let port = free_port();
        let metrics_port = free_port();
        let mut cmd = Command::new(bin("touchstone"));
        cmd.current_dir(repo())
            .args(["gateway", "start"])
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--metrics-bind")
            .arg(format!("127.0.0.1:{metrics_port}"))
            .arg("--state")
            .arg(&state)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(quiet())
            .stderr(quiet());
        for service in gateway::SERVICES {
            let list = instances
                .iter()
                .find(|(s, _)| s == service)
                .map(|(_, a)| a.join(","))
                .unwrap_or_else(|| format!("127.0.0.1:{}", closed_port()));
            cmd.env(
                format!("TOUCHSTONE_GATEWAY_{}_INSTANCES", service.to_uppercase()),
                list,
            );
        }
        let child = cmd.spawn().expect("gateway starts");
        let g = Gateway {
            port,
            metrics_port,
            state,
            child: Some(child),
            client: reqwest::Client::new(),
        };
        let live = g.url("/health/live");
        wait_for(Duration::from_secs(20), || {
            let live = live.clone();
            async move { reqwest::get(&live).await.is_ok() }
        })
        .await
        .expect("the gateway answers /health/live");
        g
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// `touchstone keys …` against this gateway's store; returns stdout.
    pub fn keys(&self, args: &[&str]) -> String {
        let mut all = vec!["keys"];
        all.extend(args);
        touchstone(&all, &self.state)
    }

    /// Creates a key and returns it (the last line of stdout).
    pub fn create_key(&self, name: &str, scopes: &[&str], rate: Option<&str>) -> String {
        let mut args = vec!["create", "--name", name];
        for s in scopes {
            args.extend(["--scope", s]);
        }
        if let Some(r) = rate {
            args.extend(["--rate-limit", r]);
        }
        let out = self.keys(&args);
        out.lines()
            .last()
            .expect("the key on the last line")
            .to_string()
    }

    pub async fn get(&self, key: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("GET sent")
    }

    /// POST of a raw body with its content type.
    pub async fn post_body(
        &self,
        key: &str,
        path: &str,
        content_type: &str,
        body: String,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(key)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST sent")
    }

    pub async fn post(&self, key: &str, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .expect("POST sent")
    }

    /// One command on this gateway's admin socket.
    pub fn admin(&self, cmd: &str) -> String {
        gateway::runtime::AdminSocket::new(self.state.join("gateway.sock"))
            .command(cmd)
            .expect("admin socket answers")
    }

    /// Whether every one of `addresses` is in rotation for `service` within 5 s.
    pub async fn in_rotation(&self, service: &str, addresses: &[String]) -> bool {
        wait_for(Duration::from_secs(5), || async {
            addresses.iter().all(|a| self.server_up(service, a))
        })
        .await
        .is_some()
    }

    /// Whether the server for `address` is in rotation (`show servers state`).
    pub fn server_up(&self, service: &str, address: &str) -> bool {
        let name = gateway::backends::server_name(service, address);
        let out = self.admin(&format!("show servers state be_{service}"));
        // Columns: be_id be_name srv_id srv_name srv_addr srv_op_state ... (2 = running).
        out.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 5 && f[3] == name && f[5] == "2"
        })
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    free_port()
}

/// Asserts the status, showing the body when it differs; returns the body.
pub async fn expect_status(resp: reqwest::Response, status: u16) -> String {
    let got = resp.status().as_u16();
    let body = resp.text().await.expect("a body");
    assert_eq!(got, status, "{body}");
    body
}

/// Whether a GET of `url` answers with a success.
pub async fn answers_ok(url: &str) -> bool {
    reqwest::get(url)
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// Polls `check` every 50 ms until it holds; `None` after `limit`.
pub async fn wait_for<F, Fut>(limit: Duration, check: F) -> Option<Duration>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}
