//! `touchstone keys …` and `touchstone gateway …`: the API-key store and the HAProxy
//! gateway (start, check, the aggregated OpenAPI document, instances joining at runtime).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use chrono::Utc;
use clap::{Args, Subcommand};
use gateway::SERVICES;
use gateway::backends::{self, Discovery};
use gateway::keys::{KeyStore, MapEdit, Scope, parse_rate_limit};
use gateway::openapi::{Generated, ServiceDoc, generate};
use gateway::runtime::AdminSocket;

/// Where the key store, the maps HAProxy reads and the gateways' admin sockets live.
#[derive(Args, Clone)]
pub struct StateDir {
    /// The gateway's state folder: key store, maps, admin sockets.
    #[arg(
        long = "state",
        env = "TOUCHSTONE_GATEWAY_STATE",
        default_value = ".run/gateway"
    )]
    pub dir: PathBuf,
}

/// The gateway's checked-in folder: HAProxy's configuration, the routing maps and the
/// aggregated OpenAPI document.
#[derive(Args, Clone)]
pub struct HomeDir {
    #[arg(
        id = "home",
        long = "home",
        value_name = "HOME",
        env = "TOUCHSTONE_GATEWAY_HOME",
        default_value = "deploy/gateway"
    )]
    pub dir: PathBuf,
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Creates an API key and prints it, and only it, on the last line of stdout.
    Create {
        /// The key's name, shown in `list`, the access log and `X-Touchstone-Key`:
        /// 1-63 of a-z, 0-9, `.`, `_`, `-`.
        #[arg(long)]
        name: String,
        /// `*`, or `<service>:read` / `<service>:write` (write includes read); repeatable.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Requests per minute, e.g. `600/min`; without it the gateway's default applies.
        #[arg(long)]
        rate_limit: Option<String>,
        #[command(flatten)]
        state: StateDir,
    },
    /// Lists keys: names, scopes, limits, created, last used where known; never the key.
    List {
        #[command(flatten)]
        state: StateDir,
    },
    /// Revokes a key; running gateways refuse it at once.
    Revoke {
        name: String,
        #[command(flatten)]
        state: StateDir,
    },
}

#[derive(Subcommand)]
pub enum GatewayCommand {
    /// Runs HAProxy in the foreground with the gateway's configuration.
    Start(StartArgs),
    /// Checks the configuration as `start` would run it (`haproxy -c`).
    Check(StartArgs),
    /// Regenerates the aggregated OpenAPI document and routing maps from the services'
    /// own documents (`touchstone-<service> openapi`), or checks they are current.
    Openapi {
        /// Where the service binaries are.
        #[arg(long, default_value = "target/debug")]
        bin_dir: PathBuf,
        #[command(flatten)]
        home: HomeDir,
        /// Fail if the checked-in files differ instead of writing them.
        #[arg(long)]
        check: bool,
    },
    /// Adds an instance of a service to every running gateway (and to later starts).
    AddInstance {
        service: String,
        /// `host:port`
        address: String,
        #[command(flatten)]
        state: StateDir,
    },
}

#[derive(Args, Clone)]
pub struct StartArgs {
    #[arg(
        long,
        env = "TOUCHSTONE_GATEWAY_BIND",
        default_value = "127.0.0.1:8080"
    )]
    bind: String,
    /// Prometheus metrics (`/metrics`).
    #[arg(
        long,
        env = "TOUCHSTONE_GATEWAY_METRICS_BIND",
        default_value = "127.0.0.1:8405"
    )]
    metrics_bind: String,
    #[command(flatten)]
    home: HomeDir,
    /// Swagger UI's files for `/docs`.
    #[arg(
        long,
        env = "TOUCHSTONE_GATEWAY_ASSETS",
        default_value = "crates/platform/assets/swagger-ui"
    )]
    assets: PathBuf,
    #[command(flatten)]
    state: StateDir,
    /// This gateway's admin socket; default `<state>/gateway.sock`. Gateways sharing a
    /// state folder need one each.
    #[arg(long, env = "TOUCHSTONE_GATEWAY_SOCKET")]
    socket: Option<PathBuf>,
    /// Requests per minute of a key created without `--rate-limit`.
    #[arg(long, env = "TOUCHSTONE_GATEWAY_RATE_LIMIT", default_value_t = 6000)]
    rate_limit: u32,
    /// How many gateways share the key store: each enforces limit / replicas.
    #[arg(long, env = "TOUCHSTONE_GATEWAY_REPLICAS", default_value_t = 1)]
    replicas: u32,
    /// Body limit of JSON routes, bytes.
    #[arg(long, env = "TOUCHSTONE_GATEWAY_JSON_LIMIT", default_value_t = 1 << 20)]
    json_limit: u64,
    /// Body limit of the streamed bulk routes, bytes.
    #[arg(long, env = "TOUCHSTONE_GATEWAY_BULK_LIMIT", default_value_t = 2 << 30)]
    bulk_limit: u64,
    #[arg(long, env = "TOUCHSTONE_HAPROXY", default_value = "haproxy")]
    haproxy: PathBuf,
}

