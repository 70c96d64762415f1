//! Least privilege: deploy/scripts/provision.sh gives each service a PostgreSQL role and a
//! RabbitMQ user that reach its own database, queues and event types, and nothing of
//! another service's. Each test runs the real script on throw-away names (its own prefix,
//! exchange and secrets directory) and removes them when it ends.

use std::collections::HashMap;
use std::future::Future;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use contracts::RawEvent;
use contracts::touchpoints::TouchpointRecorded;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use lapin::options::{
    BasicConsumeOptions, BasicGetOptions, ConfirmSelectOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions, QueuePurgeOptions,
};
use lapin::types::FieldTable;
use platform::Settings;
use platform::bus::{self, Tap};
use platform::testing::{RunningService, TestNamespace};
use secrecy::SecretString;
use serde_json::json;

/// Two services are enough to show that one cannot reach the other.
const SERVICES: [&str; 2] = ["leads", "funnel"];
const SUPERUSER_URL: &str = "postgres://postgres@127.0.0.1:5432";

/// Accounts made by the provisioning script under a prefix of this test's own.
struct Provisioned {
    prefix: String,
    exchange: String,
    secrets: PathBuf,
    /// Everything the script printed, to check that no password is in it.
    output: String,
}

impl Provisioned {
    fn new() -> Provisioned {
        let id = &uuid::Uuid::new_v4().simple().to_string()[..10];
        let prefix = format!("test_priv_{id}");
        Provisioned {
            exchange: format!("{prefix}.events"),
            secrets: std::env::temp_dir().join(format!("{prefix}-secrets")),
            prefix,
            output: String::new(),
        }
    }

    /// Runs deploy/scripts/provision.sh for `SERVICES`.
    fn run(&mut self) {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/scripts/provision.sh"
        );
        let out = std::process::Command::new("bash")
            .arg(script)
            .env("TOUCHSTONE_PROVISION_PREFIX", &self.prefix)
            .env("TOUCHSTONE_PROVISION_SERVICES", SERVICES.join(" "))
            .env("TOUCHSTONE_PROVISION_EXCHANGE", &self.exchange)
            .env("TOUCHSTONE_SECRETS_DIR", &self.secrets)
            .output()
            .expect("provision.sh runs");
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "provision.sh failed: {printed}");
        self.output.push_str(&printed);
    }

    fn role(&self, service: &str) -> String {
        format!("{}_{service}", self.prefix)
    }

    fn secret(&self, file: &str) -> String {
        std::fs::read_to_string(self.secrets.join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .trim()
            .to_string()
    }

    /// The `KEY=value` lines of `<service>.env`.
    fn env_file(&self, service: &str) -> HashMap<String, String> {
        self.secret(&format!("{service}.env"))
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// `service`'s role on `database` (a service name), with its password.
    fn pg_url(&self, service: &str, database: &str) -> String {
        format!(
            "postgres://{}:{}@127.0.0.1:5432/{}",
            self.role(service),
            self.secret(&format!("{service}.pg-password")),
            self.role(database)
        )
    }

    /// This test's namespace settings for `service`, with the database and the broker
    /// settings of `<service>.env`: the service's own accounts and names.
    fn settings(&self, namespace: &TestNamespace, service: &str) -> Settings {
        let env = self.env_file(service);
        let key = |k: &str| {
            let name = format!("TOUCHSTONE_{}__{k}", service.to_uppercase());
            env.get(&name)
                .unwrap_or_else(|| panic!("{service}.env has no {name}"))
                .clone()
        };
        let mut s = namespace.settings(service);
        s.database.url = SecretString::from(key("DATABASE__URL"));
        s.database.name = key("DATABASE__NAME");
        s.bus.url = SecretString::from(key("BUS__URL"));
        s.bus.exchange = key("BUS__EXCHANGE");
        s.bus.queue_prefix = key("BUS__QUEUE_PREFIX");
        s
    }

    fn queues(&self) -> Vec<String> {
        let mut names = Vec::new();
        for s in SERVICES {
            let base = format!("{}.{s}", self.prefix);
            names.extend([format!("{base}.dlq"), format!("{base}.probe")]);
            names.extend((1..=3).map(|n| format!("{base}.retry.{n}")));
            names.push(base);
        }
        names
    }
}

impl Drop for Provisioned {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&format!("{SUPERUSER_URL}/postgres")) {
            for s in SERVICES {
                let name = self.role(s);
                let _ =
                    diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .execute(&mut admin);
                let _ = diesel::sql_query(format!("DROP ROLE IF EXISTS \"{name}\""))
                    .execute(&mut admin);
            }
        }
        for s in SERVICES {
            let _ = std::process::Command::new("rabbitmqctl")
                .args(["-q", "delete_user", &format!("{}-{s}", self.prefix)])
                .output();
        }
        // Queues and the exchange go through guest, on a runtime of its own: this may run
        // inside a test's runtime, which cannot be blocked on.
        let (queues, exchange) = (self.queues(), self.exchange.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(delete_broker_names(queues, exchange));
        })
        .join();
        let _ = std::fs::remove_dir_all(&self.secrets);
    }
}

