//! The topology declared up front: every queue quorum with at-least-once dead-lettering, and
//! an event no queue is bound for kept, counted and re-sent rather than dropped.

use std::collections::BTreeMap;

use lapin::options::QueueDeclareOptions;
use platform::bus::topology;

use super::*;

/// The queues of this test's namespace as `rabbitmqctl` reports them: name → (type,
/// arguments).
fn broker_queues(prefix: &str) -> BTreeMap<String, (String, serde_json::Value)> {
    let out = std::process::Command::new("rabbitmqctl")
        .args([
            "list_queues",
            "name",
            "type",
            "arguments",
            "--formatter",
            "json",
            "--quiet",
        ])
        .output()
        .expect("rabbitmqctl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    rows.into_iter()
        .filter(|r| r["name"].as_str().unwrap().starts_with(prefix))
        .map(|r| {
            let name = r["name"].as_str().unwrap().to_string();
            let ty = r["type"].as_str().unwrap().to_string();
            (name, (ty, r["arguments"].clone()))
        })
        .collect()
}

/// One of a queue's `arguments` as `rabbitmqctl`'s JSON gives them: a list of
/// `[key, type, value]` triples.
fn argument<'a>(arguments: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    arguments
        .as_array()?
        .iter()
        .find(|t| t[0].as_str() == Some(key))
        .and_then(|t| t.as_array()?.last())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_topology_is_declared_up_front_and_every_queue_is_quorum() {
    let settings = TestNamespace::new().settings(SERVICE);
    let conn = platform::bus::connect(&settings.bus, "test-setup")
        .await
        .unwrap();
    let declared = topology::declare_all(&conn, &settings.bus).await.unwrap();
    // Declaring again changes nothing and fails nothing.
    let again = topology::declare_all(&conn, &settings.bus).await.unwrap();
    assert_eq!(declared, again);

    // Per service its unroutable queue, and per consuming service its queue, DLQ and three
    // retry queues.
    let consuming = contracts::catalog::Service::ALL
        .into_iter()
        .filter(|s| !contracts::catalog::consumed_by(*s).is_empty())
        .count();
    assert_eq!(consuming, 4);
    assert_eq!(
        declared.len(),
        contracts::catalog::Service::ALL.len()
            + consuming * (2 + settings.bus.max_retries as usize)
    );

    let queues = broker_queues(&format!("{}.", settings.bus.queue_prefix));
    assert_eq!(
        queues.keys().cloned().collect::<Vec<_>>(),
        {
            let mut names = declared.clone();
            names.sort();
            names
        },
        "the broker holds exactly the declared queues"
    );
    for (name, (ty, args)) in &queues {
        assert_eq!(ty, "quorum", "{name}");
        assert_eq!(
            argument(args, "x-dead-letter-strategy").and_then(|v| v.as_str()),
            Some("at-least-once"),
            "{name}: {args}"
        );
        assert_eq!(
            argument(args, "x-overflow").and_then(|v| v.as_str()),
            Some("reject-publish"),
            "{name}: {args}"
        );
    }
    // A retry queue hands its messages back to its service's queue after its delay.
    let retry = settings.bus.retry_queue("leads", 2);
    let (_, args) = &queues[&retry];
    assert_eq!(
        argument(args, "x-dead-letter-routing-key").and_then(|v| v.as_str()),
        Some(settings.bus.queue("leads").as_str())
    );
    assert_eq!(
        argument(args, "x-message-ttl").and_then(|v| v.as_u64()),
        Some(settings.bus.retry_delay_ms(2))
    );
    let _ = conn.close(200, "done".into()).await;
}

/// A retry queue of an earlier version (classic, other arguments) is replaced when empty; a
/// service queue of the old shape that still holds messages is kept as it is, messages and
/// all, until a later declaration finds it empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_of_an_earlier_shape_are_replaced_only_when_empty() {
    let settings = TestNamespace::new().settings(SERVICE);
    let conn = platform::bus::connect(&settings.bus, "test-setup")
        .await
        .unwrap();
    let channel = conn.create_channel().await.unwrap();
    let mut classic = FieldTable::default();
    classic.insert(
        "x-expires".into(),
        lapin::types::AMQPValue::LongLongInt(60_000),
    );
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    let retry = settings.bus.retry_queue(SERVICE, 1);
    let main = settings.bus.queue(SERVICE);
    for name in [&retry, &main] {
        channel
            .queue_declare(name.as_str().into(), durable, classic.clone())
            .await
            .unwrap();
    }
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    publish_confirmed(
        &channel,
        "",
        &main,
        b"{}",
        message_properties("waiting", CLOUDEVENTS_JSON, FieldTable::default()),
    )
    .await
    .unwrap();

    let bindings = vec!["touchstone.leads.#".to_string()];
    topology::declare_service(&conn, &settings.bus, SERVICE, &bindings)
        .await
        .expect("a queue holding messages does not stop the declaration");
    let queues = broker_queues(&format!("{}.", settings.bus.queue_prefix));
    assert_eq!(queues[&main].0, "classic", "kept with its message");
    assert_eq!(queues[&retry].0, "quorum", "the empty one is replaced");

    // Once drained, it is replaced, and so is the old retry queue.
    let channel = conn.create_channel().await.unwrap();
    channel
        .queue_purge(main.as_str().into(), Default::default())
        .await
        .unwrap();
    topology::declare_service(&conn, &settings.bus, SERVICE, &bindings)
        .await
        .unwrap();
    let queues = broker_queues(&format!("{}.", settings.bus.queue_prefix));
    for name in [&retry, &main] {
        assert_eq!(queues[name].0, "quorum", "{name}");
    }
    let _ = conn.close(200, "done".into()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_no_queue_is_bound_for_is_kept_counted_and_resent_once_its_queue_exists() {
    let settings = TestNamespace::new().settings(SERVICE);
    let db = migrate(&settings).await;
    let metrics = Metrics::new(SERVICE);
    let (stop, rx) = watch::channel(false);
    let relay = Relay::new(
        db.clone(),
        settings.clone(),
        metrics.clone(),
        BrokerStatus::default(),
        "relay",
    );
    let relay = tokio::spawn(relay.run(rx));

    // Nothing is bound for lead.created yet: no consumer has started, no setup has run.
    let event = lead_created("Barbara");
    let payload: LeadCreated = event.decode().unwrap();
    let id = db
        .run(move |conn| {
            platform::bus::outbox::enqueue(conn, &payload, None).map_err(DbError::from)
        })
        .await
        .unwrap()
        .id;
    let unroutable = metrics
        .events_unroutable_total
        .with_label_values(&[LEAD_CREATED]);
    wait_for(
        "the event to be counted as unroutable",
        Duration::from_secs(15),
        || {
            let n = unroutable.get();
            async move { n == 1 }
        },
    )
    .await;
    // It left the outbox: the broker confirmed the copy it keeps.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL".into()
        )
        .await,
        0
    );
    let conn = platform::bus::connect(&settings.bus, "test").await.unwrap();
    let channel = conn.create_channel().await.unwrap();
    let passive = QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    let kept = topology::unroutable_queue(&settings.bus, "relay");
    let depth = |channel: lapin::Channel, kept: String| async move {
        channel
            .queue_declare(kept.as_str().into(), passive, FieldTable::default())
            .await
            .unwrap()
            .message_count()
    };
    assert_eq!(depth(channel.clone(), kept.clone()).await, 1);

    // A type no service consumes (published for third parties) is not kept.
    let scored = "touchstone.leads.lead.scored.v1";
    db.run(move |conn| {
        diesel::sql_query(
            "INSERT INTO outbox (message_id, routing_key, content_type, body, event_count) \
             VALUES (gen_random_uuid(), $1, 'application/cloudevents+json', '\\x7b7d', 1)",
        )
        .bind::<diesel::sql_types::Text, _>(scored)
        .execute(conn)
        .map_err(DbError::from)
    })
    .await
    .unwrap();
    wait_for(
        "the third-party event to be published",
        Duration::from_secs(15),
        || {
            let db = db.clone();
            async move {
                count(
                    &db,
                    "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL".into(),
                )
                .await
                    == 0
            }
        },
    )
    .await;
    assert_eq!(
        metrics
            .events_unroutable_total
            .with_label_values(&[scored])
            .get(),
        0
    );
    assert_eq!(depth(channel.clone(), kept.clone()).await, 1);

    // The consumer's queue appears; the kept event is re-sent and applied once.
    let fixed = Arc::new(AtomicBool::new(false));
    let (stop_consumer, consumer) = run_consumer(&settings, &db, &fixed, &metrics).await;
    let moved = dlq::replay_unroutable(&settings.bus, "relay", usize::MAX)
        .await
        .unwrap();
    assert_eq!(moved, 1);
    wait_for("the kept event's effect", Duration::from_secs(15), || {
        let db = db.clone();
        async move {
            count(
                &db,
                format!("SELECT count(*) AS n FROM effects WHERE event_id = '{id}'"),
            )
            .await
                == 1
        }
    })
    .await;
    assert_eq!(depth(channel, kept).await, 0);
    assert_eq!(unroutable.get(), 1);

    let _ = stop.send(true);
    let _ = stop_consumer.send(true);
    let _ = consumer.await;
    let _ = relay.await;
    let _ = conn.close(200, "done".into()).await;
    let db_settings = settings.database.clone();
    drop(db);
    let _ = std::thread::spawn(move || platform::db::drop_database(&db_settings)).join();
}
