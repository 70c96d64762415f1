//! What creating a lead puts on the bus, and what happens while the broker is down.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use contracts::leads::LeadCreated;
use platform::bus::HEADER_TRACEPARENT;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use platform::testing::TestNamespace;

use crate::helpers::{lead_body, spawn_app, spawn_with};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_a_lead_publishes_exactly_one_valid_lead_created() {
    let app = spawn_app().await;
    let mut tap = app.tap("#").await;
    let resp = app
        .client
        .post(app.url("/v1/leads"))
        .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
        .json(&lead_body("events@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let lead: Value = resp.json().await.unwrap();

    let delivery = tap
        .next(Duration::from_secs(10))
        .await
        .expect("an event arrives");
    assert_eq!(
        delivery.routing_key.as_str(),
        "touchstone.leads.lead.created.v1"
    );
    let props = &delivery.properties;
    assert_eq!(
        props.content_type().as_ref().unwrap().as_str(),
        contracts::CLOUDEVENTS_JSON
    );
    assert_eq!(props.delivery_mode(), &Some(2), "persistent");
    let event = contracts::parse_structured(&delivery.data).expect("a valid CloudEvent");
    assert_eq!(
        props.message_id().as_ref().unwrap().as_str(),
        event.id.to_string()
    );
    assert_eq!(event.ty, "touchstone.leads.lead.created.v1");
    assert_eq!(event.source, "/touchstone/leads");
    assert_eq!(event.subject.as_deref(), lead["id"].as_str());
    let payload: LeadCreated = event.decode().unwrap();
    assert_eq!(payload.email, "events@example.com");
    assert_eq!(payload.lead_id.to_string(), lead["id"].as_str().unwrap());

    let traceparent = event.traceparent.clone().expect("traceparent extension");
    assert_eq!(traceparent.split('-').nth(1), Some(TRACE_ID));
    let header = platform::bus::header_str(props.headers(), HEADER_TRACEPARENT).unwrap();
    assert_eq!(header, traceparent);

    // Nothing else may follow, but "nothing" is not something to wait for: a marker is. The
    // relay publishes the outbox in order, so another lead's `lead.created` comes after
    // anything this creation put there; the next event on the tap must be the marker's.
    let marker = app.create(&lead_body("marker@example.com")).await;
    let next = tap
        .next(Duration::from_secs(10))
        .await
        .expect("the marker arrives");
    let next = contracts::parse_structured(&next.data).expect("a valid CloudEvent");
    assert_eq!(
        next.subject.as_deref(),
        marker["id"].as_str(),
        "exactly one event before the marker, got another {}",
        next.ty
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_succeed_while_the_broker_is_down_and_publish_once_when_it_returns() {
    let namespace = TestNamespace::new();
    let good = namespace.settings(leads::SERVICE);
    let mut down = good.clone();
    // The relay and the consumer point at a broker that hangs up on every connection.
    let broker = DownBroker::start().await;
    down.bus.url = broker.url.clone().into();
    let app = spawn_with(down).await;
    for i in 0..5 {
        let resp = app
            .post_lead(&lead_body(&format!("down{i}@example.com")))
            .await;
        assert_eq!(resp.status().as_u16(), 201);
    }
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status().as_u16(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["broker"], "down");
    assert_eq!(body["checks"]["database"], "up");
    // The relay makes one attempt at a time, and each is counted before the broker hangs
    // up on it. Two more counted from here: the first of them failed after the writes, and
    // the relay has finished handling that failure, whatever it does with waiting rows.
    let attempts = broker.relay_attempts();
    broker.wait_relay_attempts(attempts + 2).await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
            .await,
        5
    );
    app.service.stop().await;

    // The broker is back: the restarted relay publishes every waiting event exactly once.
    let mut tap = platform::bus::Tap::open(&good.bus, "#").await.unwrap();
    let app = spawn_with(good).await;
    let mut ids = HashSet::new();
    while let Some(d) = tap.next(Duration::from_secs(2)).await {
        let id = d.properties.message_id().clone().unwrap().to_string();
        assert!(ids.insert(id), "an event was published twice");
    }
    assert_eq!(ids.len(), 5);
    assert_eq!(app.wait_outbox_drained(Duration::from_secs(1)).await, 0);
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status().as_u16(), 200);
}

/// A broker that is down, but observably so: it answers each connection's protocol header
/// with `connection.start`, reads the `start-ok` that names the client, counts the relay's
/// attempts and hangs up.
struct DownBroker {
    url: String,
    relay_attempts: Arc<AtomicUsize>,
    accept: tokio::task::JoinHandle<()>,
}

/// `connection.start` (class 10, method 10) of AMQP 0-9-1 offering PLAIN and en_US, framed.
const CONNECTION_START: &[u8] = &[
    1, 0, 0, 0, 0, 0, 28, // method frame, channel 0, payload size
    0, 10, 0, 10, 0, 9, // connection.start, version 0-9
    0, 0, 0, 0, // no server properties
    0, 0, 0, 5, b'P', b'L', b'A', b'I', b'N', // mechanisms
    0, 0, 0, 5, b'e', b'n', b'_', b'U', b'S', // locales
    0xCE, // frame end
];

impl DownBroker {
    async fn start() -> DownBroker {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("amqp://guest:guest@{}/%2f", listener.local_addr().unwrap());
        let relay_attempts = Arc::new(AtomicUsize::new(0));
        let counter = relay_attempts.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(Self::hang_up(stream, counter.clone()));
            }
        });
        DownBroker {
            url,
            relay_attempts,
            accept,
        }
    }

    async fn hang_up(mut stream: tokio::net::TcpStream, relay_attempts: Arc<AtomicUsize>) {
        let mut header = [0u8; 8];
        if stream.read_exact(&mut header).await.is_err()
            || stream.write_all(CONNECTION_START).await.is_err()
        {
            return;
        }
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        while let Ok(Ok(n @ 1..)) =
            tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await
        {
            seen.extend_from_slice(&buf[..n]);
            let names = |name: &str| seen.windows(name.len()).any(|w| w == name.as_bytes());
            if names(&format!("{}-relay", leads::SERVICE)) {
                // Counted before hanging up: the relay handles this failure after the count.
                relay_attempts.fetch_add(1, Ordering::SeqCst);
                return;
            }
            if names(&format!("{}-consumer", leads::SERVICE)) {
                return;
            }
        }
    }

    fn relay_attempts(&self) -> usize {
        self.relay_attempts.load(Ordering::SeqCst)
    }

    /// Waits up to 20 s (the relay's backoff tops out at 5 s) for `n` relay attempts.
    async fn wait_relay_attempts(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while self.relay_attempts() < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the relay tried {} times, not {n}",
                self.relay_attempts()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for DownBroker {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