async fn delete_broker_names(queues: Vec<String>, exchange: String) {
    let Ok(conn) = bus::connect(&Settings::defaults("e2e").bus, "test-cleanup").await else {
        return;
    };
    for q in queues {
        if let Ok(ch) = conn.create_channel().await {
            let _ = ch
                .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
    }
    if let Ok(ch) = conn.create_channel().await {
        let _ = ch
            .exchange_delete(exchange.as_str().into(), Default::default())
            .await;
    }
    let _ = conn.close(200, "done".into()).await;
}

fn superuser(sql: &str) {
    let mut admin =
        PgConnection::establish(&format!("{SUPERUSER_URL}/postgres")).expect("superuser");
    diesel::sql_query(sql).execute(&mut admin).expect(sql);
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777
}

#[derive(diesel::QueryableByName)]
struct RoleRights {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    rolsuper: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    rolcreatedb: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    rolcreaterole: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    rolcanlogin: bool,
}

#[test]
fn each_role_opens_its_own_database_and_no_other() {
    let mut p = Provisioned::new();
    p.run();
    // A second run changes nothing and keeps the passwords.
    let first = p.secret("leads.pg-password");
    p.run();
    assert_eq!(p.secret("leads.pg-password"), first);

    assert_eq!(mode(&p.secrets), 0o700);
    for s in SERVICES {
        for file in ["pg-password", "amqp-password", "env"] {
            let path = p.secrets.join(format!("{s}.{file}"));
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
        for file in ["pg-password", "amqp-password"] {
            let password = p.secret(&format!("{s}.{file}"));
            assert!(password.len() >= 32, "{s}.{file} is too short");
            assert!(
                !p.output.contains(&password),
                "provision.sh printed {s}.{file}"
            );
        }
    }
    assert_ne!(
        p.secret("leads.pg-password"),
        p.secret("funnel.pg-password")
    );

    for (own, other) in [("leads", "funnel"), ("funnel", "leads")] {
        let mut conn = PgConnection::establish(&p.pg_url(own, own))
            .unwrap_or_else(|e| panic!("{own} opens its own database: {e}"));
        // It owns the database: it can create what its migrations create.
        diesel::sql_query("CREATE TABLE probe (id BIGSERIAL PRIMARY KEY)")
            .execute(&mut conn)
            .expect("the role creates tables in its database");
        let rights: RoleRights = diesel::sql_query(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles \
             WHERE rolname = current_user",
        )
        .get_result(&mut conn)
        .expect("role attributes");
        assert!(rights.rolcanlogin);
        assert!(
            !rights.rolsuper && !rights.rolcreatedb && !rights.rolcreaterole,
            "{own}'s role has special powers"
        );

        let Err(e) = PgConnection::establish(&p.pg_url(own, other)) else {
            panic!("{own}'s role opened the {other} database");
        };
        assert!(
            e.to_string().contains("permission denied for database"),
            "{own} -> {other}: {e}"
        );
    }
}

#[test]
fn a_database_made_by_the_superuser_is_handed_to_the_role() {
    let mut p = Provisioned::new();
    let name = p.role("leads");
    // As services did before they had roles: the superuser created and migrated the database.
    superuser(&format!("CREATE DATABASE \"{name}\""));
    let mut old = Settings::defaults("leads").database;
    old.name = name.clone();
    old.pool_size = 1;
    drop(
        platform::db::connect_and_migrate(&old, platform::db::PLATFORM_MIGRATIONS)
            .expect("migrated as the superuser"),
    );
    let mut conn =
        PgConnection::establish(&format!("{SUPERUSER_URL}/{name}")).expect("superuser session");
    conn.batch_execute(
        "CREATE FUNCTION outbox_probe() RETURNS int LANGUAGE sql AS 'SELECT 1'; \
         CREATE VIEW unpublished AS SELECT id FROM outbox WHERE published_at IS NULL",
    )
    .expect("more objects of the superuser");
    drop(conn);

    p.run();

    // The role carries on: the service's own migrations on top, and changes to old objects.
    let mut settings = old.clone();
    settings.url =
        SecretString::from(p.env_file("leads")["TOUCHSTONE_LEADS__DATABASE__URL"].clone());
    let db = platform::db::connect_and_migrate(&settings, leads::definition().migrations)
        .expect("the role applies the service's migrations");
    let mut conn = db.pool().get().expect("connection as the role");
    conn.batch_execute(
        "ALTER TABLE outbox ADD COLUMN probe INTEGER; \
         CREATE OR REPLACE FUNCTION outbox_probe() RETURNS int LANGUAGE sql AS 'SELECT 2'; \
         CREATE OR REPLACE VIEW unpublished AS SELECT id, routing_key FROM outbox; \
         SELECT nextval('outbox_id_seq')",
    )
    .expect("the role alters what the superuser made");
}

/// Publishes as the owner of `bus.url`, waiting for the broker's confirm.
async fn publish(
    bus: &platform::config::BusSettings,
    exchange: &str,
    routing_key: &str,
    content_type: &str,
    body: &[u8],
) -> anyhow::Result<()> {
    let conn = bus::connect(bus, "test-publisher").await?;
    let channel = conn.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let id = uuid::Uuid::new_v4().to_string();
    let props = bus::message_properties(&id, content_type, FieldTable::default());
    let result = bus::publish_confirmed(&channel, exchange, routing_key, body, props).await;
    let _ = conn.close(200, "done".into()).await;
    result
}

fn touchpoint() -> RawEvent {
    let t: TouchpointRecorded = serde_json::from_value(json!({
        "touchpoint_id": uuid::Uuid::new_v4(), "occurred_at": chrono::Utc::now(),
        "received_at": chrono::Utc::now(), "channel": "event", "type": "visit",
        "anonymous_id": "privilege-test",
    }))
    .expect("a touchpoint");
    RawEvent::new(&t, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_runs_on_its_own_accounts() {
    let mut p = Provisioned::new();
    p.run();
    // Hardened servers also keep service roles out of the maintenance database; shut it to
    // this role alone (every session it opens there fails) to show the service does not need it.
    superuser(&format!(
        "ALTER ROLE \"{}\" IN DATABASE postgres SET session_preload_libraries = 'touchstone_no_such_library'",
        p.role("leads")
    ));
    let namespace = TestNamespace::new();
    let settings = p.settings(&namespace, "leads");
    let mut guest = settings.bus.clone();
    guest.url = Settings::defaults("e2e").bus.url;
    let mut tap = Tap::open(&guest, "touchstone.leads.#")
        .await
        .expect("tap as guest");

    let leads = RunningService::start(leads::definition(), settings).await;
    assert_eq!(
        leads.get("/health/ready").await.status().as_u16(),
        200,
        "ready on its own accounts"
    );

    // Produces: the relay publishes the service's event as its own user.
    let created = leads
        .post_json(
            "/v1/leads",
            &json!({"email": "ada@privilege.example", "source": "webinar"}),
        )
        .await;
    assert_eq!(created.status().as_u16(), 201);
    loop {
        let delivery = tap
            .next(Duration::from_secs(10))
            .await
            .expect("lead.created published");
        if delivery.routing_key.as_str() == "touchstone.leads.lead.created.v1" {
            break;
        }
    }

    // Consumes: another service's event reaches its queue.
    let event = touchpoint();
    publish(
        &guest,
        &p.exchange,
        &event.ty,
        contracts::CLOUDEVENTS_JSON,
        &event.to_json_bytes(),
    )
    .await
    .expect("published as guest");
    leads.wait_count("SELECT count(*) AS n FROM inbox", 1).await;

    // Dead-letters: a message that does not parse goes to its DLQ through the default
    // exchange, and its operator tools read and replay the DLQ with the same account.
    publish(
        &guest,
        &p.exchange,
        &event.ty,
        contracts::CLOUDEVENTS_JSON,
        b"not json",
    )
    .await
    .expect("published as guest");
    let bus_settings = leads.settings.bus.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let letters = bus::dlq::peek(&bus_settings, "leads", 10)
            .await
            .expect("the service's user reads its DLQ");
        if letters.len() == 1 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no dead letter");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // One at a time: the replayed message fails again and comes straight back.
    let moved = bus::dlq::replay(&bus_settings, "leads", 1)
        .await
        .expect("the service's user replays its DLQ");
    assert_eq!(moved, 1);

    // Retries: a message in its first retry queue comes back to its queue after the delay
    // (the retry queue dead-letters into it) and is applied.
    let retried = touchpoint();
    publish(
        &bus_settings,
        "",
        &bus_settings.retry_queue("leads", 1),
        contracts::CLOUDEVENTS_JSON,
        &retried.to_json_bytes(),
    )
    .await
    .expect("the service's user sends a retry");
    leads.wait_count("SELECT count(*) AS n FROM inbox", 2).await;
}

fn access_refused(e: &lapin::Error) -> bool {
    matches!(e.kind(), lapin::ErrorKind::ProtocolError(amqp) if amqp.get_id() == 403)
}

/// Runs `op` on a fresh channel (a refusal closes the channel) and expects ACCESS_REFUSED.
async fn refused<T, F, Fut>(conn: &lapin::Connection, what: &str, op: F)
where
    F: FnOnce(lapin::Channel) -> Fut,
    Fut: Future<Output = lapin::Result<T>>,
{
    let channel = conn.create_channel().await.expect("channel");
    match op(channel).await {
        Ok(_) => panic!("{what}: allowed, but must be refused"),
        Err(e) => assert!(
            access_refused(&e),
            "{what}: expected ACCESS_REFUSED, got {e}"
        ),
    }
}

fn durable() -> QueueDeclareOptions {
    QueueDeclareOptions {
        durable: true,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bus_user_cannot_reach_another_services_queues() {
    let mut p = Provisioned::new();
    p.run();
    let namespace = TestNamespace::new();
    let leads = p.settings(&namespace, "leads").bus;
    let funnel = p.settings(&namespace, "funnel").bus;

    // Each declares its topology as its consumer and relay do on start-up.
    let funnel_conn = bus::connect(&funnel, "funnel").await.expect("funnel user");
    bus::topology::declare_service(
        &funnel_conn,
        &funnel,
        "funnel",
        &["touchstone.leads.#".into()],
    )
    .await
    .expect("funnel declares its queues");
    let conn = bus::connect(&leads, "leads").await.expect("leads user");
    bus::topology::declare_service(&conn, &leads, "leads", &["touchstone.funnel.#".into()])
        .await
        .expect("leads declares its queues");
    bus::topology::declare_unroutable(&conn, &leads, "leads")
        .await
        .expect("leads declares the queue that keeps its unroutable events");
    let ch = conn.create_channel().await.expect("channel");
    ch.basic_consume(
        leads.queue("leads").as_str().into(),
        "own".into(),
        BasicConsumeOptions::default(),
        FieldTable::default(),
    )
    .await
    .expect("leads consumes its queue");
    ch.basic_get(
        leads.dlq("leads").as_str().into(),
        BasicGetOptions::default(),
    )
    .await
    .expect("leads reads its DLQ");
    publish(
        &leads,
        &leads.exchange,
        "touchstone.leads.lead.created.v1",
        "application/json",
        b"{}",
    )
    .await
    .expect("leads publishes its own event types");

    // A queue of the funnel's that does not exist yet, so that only permissions decide.
    let other = format!("{}.probe", funnel.queue("funnel"));
    refused(&conn, "declare a funnel queue", |ch| async move {
        ch.queue_declare(other.as_str().into(), durable(), FieldTable::default())
            .await
    })
    .await;
    let other = funnel.queue("funnel");
    refused(&conn, "consume the funnel queue", |ch| async move {
        ch.basic_consume(
            other.as_str().into(),
            "steal".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
    })
    .await;
    let other = funnel.dlq("funnel");
    refused(&conn, "read the funnel DLQ", |ch| async move {
        ch.basic_get(other.as_str().into(), BasicGetOptions::default())
            .await
    })
    .await;
    let other = funnel.queue("funnel");
    refused(&conn, "purge the funnel queue", |ch| async move {
        ch.queue_purge(other.as_str().into(), QueuePurgeOptions::default())
            .await
    })
    .await;
    let other = funnel.queue("funnel");
    refused(&conn, "delete the funnel queue", |ch| async move {
        ch.queue_delete(other.as_str().into(), QueueDeleteOptions::default())
            .await
    })
    .await;
    let (other, exchange) = (funnel.queue("funnel"), leads.exchange.clone());
    refused(&conn, "bind the funnel queue", |ch| async move {
        ch.queue_bind(
            other.as_str().into(),
            exchange.as_str().into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
    })
    .await;
    // The name patterns are anchored: a queue merely starting with its name is not its own.
    let lookalike = format!("{}x", leads.queue("leads"));
    refused(&conn, "declare a look-alike queue", |ch| async move {
        ch.queue_declare(lookalike.as_str().into(), durable(), FieldTable::default())
            .await
    })
    .await;
    let (own, amq_topic) = (leads.queue("leads"), "amq.topic");
    refused(&conn, "bind to another exchange", |ch| async move {
        ch.queue_bind(
            own.as_str().into(),
            amq_topic.into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
    })
    .await;
    let exchange = format!("{}.other", p.prefix);
    refused(&conn, "declare another exchange", |ch| async move {
        ch.exchange_declare(
            exchange.as_str().into(),
            lapin::ExchangeKind::Topic,
            ExchangeDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
    })
    .await;

    // Publishing another service's event type on the exchange is refused (topic permission).
    let err = publish(
        &leads,
        &leads.exchange,
        "touchstone.funnel.deal.won.v1",
        "application/json",
        b"{}",
    )
    .await
    .expect_err("leads must not publish funnel events");
    let refused_publish = err
        .downcast_ref::<lapin::Error>()
        .is_some_and(access_refused);
    assert!(refused_publish, "expected ACCESS_REFUSED, got {err:#}");
    let _ = conn.close(200, "done".into()).await;
    let _ = funnel_conn.close(200, "done".into()).await;
}