pub fn keys(cmd: KeysCommand) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::Create {
            name,
            scopes,
            rate_limit,
            state,
        } => {
            let scopes = scopes
                .iter()
                .map(|s| Scope::parse(s))
                .collect::<Result<Vec<_>, _>>()?;
            let rate = rate_limit.as_deref().map(parse_rate_limit).transpose()?;
            let store = KeyStore::open(&state.dir)?;
            let (record, key, edits) = store.create(&name, &scopes, rate)?;
            let applied = apply_everywhere(store.dir(), &edits);
            let scopes: Vec<&str> = record.scopes.iter().map(Scope::as_str).collect();
            eprintln!("[keys] created {name} ({}); {applied}", scopes.join(" "));
            println!("{key}");
        }
        KeysCommand::List { state } => {
            let store = KeyStore::open(&state.dir)?;
            let mut expiries = std::collections::HashMap::new();
            for socket in AdminSocket::discover(store.dir()) {
                if let Ok(t) = socket.table_expiries("st_keys") {
                    for (k, exp) in t {
                        let e = expiries.entry(k).or_insert(0u64);
                        *e = (*e).max(exp);
                    }
                }
            }
            println!(
                "{:<24} {:<44} {:>9} {:<20} {:<20} STATUS",
                "NAME", "SCOPES", "RATE/MIN", "CREATED", "LAST USED"
            );
            let now = Utc::now();
            for r in store.list()? {
                let scopes: Vec<&str> = r.scopes.iter().map(Scope::as_str).collect();
                // The counters expire 24 h after a key's last request.
                let last_used = expiries
                    .get(&r.name)
                    .map(|exp| {
                        (now - chrono::Duration::seconds(86_400 - *exp as i64))
                            .format("%Y-%m-%dT%H:%M:%SZ")
                            .to_string()
                    })
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{:<24} {:<44} {:>9} {:<20} {:<20} {}",
                    r.name,
                    scopes.join(","),
                    r.rate_limit_per_min
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "default".into()),
                    r.created_at.format("%Y-%m-%dT%H:%M:%SZ"),
                    last_used,
                    match r.revoked_at {
                        Some(t) => format!("revoked {}", t.format("%Y-%m-%dT%H:%M:%SZ")),
                        None => "active".into(),
                    }
                );
            }
        }
        KeysCommand::Revoke { name, state } => {
            let store = KeyStore::open(&state.dir)?;
            let (_, edits) = store.revoke(&name)?;
            let applied = apply_everywhere(store.dir(), &edits);
            eprintln!("[keys] revoked {name}; {applied}");
        }
    }
    Ok(())
}

/// Applies map edits to every gateway whose socket is in the state folder; the maps on
/// disk are already written, so a gateway that is down picks the change up when it starts.
fn apply_everywhere(state: &Path, edits: &[MapEdit]) -> String {
    let mut applied = 0;
    let mut failed = Vec::new();
    for socket in AdminSocket::discover(state) {
        match socket.apply(edits) {
            Ok(()) => applied += 1,
            // A socket left by a gateway that has stopped.
            Err(e)
                if e.downcast_ref::<std::io::Error>().is_some_and(|e| {
                    matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound
                    )
                }) => {}
            Err(e) => failed.push(format!("{}: {e:#}", socket.path().display())),
        }
    }
    let mut msg = format!("applied to {applied} running gateway(s)");
    if !failed.is_empty() {
        msg.push_str(&format!("; NOT applied to: {}", failed.join("; ")));
    }
    msg
}

