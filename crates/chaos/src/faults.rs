//! The fault schedule: which faults, in an order the seed fixes, spread over the load, and
//! how long the suite took to recover from each.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lapin::options::ConfirmSelectOptions;
use serde_json::json;

use crate::load::{Rng, SERVICES, Suite};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// SIGKILL one instance of every service, in the middle of its work.
    KillOneOfEach,
    /// `rabbitmqctl stop_app`, a pause, `start_app`.
    RestartRabbitmq,
    /// `pg_ctlcluster … restart`.
    RestartPostgres,
    /// One service's broker account loses its permissions and its connections are closed
    /// for 30 s.
    CutBroker(&'static str),
    /// Garbage, an unknown type, and a valid envelope with invalid data.
    Poison,
}

impl Fault {
    pub fn name(&self) -> String {
        match self {
            Fault::KillOneOfEach => "SIGKILL one instance of each service".into(),
            Fault::RestartRabbitmq => "RabbitMQ restart (stop_app / start_app)".into(),
            Fault::RestartPostgres => "PostgreSQL restart".into(),
            Fault::CutBroker(s) => format!("{s} cut off the broker for 30 s"),
            Fault::Poison => "poison messages (garbage, unknown type, invalid data)".into(),
        }
    }
}

/// The faults in the seed's order; the seed also picks the service cut off the broker.
pub fn schedule(seed: u64) -> Vec<Fault> {
    let mut rng = Rng::new(seed);
    let cut = SERVICES[rng.below(SERVICES.len() as u64) as usize].0;
    let mut faults = vec![
        Fault::KillOneOfEach,
        Fault::RestartRabbitmq,
        Fault::RestartPostgres,
        Fault::CutBroker(cut),
        Fault::Poison,
    ];
    for i in (1..faults.len()).rev() {
        faults.swap(i, rng.below(i as u64 + 1) as usize);
    }
    faults
}

/// One fault as it happened.
pub struct Injected {
    pub fault: Fault,
    /// Seconds into the load when it began.
    pub at: f64,
    /// Seconds the fault itself lasted (the outage).
    pub lasted: f64,
    /// Seconds from the end of the fault until every instance was ready again and a probe
    /// lead created then had its deal in the funnel; `None` if that never happened.
    pub recovered_after: Option<f64>,
    pub note: String,
}

/// A poison message: its id and the services whose DLQ must hold it.
pub struct Poison {
    pub message_id: String,
    pub what: &'static str,
    pub consumers: Vec<&'static str>,
}

pub struct FaultLog {
    pub injected: Vec<Injected>,
    pub poison: Vec<Poison>,
}

/// Injects the schedule's faults, spread over `load` from `started`: the first after 15 s,
/// the last ending before the load does.
pub async fn run(suite: Arc<Suite>, seed: u64, load: Duration, started: Instant) -> FaultLog {
    let faults = schedule(seed);
    let first = 15.0;
    let span = (load.as_secs_f64() - first - 45.0).max(0.0);
    let gap = span / (faults.len() - 1) as f64;
    let mut log = FaultLog {
        injected: Vec::new(),
        poison: Vec::new(),
    };
    for (k, fault) in faults.into_iter().enumerate() {
        let slot = Duration::from_secs_f64(first + gap * k as f64);
        if let Some(wait) = slot.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
        let at = started.elapsed().as_secs_f64();
        eprintln!("[chaos] {at:.0} s: {}", fault.name());
        let began = Instant::now();
        let note = match inject(&suite, fault, &mut log.poison).await {
            Ok(note) => note,
            Err(e) => format!("not injected: {e:#}"),
        };
        let lasted = began.elapsed().as_secs_f64();
        let recovered_after = recover(&suite, k).await;
        eprintln!(
            "[chaos]   lasted {lasted:.1} s, recovered {}",
            recovered_after.map_or("never".into(), |r| format!("{r:.1} s after"))
        );
        log.injected.push(Injected {
            fault,
            at,
            lasted,
            recovered_after,
            note,
        });
    }
    log
}

async fn inject(suite: &Suite, fault: Fault, poison: &mut Vec<Poison>) -> anyhow::Result<String> {
    match fault {
        Fault::KillOneOfEach => {
            let mut killed = Vec::new();
            for (service, _) in SERVICES {
                let port = *suite.ports(service).last().expect("an instance");
                let pid = listener_pid(port)?;
                run_cmd("kill", &["-KILL", &pid.to_string()])?;
                killed.push(format!("{service} :{port} (pid {pid})"));
            }
            Ok(format!("killed {}", killed.join(", ")))
        }
        Fault::RestartRabbitmq => {
            run_cmd("rabbitmqctl", &["stop_app"])?;
            tokio::time::sleep(Duration::from_secs(3)).await;
            run_cmd("rabbitmqctl", &["start_app"])?;
            Ok("stopped 3 s".into())
        }
        Fault::RestartPostgres => {
            let version = std::fs::read_dir("/etc/postgresql")?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .max()
                .ok_or_else(|| anyhow::anyhow!("no cluster in /etc/postgresql"))?;
            run_cmd(
                "pg_ctlcluster",
                &["--skip-systemctl-redirect", &version, "main", "restart"],
            )?;
            Ok(format!("cluster {version}/main restarted"))
        }
        Fault::CutBroker(service) => cut_broker(service).await,
        Fault::Poison => {
            poison.extend(send_poison(&suite.run).await?);
            Ok(format!("{} messages", poison.len()))
        }
    }
}

