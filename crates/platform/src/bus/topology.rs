//! The broker topology, declared up front: the exchange, and for every service that consumes
//! events (the contracts catalog says who consumes what) its queue with its bindings, its
//! retry queues and its dead-letter queue, and for every publishing service the queue that
//! keeps the events it published that no queue was bound for (`<prefix>.<service>.unroutable`,
//! inside the names its broker account may declare).
//!
//! `touchstone bus setup` declares all of it, so an event published before its consumer has
//! ever started waits in that consumer's queue; each service also declares its own part at
//! start. Declaring is idempotent.
//!
//! Every queue is a quorum queue (replicated in a cluster) with
//! `x-dead-letter-strategy: at-least-once` and `x-overflow: reject-publish`, the pair
//! RabbitMQ needs to dead-letter without loss: a retry queue hands its messages back to the
//! service's queue when their delay expires, and with at-least-once it keeps each one until
//! that queue has confirmed it.

use contracts::catalog::{self, Service};
use lapin::options::{QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection};

use crate::config::BusSettings;

/// The queue that keeps the events `service` published that no queue was bound for (see the
/// relay).
pub fn unroutable_queue(settings: &BusSettings, service: &str) -> String {
    format!("{}.{service}.unroutable", settings.queue_prefix)
}

/// Declares the whole topology: every consuming service's queues and bindings from the
/// catalog, and every service's unroutable queue. Returns the queues declared.
pub async fn declare_all(conn: &Connection, settings: &BusSettings) -> anyhow::Result<Vec<String>> {
    let mut declared = Vec::new();
    for service in Service::ALL {
        declared.push(declare_unroutable(conn, settings, service.as_str()).await?);
        let bindings = bindings_of(service);
        if bindings.is_empty() {
            continue;
        }
        declared.extend(declare_service(conn, settings, service.as_str(), &bindings).await?);
    }
    Ok(declared)
}

/// The routing keys a catalog service's queue is bound with.
pub fn bindings_of(service: Service) -> Vec<String> {
    catalog::consumed_by(service)
        .into_iter()
        .map(String::from)
        .collect()
}

/// The exchange and the queue that keeps `service`'s unroutable events.
pub async fn declare_unroutable(
    conn: &Connection,
    settings: &BusSettings,
    service: &str,
) -> anyhow::Result<String> {
    let channel = conn.create_channel().await?;
    super::declare_exchange(&channel, settings).await?;
    let name = unroutable_queue(settings, service);
    declare_queue(conn, channel, &name, queue_args(settings, None)).await?;
    Ok(name)
}

/// One service's part: the exchange, its queue bound by `bindings`, one retry queue per
/// attempt that dead-letters back into it, and its DLQ. Returns the queues declared.
pub async fn declare_service(
    conn: &Connection,
    settings: &BusSettings,
    service: &str,
    bindings: &[String],
) -> anyhow::Result<Vec<String>> {
    let mut channel = conn.create_channel().await?;
    let main = settings.queue(service);
    channel = declare_queue(conn, channel, &main, queue_args(settings, None)).await?;
    // After the queue: replacing an old one drops its bindings, and a test's auto-deleted
    // exchange goes with its last binding.
    super::declare_exchange(&channel, settings).await?;
    for pattern in bindings {
        channel
            .queue_bind(
                main.as_str().into(),
                settings.exchange.as_str().into(),
                pattern.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    let dlq = settings.dlq(service);
    channel = declare_queue(conn, channel, &dlq, queue_args(settings, None)).await?;
    let mut declared = vec![main.clone(), dlq];
    for attempt in 1..=settings.max_retries {
        // Every message in one retry queue has the same TTL, so none waits behind a longer one.
        let retry = settings.retry_queue(service, attempt);
        let args = queue_args(settings, Some((&main, settings.retry_delay_ms(attempt))));
        channel = declare_queue(conn, channel, &retry, args).await?;
        declared.push(retry);
    }
    let _ = channel.close(200, "declared".into()).await;
    Ok(declared)
}

/// The arguments of every queue: quorum, at-least-once dead-lettering, reject-publish on
/// overflow. `retry_into` makes it a retry queue: messages expire after the delay and go
/// back to the named queue.
pub fn queue_args(settings: &BusSettings, retry_into: Option<(&str, u64)>) -> FieldTable {
    let mut args = FieldTable::default();
    let text = |s: &str| AMQPValue::LongString(s.into());
    args.insert("x-queue-type".into(), text("quorum"));
    args.insert("x-dead-letter-strategy".into(), text("at-least-once"));
    args.insert("x-overflow".into(), text("reject-publish"));
    if let Some((target, ttl_ms)) = retry_into {
        args.insert("x-dead-letter-exchange".into(), text(""));
        args.insert("x-dead-letter-routing-key".into(), text(target));
        args.insert(
            "x-message-ttl".into(),
            AMQPValue::LongLongInt(ttl_ms as i64),
        );
    }
    if let Some(ms) = settings.ephemeral_ms {
        args.insert("x-expires".into(), AMQPValue::LongLongInt(ms as i64));
    }
    args
}

/// Declares a durable queue with `args`. A queue left by an earlier version with other
/// arguments (a classic retry queue, say) makes the broker refuse the declaration and close
/// the channel: when that queue is empty it is replaced; when it holds messages it is kept
/// as it is, with a warning, so that nothing is lost and its consumer can drain it. Returns
/// a usable channel.
async fn declare_queue(
    conn: &Connection,
    channel: Channel,
    name: &str,
    args: FieldTable,
) -> anyhow::Result<Channel> {
    let options = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    match channel
        .queue_declare(name.into(), options, args.clone())
        .await
    {
        Ok(_) => return Ok(channel),
        Err(e) if !precondition_failed(&e) => return Err(e.into()),
        Err(_) => {}
    }
    let channel = conn.create_channel().await?;
    let held = channel
        .queue_declare(
            name.into(),
            QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?
        .message_count();
    if held > 0 {
        // Its messages matter more than its arguments: it keeps working as it is (its
        // consumer drains it), and is replaced at the first start that finds it empty.
        tracing::warn!(
            queue = name,
            messages = held,
            "queue declared with other arguments still holds messages; kept as it is until empty"
        );
        return Ok(channel);
    }
    tracing::warn!(
        queue = name,
        "replacing an empty queue declared with other arguments"
    );
    channel
        .queue_delete(
            name.into(),
            QueueDeleteOptions {
                if_empty: true,
                ..Default::default()
            },
        )
        .await?;
    channel.queue_declare(name.into(), options, args).await?;
    Ok(channel)
}

fn precondition_failed(e: &lapin::Error) -> bool {
    matches!(
        e.kind(),
        lapin::ErrorKind::ProtocolError(amqp)
            if matches!(amqp.kind(), AMQPErrorKind::Soft(AMQPSoftError::PRECONDITIONFAILED))
    )
}
