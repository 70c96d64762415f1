//! The event bus against the real PostgreSQL and RabbitMQ: inbox dedup, retries and the
//! dead-letter queue, garbage and unknown events, batches, two relays on one outbox, and
//! DLQ replay. Each test has its own database, exchange and queues.
//!
//! Tests run on a multi-thread runtime: the relay blocks a pool thread on the broker's
//! confirms (`Handle::block_on`), which a current-thread runtime cannot serve.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use contracts::leads::LeadCreated;
use contracts::{CLOUDEVENTS_BATCH_JSON, CLOUDEVENTS_JSON, RawEvent};
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use lapin::options::ConfirmSelectOptions;
use lapin::types::FieldTable;
use platform::bus::consumer::{Consumer, EventHandler, HandlerError};
use platform::bus::relay::Relay;
use platform::bus::{BrokerStatus, Tap, dlq, message_properties, publish_confirmed};
use platform::metrics::Metrics;
use platform::testing::TestNamespace;
use platform::{Db, DbError, Settings};
use tokio::sync::watch;
use uuid::Uuid;

mod topology;

const FIXTURE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("tests/bus/migrations");
const SERVICE: &str = "fixture";
const LEAD_CREATED: &str = "touchstone.leads.lead.created.v1";

/// Applies `lead.created` by inserting a row into `effects`, then decides by the lead's
/// first name whether to keep it: `fail` is a transient error (until `fixed`), `reject`
/// a permanent one, `check` breaks a check constraint of `effects`, `panic` panics, `slow` takes half a second. The insert happens first so that the tests also see
/// the rollback.
struct TestHandler {
    fixed: Arc<AtomicBool>,
}

impl EventHandler for TestHandler {
    fn bindings(&self) -> Vec<String> {
        vec!["touchstone.leads.#".into()]
    }

    fn handle(&self, conn: &mut PgConnection, event: &RawEvent) -> Result<(), HandlerError> {
        let lead: LeadCreated = event
            .decode()
            .map_err(|e| HandlerError::Permanent(e.to_string()))?;
        diesel::sql_query(
            "INSERT INTO effects (event_id, lead_id, first_name) VALUES ($1, $2, $3)",
        )
        .bind::<diesel::sql_types::Uuid, _>(event.id)
        .bind::<diesel::sql_types::Uuid, _>(lead.lead_id)
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(&lead.first_name)
        .execute(conn)?;
        match lead.first_name.as_deref() {
            Some("fail") if !self.fixed.load(Ordering::SeqCst) => {
                Err(HandlerError::Transient(anyhow::anyhow!("the CRM is down")))
            }
            Some("reject") => Err(HandlerError::Permanent("lead is not acceptable".into())),
            Some("slow") => {
                diesel::sql_query("SELECT pg_sleep(0.5)").execute(conn)?;
                Ok(())
            }
            Some("panic") => panic!("handler bug"),
            _ => Ok(()),
        }
    }
}

/// A consumer of the fixture service running in the background, plus a publisher.
struct Fixture {
    settings: Settings,
    db: Db,
    fixed: Arc<AtomicBool>,
    /// Shared by every consumer the fixture starts, so counts add up across restarts.
    metrics: Metrics,
    publisher: lapin::Channel,
    _connection: lapin::Connection,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Fixture {
    async fn start() -> Fixture {
        let settings = TestNamespace::new().settings(SERVICE);
        let db = migrate(&settings).await;
        let fixed = Arc::new(AtomicBool::new(false));
        let metrics = Metrics::new(SERVICE);
        let (stop, task) = run_consumer(&settings, &db, &fixed, &metrics).await;
        let connection = platform::bus::connect(&settings.bus, "test-publisher")
            .await
            .expect("broker reachable");
        let publisher = connection.create_channel().await.unwrap();
        publisher
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .unwrap();
        Fixture {
            settings,
            db,
            fixed,
            metrics,
            publisher,
            _connection: connection,
            stop,
            task: Some(task),
        }
    }

    /// Stops the consumer; messages published meanwhile wait in its queue.
    async fn pause(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.await.expect("consumer stops cleanly");
        }
    }

    /// Starts a new consumer on the same queue.
    async fn resume(&mut self) {
        let (stop, task) = run_consumer(&self.settings, &self.db, &self.fixed, &self.metrics).await;
        self.stop = stop;
        self.task = Some(task);
    }

