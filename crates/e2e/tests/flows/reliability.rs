//! Reliability: nothing lost before a consumer's first start, services that fail loudly
//! when a bus task dies, and faults on PostgreSQL and RabbitMQ (through a `FaultProxy` in
//! front of one service only) that leave every effect applied exactly once.

use std::time::Duration;

use platform::Settings;
use platform::testing::{FaultProxy, RunningService};
use serde_json::{Value, json};

use crate::helpers::*;

const POSTGRES: &str = "127.0.0.1:5432";
const RABBITMQ: &str = "127.0.0.1:5672";

/// `settings` with the database reached through `proxy`, and short timeouts so that a
/// fault shows within seconds.
fn database_through(proxy: &FaultProxy, mut settings: Settings) -> Settings {
    let url = proxy.route(
        secrecy::ExposeSecret::expose_secret(&settings.database.url),
        POSTGRES,
    );
    settings.database.url = url.into();
    settings.database.connect_timeout_ms = 1000;
    settings.database.query_timeout_ms = 3000;
    settings
}

fn broker_through(proxy: &FaultProxy, mut settings: Settings) -> Settings {
    let url = proxy.route(
        secrecy::ExposeSecret::expose_secret(&settings.bus.url),
        RABBITMQ,
    );
    settings.bus.url = url.into();
    settings
}

async fn ready_status(svc: &RunningService) -> u16 {
    svc.get("/health/ready").await.status().as_u16()
}

/// Polls readiness until it is `status` (up to `within`).
async fn wait_ready_status(svc: &RunningService, status: u16, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let now = ready_status(svc).await;
        if now == status {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "readiness stayed {now}, not {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn post_lead(leads: &RunningService, email: &str, key: &str) -> reqwest::Response {
    leads
        .client
        .post(leads.url("/v1/leads"))
        .header("Idempotency-Key", key)
        .json(&json!({"email": email, "source": "webinar"}))
        .send()
        .await
        .expect("POST sent")
}

/// Asserts a 503 `unavailable` problem with `Retry-After`.
async fn assert_unavailable(resp: reqwest::Response) {
    assert_eq!(resp.status().as_u16(), 503);
    assert!(resp.headers().contains_key("retry-after"));
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(ct, "application/problem+json");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["type"].as_str().unwrap().rsplit('/').next(),
        Some("unavailable"),
        "{body}"
    );
}

/// Each lead has exactly one deal in the funnel (eventually; then no more).
async fn one_deal_each(suite: &Suite, funnel: &RunningService, lead_ids: &[String]) {
    for id in lead_ids {
        suite.deal_of_lead(funnel, id).await;
    }
    let total = funnel.count("SELECT count(*) AS n FROM deals").await;
    assert_eq!(
        total,
        lead_ids.len() as i64,
        "one deal per lead, none doubled"
    );
}

/// Creates `n` leads `<prefix><i>@<domain>`; their ids.
async fn create_leads(
    suite: &Suite,
    leads: &RunningService,
    prefix: &str,
    domain: &str,
    n: usize,
) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let body = json!({"email": format!("{prefix}{i}@{domain}"), "source": "webinar"});
        ids.push(suite.create_lead(leads, &body).await);
    }
    ids
}

/// Waits until the broker has confirmed `n` `lead.created` events of the leads service.
async fn published(leads: &RunningService, n: i64) {
    leads
        .wait_count(
            "SELECT count(*) AS n FROM outbox WHERE published_at IS NOT NULL \
             AND routing_key = 'touchstone.leads.lead.created.v1'",
            n,
        )
        .await;
}