/// Waits until every instance is ready and a probe lead's deal reaches the funnel.
async fn recover(suite: &Suite, k: usize) -> Option<f64> {
    let start = Instant::now();
    suite.wait_ready(Duration::from_secs(180)).await.ok()?;
    let email = format!("{}-probe-{k}@chaos.example", suite.run);
    let lead = suite
        .post(
            "leads",
            "/v1/leads",
            &json!({"email": email, "source": "direct"}),
            &format!("{}-probe-{k}", suite.run),
        )
        .await?;
    let id = lead.body["id"].as_str()?.to_string();
    while start.elapsed() < Duration::from_secs(180) {
        if let Some(a) = suite
            .get("funnel", &format!("/v1/deals?lead_id={id}"))
            .await
            && a.body["items"].as_array().is_some_and(|i| !i.is_empty())
        {
            return Some(start.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

/// The process listening on `port`, from `ss`.
fn listener_pid(port: u16) -> anyhow::Result<u32> {
    let out = Command::new("ss")
        .args(["-ltnpH", &format!("sport = :{port}")])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split("pid=")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|pid| pid.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("nothing listens on port {port}"))
}

fn run_cmd(program: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(program).args(args).output()?;
    anyhow::ensure!(
        out.status.success(),
        "{program} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Takes `service`'s broker permissions away and closes its connections, so that its relay
/// and consumer cannot reconnect for 30 s, then gives the permissions back.
async fn cut_broker(service: &str) -> anyhow::Result<String> {
    let user = format!("touchstone-{service}");
    let perms: serde_json::Value = serde_json::from_str(&run_cmd(
        "rabbitmqctl",
        &[
            "list_user_permissions",
            &user,
            "--formatter",
            "json",
            "--quiet",
        ],
    )?)?;
    let saved: Vec<[String; 4]> = perms
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            ["vhost", "configure", "write", "read"].map(|k| p[k].as_str().unwrap_or("").to_string())
        })
        .collect();
    anyhow::ensure!(
        !saved.is_empty(),
        "{user} has no permissions to take away (is the suite provisioned? `make services`)"
    );
    for [vhost, ..] in &saved {
        run_cmd("rabbitmqctl", &["clear_permissions", "-p", vhost, &user])?;
    }
    let connections: serde_json::Value = serde_json::from_str(&run_cmd(
        "rabbitmqctl",
        &[
            "list_connections",
            "user",
            "pid",
            "--formatter",
            "json",
            "--quiet",
        ],
    )?)?;
    let mut closed = 0;
    for c in connections.as_array().into_iter().flatten() {
        if c["user"].as_str() == Some(user.as_str())
            && let Some(pid) = c["pid"].as_str()
        {
            let _ = run_cmd("rabbitmqctl", &["close_connection", pid, "chaos: cut off"]);
            closed += 1;
        }
    }
    tokio::time::sleep(Duration::from_secs(30)).await;
    for [vhost, configure, write, read] in &saved {
        run_cmd(
            "rabbitmqctl",
            &[
                "set_permissions",
                "-p",
                vhost,
                &user,
                configure,
                write,
                read,
            ],
        )?;
    }
    Ok(format!(
        "{closed} connections of {user} closed, permissions back after 30 s"
    ))
}

/// Publishes three poison messages on the exchange, as a faulty producer would.
async fn send_poison(run: &str) -> anyhow::Result<Vec<Poison>> {
    let settings = platform::Settings::defaults("chaos");
    let conn = platform::bus::connect(&settings.bus, "touchstone-chaos").await?;
    let channel = conn.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let won = "touchstone.funnel.deal.won.v1";
    let created = "touchstone.leads.lead.created.v1";
    let envelope = |id: &str, ty: &str, data: serde_json::Value| {
        serde_json::to_vec(&json!({
            "specversion": "1.0", "id": id, "source": "/touchstone/chaos", "type": ty,
            "time": chrono::Utc::now().to_rfc3339(), "datacontenttype": "application/json",
            "data": data,
        }))
        .expect("JSON")
    };
    let messages = [
        (
            "garbage",
            won,
            format!("{run}-poison-garbage"),
            b"\x00 not a CloudEvent".to_vec(),
        ),
        (
            "unknown type",
            created,
            format!("{run}-poison-unknown"),
            Vec::new(),
        ),
        (
            "invalid data",
            created,
            format!("{run}-poison-invalid"),
            Vec::new(),
        ),
    ];
    let mut sent = Vec::new();
    for (what, routing_key, id, body) in messages {
        let body = match what {
            "unknown type" => envelope(&id, "touchstone.funnel.deal.vanished.v1", json!({})),
            "invalid data" => envelope(&id, created, json!({"lead_id": "not-a-uuid"})),
            _ => body,
        };
        platform::bus::publish_confirmed(
            &channel,
            &settings.bus.exchange,
            routing_key,
            &body,
            platform::bus::message_properties(&id, contracts::CLOUDEVENTS_JSON, Default::default()),
        )
        .await?;
        let consumers = contracts::catalog::lookup(routing_key)
            .map(|info| info.consumers.iter().map(|s| s.as_str()).collect())
            .unwrap_or_default();
        sent.push(Poison {
            message_id: id,
            what,
            consumers,
        });
    }
    let _ = conn.close(200, "done".into()).await;
    Ok(sent)
}