    async fn publish_raw(&self, routing_key: &str, content_type: &str, id: Uuid, body: &[u8]) {
        publish_confirmed(
            &self.publisher,
            &self.settings.bus.exchange,
            routing_key,
            body,
            message_properties(&id.to_string(), content_type, FieldTable::default()),
        )
        .await
        .expect("publish confirmed");
    }

    async fn publish(&self, event: &RawEvent) {
        self.publish_raw(
            &event.ty,
            CLOUDEVENTS_JSON,
            event.id,
            &event.to_json_bytes(),
        )
        .await;
    }

    async fn publish_batch(&self, events: &[RawEvent]) {
        let body = serde_json::to_vec(events).unwrap();
        self.publish_raw(LEAD_CREATED, CLOUDEVENTS_BATCH_JSON, Uuid::now_v7(), &body)
            .await;
    }

    async fn effects_of(&self, event_id: Uuid) -> i64 {
        count(
            &self.db,
            format!("SELECT count(*) AS n FROM effects WHERE event_id = '{event_id}'"),
        )
        .await
    }

    async fn wait_effect(&self, event_id: Uuid) {
        wait_for(
            "event to be applied",
            Duration::from_secs(15),
            || async move { self.effects_of(event_id).await > 0 },
        )
        .await;
    }

