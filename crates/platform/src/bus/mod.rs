//! The event bus on RabbitMQ: connection, topology, confirmed publishing, the outbox
//! relay, consumers with retries and a dead-letter queue, and DLQ replay.

pub mod consumer;
pub mod dlq;
pub mod outbox;
pub mod relay;
pub mod topology;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lapin::options::{
    BasicPublishOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use secrecy::ExposeSecret;

use crate::config::BusSettings;

/// Header that carries the failure reason of a dead-lettered message.
pub const HEADER_DEATH_REASON: &str = "x-touchstone-death-reason";
/// Header counting how many retries a message has had.
pub const HEADER_RETRY_COUNT: &str = "x-touchstone-retry-count";
/// Header with the routing key a message first arrived with.
pub const HEADER_ORIGINAL_ROUTING_KEY: &str = "x-touchstone-original-routing-key";
pub const HEADER_TRACEPARENT: &str = "traceparent";

/// Whether this process currently holds a working broker connection; read by `/health/ready`.
#[derive(Clone, Default)]
pub struct BrokerStatus {
    relay: Arc<AtomicBool>,
    consumer: Arc<AtomicBool>,
    consumer_expected: Arc<AtomicBool>,
    relay_expected: Arc<AtomicBool>,
    /// A supervised task died: the process is on its way out and never ready again.
    failed: Arc<AtomicBool>,
}

impl BrokerStatus {
    pub fn set_relay(&self, up: bool) {
        self.relay_expected.store(true, Ordering::Relaxed);
        self.relay.store(up, Ordering::Relaxed);
    }
    pub fn set_consumer(&self, up: bool) {
        self.consumer_expected.store(true, Ordering::Relaxed);
        self.consumer.store(up, Ordering::Relaxed);
    }
    /// A bus or service task died; readiness stays 503 until the process exits.
    pub fn set_failed(&self) {
        self.failed.store(true, Ordering::Relaxed);
    }
    /// Whether the consumer is connected and consuming.
    pub fn consumer_connected(&self) -> bool {
        self.consumer.load(Ordering::Relaxed)
    }
    /// Up when every bus component this process runs is connected.
    pub fn is_up(&self) -> bool {
        let relay_ok =
            !self.relay_expected.load(Ordering::Relaxed) || self.relay.load(Ordering::Relaxed);
        let consumer_ok = !self.consumer_expected.load(Ordering::Relaxed)
            || self.consumer.load(Ordering::Relaxed);
        relay_ok && consumer_ok && !self.failed.load(Ordering::Relaxed)
    }
}

pub async fn connect(settings: &BusSettings, name: &str) -> lapin::Result<Connection> {
    Connection::connect(
        settings.url.expose_secret(),
        ConnectionProperties::default().with_connection_name(name.into()),
    )
    .await
}

/// Declares the durable topic exchange all services publish to.
pub async fn declare_exchange(channel: &Channel, settings: &BusSettings) -> lapin::Result<()> {
    channel
        .exchange_declare(
            settings.exchange.as_str().into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                auto_delete: settings.ephemeral_ms.is_some(),
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
}

/// Properties of a persistent message whose AMQP `message_id` is the event id.
pub fn message_properties(
    message_id: &str,
    content_type: &str,
    headers: FieldTable,
) -> BasicProperties {
    BasicProperties::default()
        .with_message_id(message_id.into())
        .with_content_type(content_type.into())
        .with_delivery_mode(2)
        .with_headers(headers)
}

/// Publishes one message and waits for the broker's confirm. The channel must be in
/// confirm mode.
pub async fn publish_confirmed(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    body: &[u8],
    properties: BasicProperties,
) -> anyhow::Result<()> {
    let confirm = channel
        .basic_publish(
            exchange.into(),
            routing_key.into(),
            BasicPublishOptions::default(),
            body,
            properties,
        )
        .await?
        .await?;
    if confirm.is_ack() {
        Ok(())
    } else {
        anyhow::bail!("broker nacked the message")
    }
}

pub fn header_str(headers: &Option<FieldTable>, key: &str) -> Option<String> {
    match headers.as_ref()?.inner().get(key)? {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_string()),
        _ => None,
    }
}

pub fn header_u32(headers: &Option<FieldTable>, key: &str) -> Option<u32> {
    match headers.as_ref()?.inner().get(key)? {
        AMQPValue::LongLongInt(n) => u32::try_from(*n).ok(),
        AMQPValue::LongInt(n) => u32::try_from(*n).ok(),
        AMQPValue::LongUInt(n) => Some(*n),
        AMQPValue::ShortInt(n) => u32::try_from(*n).ok(),
        _ => None,
    }
}

pub fn long_string(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s))
}

pub fn short(s: &str) -> ShortString {
    ShortString::from(s)
}

/// Exponential backoff for reconnects: 100 ms doubling to 5 s.
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next: Duration::from_millis(100),
        }
    }
}

impl Backoff {
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(Duration::from_secs(5));
        d
    }
    pub fn reset(&mut self) {
        *self = Backoff::default();
    }
}

/// A private, exclusive, auto-deleted queue bound to the exchange with `pattern`: how a
/// person (`touchstone events tail`) or a test watches events without disturbing services.
pub struct Tap {
    _connection: Connection,
    pub channel: Channel,
    pub consumer: lapin::Consumer,
}

impl Tap {
    pub async fn open(settings: &BusSettings, pattern: &str) -> lapin::Result<Tap> {
        let connection = connect(settings, "touchstone-tap").await?;
        let channel = connection.create_channel().await?;
        declare_exchange(&channel, settings).await?;
        let queue = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await?;
        channel
            .queue_bind(
                queue.name().clone(),
                settings.exchange.as_str().into(),
                pattern.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        let consumer = channel
            .basic_consume(
                queue.name().clone(),
                "tap".into(),
                lapin::options::BasicConsumeOptions {
                    no_ack: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await?;
        Ok(Tap {
            _connection: connection,
            channel,
            consumer,
        })
    }

    /// The next delivery, or `None` after `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> Option<lapin::message::Delivery> {
        use futures::StreamExt;
        match tokio::time::timeout(timeout, self.consumer.next()).await {
            Ok(Some(Ok(d))) => Some(d),
            _ => None,
        }
    }
}