pub fn gateway(cmd: GatewayCommand) -> anyhow::Result<()> {
    match cmd {
        GatewayCommand::Start(args) => {
            let mut haproxy = haproxy_command(&args)?;
            haproxy.arg("-db");
            use std::os::unix::process::CommandExt;
            // exec: HAProxy takes this process's place, so signals reach it directly.
            Err(anyhow::Error::from(haproxy.exec()).context("starting haproxy"))
        }
        GatewayCommand::Check(args) => {
            let status = haproxy_command(&args)?.arg("-c").status()?;
            anyhow::ensure!(status.success(), "haproxy -c failed");
            Ok(())
        }
        GatewayCommand::Openapi {
            bin_dir,
            home: HomeDir { dir: home },
            check,
        } => {
            let generated = generate_from_binaries(&bin_dir)?;
            if check {
                let stale: Vec<&str> = generated
                    .files()
                    .iter()
                    .filter(|(name, text)| {
                        std::fs::read_to_string(home.join(name)).ok().as_deref() != Some(*text)
                    })
                    .map(|(name, _)| *name)
                    .collect();
                anyhow::ensure!(
                    stale.is_empty(),
                    "{} differ from the services' documents: run `make openapi`",
                    stale.join(", ")
                );
                eprintln!("[gateway] the aggregated OpenAPI document and maps are current");
            } else {
                for (name, text) in generated.files() {
                    std::fs::write(home.join(name), text)?;
                }
                eprintln!(
                    "[gateway] wrote openapi.json and the routing maps to {}",
                    home.display()
                );
            }
            Ok(())
        }
        GatewayCommand::AddInstance {
            service,
            address,
            state,
        } => {
            anyhow::ensure!(
                SERVICES.contains(&service.as_str()),
                "unknown service {service:?}: one of {}",
                SERVICES.join(", ")
            );
            backends::validate_address(&address)?;
            let store = KeyStore::open(&state.dir)?;
            let list = store.dir().join("instances").join(&service);
            std::fs::create_dir_all(list.parent().expect("a parent"))?;
            let mut known = std::fs::read_to_string(&list).unwrap_or_default();
            if !known.lines().any(|l| l == address) {
                known.push_str(&format!("{address}\n"));
                std::fs::write(&list, known)?;
            }
            let name = backends::server_name(&service, &address);
            let mut applied = 0;
            for socket in AdminSocket::discover(store.dir()) {
                match socket.add_server(&service, &name, &address) {
                    Ok(()) => applied += 1,
                    Err(e) if format!("{e:#}").contains("Already exists") => applied += 1,
                    Err(e) => eprintln!("[gateway] {}: {e:#}", socket.path().display()),
                }
            }
            eprintln!(
                "[gateway] {service} instance {address} added to {applied} running gateway(s)"
            );
            Ok(())
        }
    }
}

/// The service documents from `touchstone-<service> openapi`, merged.
pub fn generate_from_binaries(bin_dir: &Path) -> anyhow::Result<Generated> {
    let mut docs = Vec::new();
    for service in SERVICES {
        let bin = bin_dir.join(format!("touchstone-{service}"));
        let out = Command::new(&bin)
            .arg("openapi")
            .output()
            .with_context(|| format!("running {} openapi", bin.display()))?;
        anyhow::ensure!(
            out.status.success(),
            "{} openapi failed: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        docs.push(ServiceDoc {
            service: service.to_string(),
            doc: serde_json::from_slice(&out.stdout)?,
        });
    }
    generate(&docs)
}

/// `haproxy -f haproxy.cfg -f <backends>` with the environment the configuration reads.
fn haproxy_command(args: &StartArgs) -> anyhow::Result<Command> {
    let store = KeyStore::open(&args.state.dir)?;
    let state = store.dir();
    let home = std::fs::canonicalize(&args.home.dir)
        .with_context(|| format!("the gateway's folder {}", args.home.dir.display()))?;
    let assets = std::fs::canonicalize(&args.assets)
        .with_context(|| format!("Swagger UI's files in {}", args.assets.display()))?;
    let socket = args
        .socket
        .clone()
        .unwrap_or_else(|| state.join("gateway.sock"));
    anyhow::ensure!(args.replicas > 0, "--replicas must be at least 1");
    let mut services = Vec::new();
    for service in SERVICES {
        let mut d = backends::from_env(service, |k| std::env::var(k).ok())?;
        if let Discovery::List(list) = &mut d {
            let added =
                std::fs::read_to_string(state.join("instances").join(service)).unwrap_or_default();
            for a in added.lines().filter(|l| !l.is_empty()) {
                if !list.iter().any(|x| x == a) {
                    list.push(a.to_string());
                }
            }
        }
        services.push((*service, d));
    }
    let stem = socket
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("gateway");
    let backends_file = state.join(format!("{stem}.backends.cfg"));
    std::fs::write(&backends_file, backends::render(&services))?;
    let mut cmd = Command::new(&args.haproxy);
    cmd.arg("-f")
        .arg(home.join("haproxy.cfg"))
        .arg("-f")
        .arg(&backends_file)
        .env("TOUCHSTONE_GATEWAY_BIND", &args.bind)
        .env("TOUCHSTONE_GATEWAY_METRICS_BIND", &args.metrics_bind)
        .env("TOUCHSTONE_GATEWAY_HOME", &home)
        .env("TOUCHSTONE_GATEWAY_ASSETS", &assets)
        .env("TOUCHSTONE_GATEWAY_STATE", state)
        .env("TOUCHSTONE_GATEWAY_SOCKET", &socket)
        .env("TOUCHSTONE_GATEWAY_RATE_LIMIT", args.rate_limit.to_string())
        .env("TOUCHSTONE_GATEWAY_REPLICAS", args.replicas.to_string())
        .env("TOUCHSTONE_GATEWAY_JSON_LIMIT", args.json_limit.to_string())
        .env("TOUCHSTONE_GATEWAY_BULK_LIMIT", args.bulk_limit.to_string());
    Ok(cmd)
}