    /// Waits until the DLQ holds `n` messages and returns them (left in the queue).
    async fn wait_dead_letters(&self, n: usize) -> Vec<dlq::DeadLetter> {
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while tokio::time::Instant::now() < deadline {
            seen = dlq::peek(&self.settings.bus, SERVICE, 100).await.unwrap();
            if seen.len() >= n {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("expected {n} dead letters, found {}: {seen:?}", seen.len());
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
        let settings = self.settings.database.clone();
        let _ = std::thread::spawn(move || platform::db::drop_database(&settings)).join();
    }
}

/// Starts a consumer of the fixture service and waits until it is connected.
async fn run_consumer(
    settings: &Settings,
    db: &Db,
    fixed: &Arc<AtomicBool>,
    metrics: &Metrics,
) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let status = BrokerStatus::default();
    let consumer = Consumer::new(
        db.clone(),
        settings.clone(),
        metrics.clone(),
        status.clone(),
        SERVICE,
        Arc::new(TestHandler {
            fixed: fixed.clone(),
        }),
    );
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(consumer.run(rx));
    wait_for("consumer to start", Duration::from_secs(15), || {
        let up = status.consumer_connected();
        async move { up }
    })
    .await;
    (stop, task)
}

async fn migrate(settings: &Settings) -> Db {
    let db_settings = settings.database.clone();
    tokio::task::spawn_blocking(move || {
        platform::db::connect_and_migrate(&db_settings, FIXTURE_MIGRATIONS)
    })
    .await
    .unwrap()
    .expect("database migrates")
}

async fn count(db: &Db, sql: String) -> i64 {
    db.run(move |conn| {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(sql)
            .get_result::<N>(conn)
            .map(|r| r.n)
            .map_err(DbError::from)
    })
    .await
    .expect("count query")
}

async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn lead_created(first_name: &str) -> RawEvent {
    let payload: LeadCreated = serde_json::from_value(serde_json::json!({
        "lead_id": Uuid::now_v7(),
        "email": format!("{}@example.com", Uuid::new_v4().simple()),
        "first_name": first_name,
        "source": "direct",
        "lifecycle_stage": "lead",
        "created_at": chrono::Utc::now(),
    }))
    .unwrap();
    RawEvent::new(&payload, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_delivered_twice_has_one_effect() {
    let fx = Fixture::start().await;
    let event = lead_created("Ada");
    fx.publish(&event).await;
    fx.publish(&event).await;
    // One consumer handles its queue in order: once the sentinel is applied, both copies
    // of the duplicate have been processed.
    let sentinel = lead_created("Grace");
    fx.publish(&sentinel).await;
    fx.wait_effect(sentinel.id).await;

    assert_eq!(fx.effects_of(event.id).await, 1);
    assert_eq!(
        count(&fx.db, "SELECT count(*) AS n FROM inbox".into()).await,
        2
    );
    assert!(fx.wait_dead_letters(0).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_handler_dead_letters_after_bounded_retries_while_others_flow() {
    let fx = Fixture::start().await;
    let failing = lead_created("fail");
    fx.publish(&failing).await;
    let good: Vec<RawEvent> = (0..5).map(|_| lead_created("Alan")).collect();
    for e in &good {
        fx.publish(e).await;
    }
    // Retries wait 50, 200 and 800 ms in their own queues; the good events do not wait.
    for e in &good {
        fx.wait_effect(e.id).await;
    }
    assert_eq!(
        fx.wait_dead_letters(0).await.len(),
        0,
        "the good events were applied before the failing one ran out of retries"
    );

    let dead = fx.wait_dead_letters(1).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].message_id.as_deref(),
        Some(failing.id.to_string().as_str())
    );
    assert_eq!(dead[0].routing_key.as_deref(), Some(LEAD_CREATED));
    assert_eq!(dead[0].retries, Some(3));
    let reason = dead[0].reason.as_deref().unwrap();
    assert!(
        reason.contains("failed after 3 retries") && reason.contains("the CRM is down"),
        "{reason}"
    );
    // Every attempt rolled back: no effect and no inbox row for the failing event.
    assert_eq!(fx.effects_of(failing.id).await, 0);
    assert_eq!(
        count(
            &fx.db,
            format!(
                "SELECT count(*) AS n FROM inbox WHERE event_id = '{}'",
                failing.id
            )
        )
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_failure_and_a_panicking_handler_both_reach_the_dlq() {
    let fx = Fixture::start().await;
    let rejected = lead_created("reject");
    let panicking = lead_created("panic");
    let breaking = lead_created("check");
    fx.publish(&rejected).await;
    fx.publish(&panicking).await;
    fx.publish(&breaking).await;
    let after = lead_created("Edsger");
    fx.publish(&after).await;
    fx.wait_effect(after.id).await;

    let dead = fx.wait_dead_letters(3).await;
    let by_id: HashMap<String, String> = dead
        .iter()
        .map(|d| (d.message_id.clone().unwrap(), d.reason.clone().unwrap()))
        .collect();
    // A permanent error skips the retries; so does a panic, a bug the same input hits again.
    assert_eq!(by_id[&rejected.id.to_string()], "lead is not acceptable");
    let panicked = &by_id[&panicking.id.to_string()];
    assert!(panicked.starts_with("handler panicked"), "{panicked}");
    let retries: HashMap<String, Option<u32>> = dead
        .iter()
        .map(|d| (d.message_id.clone().unwrap(), d.retries))
        .collect();
    assert_eq!(retries[&panicking.id.to_string()], Some(0));
    assert_eq!(retries[&rejected.id.to_string()], Some(0));
    // Data that breaks a constraint breaks it on every try: no retries either.
    let broke = &by_id[&breaking.id.to_string()];
    assert!(broke.contains("breaks a rule"), "{broke}");
    assert_eq!(retries[&breaking.id.to_string()], Some(0));
    assert_eq!(fx.effects_of(breaking.id).await, 0);
    assert_eq!(fx.effects_of(rejected.id).await, 0);
    assert_eq!(fx.effects_of(panicking.id).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_unknown_events_go_to_the_dlq_and_the_consumer_keeps_running() {
    let fx = Fixture::start().await;
    let garbage_id = Uuid::new_v4();
    fx.publish_raw(
        LEAD_CREATED,
        CLOUDEVENTS_JSON,
        garbage_id,
        b"\x00\xff{not json at all",
    )
    .await;
    let mut unknown = lead_created("Barbara");
    unknown.ty = "touchstone.leads.lead.exploded.v1".into();
    fx.publish(&unknown).await;
    let mut bad_data = lead_created("Barbara");
    bad_data.data = serde_json::json!({"lead_id": "not-a-uuid"});
    fx.publish(&bad_data).await;

    let good = lead_created("Donald");
    fx.publish(&good).await;
    fx.wait_effect(good.id).await;

    let dead = fx.wait_dead_letters(3).await;
    let by_id: HashMap<String, String> = dead
        .iter()
        .map(|d| (d.message_id.clone().unwrap(), d.reason.clone().unwrap()))
        .collect();
    assert!(by_id[&garbage_id.to_string()].starts_with("invalid message"));
    assert!(by_id[&unknown.id.to_string()].contains("unknown event type"));
    assert!(by_id[&bad_data.id.to_string()].starts_with("invalid message"));
    // Invalid messages are not retried: they cannot become valid.
    assert_eq!(
        count(&fx.db, "SELECT count(*) AS n FROM effects".into()).await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_message_is_applied_in_one_transaction() {
    let fx = Fixture::start().await;
    let good: Vec<RawEvent> = (0..3).map(|_| lead_created("Katherine")).collect();
    fx.publish_batch(&good).await;
    for e in &good {
        fx.wait_effect(e.id).await;
    }

    // A batch with one failing event: nothing of it is applied, and it is dead-lettered
    // as one message, so it can be replayed as one.
    let mixed = vec![
        lead_created("Dorothy"),
        good[0].clone(),
        lead_created("reject"),
    ];
    fx.publish_batch(&mixed).await;
    let dead = fx.wait_dead_letters(1).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(fx.effects_of(mixed[0].id).await, 0);
    assert_eq!(fx.effects_of(good[0].id).await, 1);

    // A batch that repeats an applied event applies only the new one.
    let repeat = vec![good[1].clone(), lead_created("Mary")];
    fx.publish_batch(&repeat).await;
    fx.wait_effect(repeat[1].id).await;
    assert_eq!(fx.effects_of(good[1].id).await, 1);
    assert_eq!(
        count(&fx.db, "SELECT count(*) AS n FROM effects".into()).await,
        4
    );
}

/// Messages that wait in the queue are applied a group per transaction (the effects of a
/// group share a transaction id); a message that fails in a group is rolled back with it,
/// and the group's messages are then applied one by one, so the bad one alone is
/// dead-lettered and every good one is applied exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_messages_are_applied_in_groups_and_a_bad_one_only_fails_itself() {
    let mut fx = Fixture::start().await;
    fx.pause().await;
    let first: Vec<RawEvent> = (0..20).map(|_| lead_created("Ada")).collect();
    for e in &first {
        fx.publish(e).await;
    }
    fx.resume().await;
    for e in &first {
        fx.wait_effect(e.id).await;
    }
    let transactions = count(
        &fx.db,
        "SELECT count(DISTINCT txid) AS n FROM effects".into(),
    )
    .await;
    assert!(
        transactions < 20,
        "20 waiting messages took {transactions} transactions"
    );

    fx.pause().await;
    let mut second: Vec<RawEvent> = (0..10).map(|_| lead_created("Grace")).collect();
    second.insert(4, lead_created("reject"));
    second.push(first[3].clone());
    // Applied last: once it is, everything before it has been processed.
    second.push(lead_created("Sentinel"));
    for e in &second {
        fx.publish(e).await;
    }
    fx.resume().await;
    fx.wait_effect(second.last().unwrap().id).await;
    let dead = fx.wait_dead_letters(1).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].message_id.as_deref(),
        Some(second[4].id.to_string().as_str())
    );
    for (i, e) in second.iter().enumerate() {
        assert_eq!(fx.effects_of(e.id).await, i64::from(i != 4), "message {i}");
    }
    // 20 + 10 good + the sentinel; the repeated event had no second effect.
    assert_eq!(
        count(&fx.db, "SELECT count(*) AS n FROM effects".into()).await,
        31
    );
    // The metrics count events of a group under their type, as they would one by one.
    let consumed = |outcome: &str| {
        fx.metrics
            .events_consumed_total
            .with_label_values(&[LEAD_CREATED, outcome])
            .get()
    };
    assert_eq!((consumed("applied"), consumed("duplicate")), (31, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_told_to_stop_finishes_and_acks_the_message_it_is_applying() {
    let mut fx = Fixture::start().await;
    let slow = lead_created("slow");
    fx.publish(&slow).await;
    let db = fx.settings.database.name.clone();
    wait_for(
        "the handler to be inside its transaction",
        Duration::from_secs(15),
        || {
            let sql = format!(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '{db}' \
             AND query LIKE 'SELECT pg_sleep%' AND state = 'active'"
            );
            let db = fx.db.clone();
            async move { count(&db, sql).await > 0 }
        },
    )
    .await;
    fx.pause().await;
    // Committed before the consumer stopped, and acked: nothing left in the queue.
    assert_eq!(fx.effects_of(slow.id).await, 1);
    let queue = fx
        .publisher
        .queue_declare(
            fx.settings.bus.queue(SERVICE).as_str().into(),
            lapin::options::QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    assert_eq!(queue.message_count(), 0);
    // A message left unacked would come back to the next consumer as a duplicate.
    fx.resume().await;
    let sentinel = lead_created("Grace");
    fx.publish(&sentinel).await;
    fx.wait_effect(sentinel.id).await;
    let duplicates = fx
        .metrics
        .events_consumed_total
        .with_label_values(&[LEAD_CREATED, "duplicate"])
        .get();
    assert_eq!(duplicates, 0);
    assert_eq!(fx.effects_of(slow.id).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_replay_moves_messages_back_once_the_cause_is_fixed() {
    let fx = Fixture::start().await;
    let failing: Vec<RawEvent> = (0..2).map(|_| lead_created("fail")).collect();
    for e in &failing {
        fx.publish(e).await;
    }
    fx.wait_dead_letters(2).await;
    assert_eq!(fx.effects_of(failing[0].id).await, 0);

    fx.fixed.store(true, Ordering::SeqCst);
    let moved = dlq::replay(&fx.settings.bus, SERVICE, 100).await.unwrap();
    assert_eq!(moved, 2);
    for e in &failing {
        fx.wait_effect(e.id).await;
    }
    assert!(
        dlq::peek(&fx.settings.bus, SERVICE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Replaying again finds nothing and changes nothing.
    assert_eq!(
        dlq::replay(&fx.settings.bus, SERVICE, 100).await.unwrap(),
        0
    );
    assert_eq!(fx.effects_of(failing[1].id).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_on_one_outbox_publish_every_event_exactly_once() {
    let mut settings = TestNamespace::new().settings(SERVICE);
    settings.outbox.batch_size = 50;
    settings.outbox.poll_ms = 20;
    let db = migrate(&settings).await;
    let mut tap = Tap::open(&settings.bus, "#").await.unwrap();

    let (stop, rx) = watch::channel(false);
    let metrics: Vec<Metrics> = (0..2).map(|_| Metrics::new(SERVICE)).collect();
    let relays: Vec<_> = (0..2)
        .map(|i| {
            let relay = Relay::new(
                db.clone(),
                settings.clone(),
                metrics[i].clone(),
                BrokerStatus::default(),
                &format!("relay-{i}"),
            );
            tokio::spawn(relay.run(rx.clone()))
        })
        .collect();

    // Events are committed while both relays are already competing for them.
    const N: usize = 2000;
    let mut expected = Vec::with_capacity(N);
    for chunk in 0..(N / 100) {
        let ids = db
            .run(move |conn| {
                conn.transaction::<_, DbError, _>(|tx| {
                    let mut ids = Vec::new();
                    for i in 0..100 {
                        let e = lead_created(&format!("n{}", chunk * 100 + i));
                        let payload: LeadCreated = e.decode().unwrap();
                        ids.push(platform::bus::outbox::enqueue(tx, &payload, None)?.id);
                    }
                    Ok(ids)
                })
            })
            .await
            .unwrap();
        expected.extend(ids);
    }

    let mut seen: HashMap<String, usize> = HashMap::new();
    while seen.values().sum::<usize>() < N {
        let Some(d) = tap.next(Duration::from_secs(20)).await else {
            break;
        };
        let id = d.properties.message_id().as_ref().unwrap().to_string();
        *seen.entry(id).or_default() += 1;
    }
    // Anything published twice would arrive shortly after; give it the chance.
    while let Some(d) = tap.next(Duration::from_millis(500)).await {
        let id = d.properties.message_id().as_ref().unwrap().to_string();
        *seen.entry(id).or_default() += 1;
    }
    let _ = stop.send(true);
    for r in relays {
        let _ = tokio::time::timeout(Duration::from_secs(5), r).await;
    }

    // Both relays really competed: each published part of the outbox.
    let per_relay: Vec<u64> = metrics
        .iter()
        .map(|m| {
            m.events_published_total
                .with_label_values(&[LEAD_CREATED])
                .get()
        })
        .collect();
    assert_eq!(per_relay.iter().sum::<u64>(), N as u64, "{per_relay:?}");
    assert!(
        per_relay.iter().all(|n| *n > 0),
        "one relay did all the work: {per_relay:?}"
    );

    let duplicates: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "published twice: {duplicates:?}");
    assert_eq!(seen.len(), N);
    for id in &expected {
        assert!(seen.contains_key(&id.to_string()), "{id} never published");
    }
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL".into()
        )
        .await,
        0
    );
    let db_settings = settings.database.clone();
    drop(db);
    let _ = std::thread::spawn(move || platform::db::drop_database(&db_settings)).join();
}