async fn dead_letters(settings: &Settings, service: &str) -> usize {
    platform::bus::dlq::peek(&settings.bus, service, 100)
        .await
        .expect("DLQ readable")
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_published_before_its_consumer_first_starts_waits_for_it() {
    let suite = Suite::new();
    // `touchstone bus setup`: the topology from the catalog, before any service runs.
    let settings = suite.settings("cli");
    let conn = platform::bus::connect(&settings.bus, "setup")
        .await
        .unwrap();
    platform::bus::topology::declare_all(&conn, &settings.bus)
        .await
        .unwrap();
    let _ = conn.close(200, "done".into()).await;

    let leads = suite.start(leads::definition()).await;
    let lead = suite
        .create_lead(
            &leads,
            &json!({"email": "first@start.example", "source": "webinar"}),
        )
        .await;
    published(&leads, 1).await;
    // The funnel has never run; its queue already holds the event.
    let funnel = suite.start(funnel::definition()).await;
    one_deal_each(&suite, &funnel, &[lead]).await;
    let metrics = leads.get("/metrics").await.text().await.unwrap();
    assert!(
        !metrics.contains("events_unroutable_total{"),
        "nothing was unroutable: {metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_setup_an_event_nobody_consumes_yet_is_kept_counted_and_resent() {
    let suite = Suite::new();
    // The kept event's queue has no consumer: a test namespace's queues expire a minute
    // after their last use, which a loaded CI machine can reach before the replay.
    let mut settings = suite.settings("leads");
    settings.bus.ephemeral_ms = Some(600_000);
    let leads = RunningService::start(leads::definition(), settings).await;
    let lead = suite
        .create_lead(
            &leads,
            &json!({"email": "early@bird.example", "source": "webinar"}),
        )
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let metrics = leads.get("/metrics").await.text().await.unwrap();
        let counted = metrics.lines().any(|l| {
            l.starts_with("events_unroutable_total{")
                && l.contains("type=\"touchstone.leads.lead.created.v1\"")
                && l.ends_with("} 1")
        });
        if counted {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The funnel and touchpoints start; the kept event is re-sent to them.
    let funnel = suite.start(funnel::definition()).await;
    let moved = platform::bus::dlq::replay_unroutable(&leads.settings.bus, "leads", 100)
        .await
        .unwrap();
    assert_eq!(moved, 1);
    one_deal_each(&suite, &funnel, &[lead]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_relay_or_consumer_makes_the_service_unready_and_exit_non_zero() {
    let suite = Suite::new();
    for task in ["outbox relay", "consumer"] {
        let mut settings = suite.settings("funnel");
        settings.runtime.task_grace_ms = 1500;
        let mut funnel = RunningService::start(funnel::definition(), settings).await;
        assert_eq!(ready_status(&funnel).await, 200);
        assert!(funnel.tasks.abort(task), "{task} was running");
        // Not ready at once, while it still answers during the grace period.
        wait_ready_status(&funnel, 503, Duration::from_secs(1)).await;
        let ended = funnel
            .exited(Duration::from_secs(10))
            .await
            .expect("the service exits after the grace period");
        let err = ended.expect_err("a non-zero exit");
        assert!(err.to_string().contains(task), "{task}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "quarantined: on a loaded CI machine leads once stayed unready 45 s after the proxy \
            restored its database (passes alone); run with --ignored while that is found"]
async fn postgres_cut_under_a_writer_gives_503s_then_heals_in_place_with_no_doubled_write() {
    let suite = Suite::new();
    let proxy = FaultProxy::start(POSTGRES).await;
    let settings = database_through(&proxy, suite.settings("leads"));
    let leads = RunningService::start(leads::definition(), settings).await;
    let funnel = suite.start(funnel::definition()).await;
    let before = post_lead(&leads, "before@cut.example", "k-before").await;
    assert_eq!(before.status().as_u16(), 201);

    proxy.cut();
    assert_unavailable(post_lead(&leads, "during@cut.example", "k-during").await).await;
    wait_ready_status(&leads, 503, Duration::from_secs(5)).await;
    // The process stays up and keeps answering.
    assert_eq!(leads.get("/health/live").await.status().as_u16(), 200);

    proxy.restore();
    wait_ready_status(&leads, 200, Duration::from_secs(45)).await;
    // The client retries with its key: created once.
    let retried = post_lead(&leads, "during@cut.example", "k-during").await;
    assert_eq!(retried.status().as_u16(), 201);
    let again = post_lead(&leads, "during@cut.example", "k-during").await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(leads.count("SELECT count(*) AS n FROM leads").await, 2);
    let (_, ids) = leads.paged_ids("/v1/leads", 50).await;
    one_deal_each(&suite, &funnel, &ids).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_blackhole_under_a_writer_answers_503_in_bounded_time_then_heals() {
    let suite = Suite::new();
    let proxy = FaultProxy::start(POSTGRES).await;
    let settings = database_through(&proxy, suite.settings("leads"));
    let leads = RunningService::start(leads::definition(), settings).await;

    proxy.blackhole();
    let asked = tokio::time::Instant::now();
    assert_unavailable(post_lead(&leads, "void@partition.example", "k-void").await).await;
    assert!(
        asked.elapsed() < Duration::from_secs(8),
        "{:?}",
        asked.elapsed()
    );
    wait_ready_status(&leads, 503, Duration::from_secs(5)).await;

    proxy.restore();
    wait_ready_status(&leads, 200, Duration::from_secs(45)).await;
    let retried = post_lead(&leads, "void@partition.example", "k-void").await;
    assert!(
        [201, 409].contains(&retried.status().as_u16()),
        "{}",
        retried.status()
    );
    assert_eq!(
        leads
            .count("SELECT count(*) AS n FROM leads WHERE email = 'void@partition.example'")
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cut_under_a_consumer_holds_its_events_until_it_heals() {
    let suite = Suite::new();
    let proxy = FaultProxy::start(POSTGRES).await;
    let leads = suite.start(leads::definition()).await;
    let mut funnel_settings = database_through(&proxy, suite.settings("funnel"));
    // A small retry budget: a consumer that spent retries on an unreachable database would
    // dead-letter its first event within about seven seconds (a failed group, then two tries
    // of each of the five events, each a one-second pool timeout), inside the outage below.
    funnel_settings.bus.max_retries = 1;
    funnel_settings.bus.retry_base_ms = 10;
    let funnel = RunningService::start(funnel::definition(), funnel_settings.clone()).await;

    proxy.cut();
    let ids = create_leads(&suite, &leads, "held", "cut.example", 5).await;
    wait_ready_status(&funnel, 503, Duration::from_secs(5)).await;
    assert_unavailable(funnel.get("/v1/deals").await).await;
    // The events reach the funnel's queue while its database is away: none may burn its
    // retries or be dead-lettered, however long the outage lasts past that budget.
    published(&leads, 5).await;
    tokio::time::sleep(Duration::from_secs(9)).await;

    proxy.restore();
    wait_ready_status(&funnel, 200, Duration::from_secs(45)).await;
    one_deal_each(&suite, &funnel, &ids).await;
    assert_eq!(dead_letters(&funnel_settings, "funnel").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_cut_under_a_publisher_keeps_writes_and_publishes_them_after() {
    let suite = Suite::new();
    let proxy = FaultProxy::start(RABBITMQ).await;
    let settings = broker_through(&proxy, suite.settings("leads"));
    let leads = RunningService::start(leads::definition(), settings).await;
    let funnel = suite.start(funnel::definition()).await;

    proxy.cut();
    wait_ready_status(&leads, 503, Duration::from_secs(10)).await;
    // Writes go on: their events wait in the outbox.
    let ids = create_leads(&suite, &leads, "queued", "cut.example", 5).await;
    assert_eq!(
        leads
            .count(
                "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL \
                 AND routing_key = 'touchstone.leads.lead.created.v1'"
            )
            .await,
        5
    );

    proxy.restore();
    wait_ready_status(&leads, 200, Duration::from_secs(45)).await;
    one_deal_each(&suite, &funnel, &ids).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_cut_and_blackhole_under_a_consumer_apply_every_event_once_after() {
    let suite = Suite::new();
    let proxy = FaultProxy::start(RABBITMQ).await;
    let leads = suite.start(leads::definition()).await;
    let funnel_settings = broker_through(&proxy, suite.settings("funnel"));
    let funnel = RunningService::start(funnel::definition(), funnel_settings.clone()).await;

    let mut ids = Vec::new();
    proxy.cut();
    wait_ready_status(&funnel, 503, Duration::from_secs(10)).await;
    ids.extend(create_leads(&suite, &leads, "cut", "amqp.example", 3).await);
    proxy.restore();
    wait_ready_status(&funnel, 200, Duration::from_secs(45)).await;
    one_deal_each(&suite, &funnel, &ids).await;

    // A partition: the connection stays open but silent, then heals.
    proxy.blackhole();
    ids.extend(create_leads(&suite, &leads, "hole", "amqp.example", 3).await);
    published(&leads, 6).await;
    proxy.restore();
    one_deal_each(&suite, &funnel, &ids).await;
    assert_eq!(dead_letters(&funnel_settings, "funnel").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_blackhole_and_latency_under_a_consumer_apply_every_event_once() {
    let suite = Suite::new();
    let proxy = FaultProxy::start(POSTGRES).await;
    let leads = suite.start(leads::definition()).await;
    let funnel_settings = database_through(&proxy, suite.settings("funnel"));
    let funnel = RunningService::start(funnel::definition(), funnel_settings.clone()).await;

    // A partition: the funnel's database connections stay open and silent.
    proxy.blackhole();
    let mut ids = create_leads(&suite, &leads, "silent", "pg.example", 3).await;
    published(&leads, 3).await;
    wait_ready_status(&funnel, 503, Duration::from_secs(10)).await;
    proxy.restore();
    wait_ready_status(&funnel, 200, Duration::from_secs(45)).await;
    one_deal_each(&suite, &funnel, &ids).await;

    // A slow network: every chunk each way waits 20 ms.
    proxy.latency(Duration::from_millis(20));
    ids.extend(create_leads(&suite, &leads, "slow", "pg.example", 3).await);
    one_deal_each(&suite, &funnel, &ids).await;
    proxy.restore();
    assert_eq!(dead_letters(&funnel_settings, "funnel").await, 0);
}
