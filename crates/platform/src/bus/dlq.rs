//! Inspecting and replaying a service's dead-letter queue once the cause is fixed, and the
//! events kept as unroutable once their consumer's queue exists.

use lapin::Confirmation;
use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions, ConfirmSelectOptions,
};

use super::{HEADER_DEATH_REASON, HEADER_ORIGINAL_ROUTING_KEY, header_str};
use crate::config::BusSettings;

/// One dead-lettered message, as shown to a person.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeadLetter {
    pub message_id: Option<String>,
    pub routing_key: Option<String>,
    pub reason: Option<String>,
    /// How many retries the message had before it was dead-lettered.
    pub retries: Option<u32>,
    pub body_preview: String,
}

/// Moves up to `limit` messages from `<prefix>.<service>.dlq` back to the service's
/// queue with a fresh retry budget. Each is acked on the DLQ only after the broker
/// confirmed the copy, so a crash part-way duplicates at worst (the inbox absorbs that).
pub async fn replay(settings: &BusSettings, service: &str, limit: usize) -> anyhow::Result<usize> {
    let target = settings.queue(service);
    move_messages(settings, &settings.dlq(service), limit, |_| {
        Some(("", target.clone()))
    })
    .await
}

/// Publishes up to `limit` events `service` published that were kept in its unroutable
/// queue again to the exchange, under their original routing keys, for when the queue of
/// their consumer exists at last (`touchstone bus setup`). One still routed nowhere stays.
pub async fn replay_unroutable(
    settings: &BusSettings,
    service: &str,
    limit: usize,
) -> anyhow::Result<usize> {
    let exchange = settings.exchange.clone();
    let queue = super::topology::unroutable_queue(settings, service);
    move_messages(settings, &queue, limit, |headers| {
        header_str(headers, HEADER_ORIGINAL_ROUTING_KEY).map(|key| (exchange.as_str(), key))
    })
    .await
}

/// Moves messages out of `from`, each to the (exchange, routing key) `to` gives it, with
/// `mandatory` and a confirm; acks the original only once the copy is routed. Messages it
/// cannot place stay in `from`.
async fn move_messages<'a>(
    settings: &BusSettings,
    from: &str,
    limit: usize,
    to: impl Fn(&Option<lapin::types::FieldTable>) -> Option<(&'a str, String)>,
) -> anyhow::Result<usize> {
    let conn = super::connect(settings, "touchstone-requeue").await?;
    let channel = conn.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let mut moved = 0;
    // Unacked until the channel closes, so basic_get does not hand them out again.
    let mut left = Vec::new();
    while moved < limit {
        let Some(msg) = channel
            .basic_get(from.into(), BasicGetOptions::default())
            .await?
        else {
            break;
        };
        let delivery = msg.delivery;
        let props = &delivery.properties;
        let Some((exchange, routing_key)) = to(props.headers()) else {
            left.push(delivery);
            continue;
        };
        let mut inner = props.headers().clone().unwrap_or_default().inner().clone();
        inner.remove(super::HEADER_RETRY_COUNT);
        inner.remove(HEADER_DEATH_REASON);
        let out = super::consumer::persistent_copy(props, lapin::types::FieldTable::from(inner));
        let confirm = channel
            .basic_publish(
                exchange.into(),
                routing_key.as_str().into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                },
                &delivery.data,
                out,
            )
            .await?
            .await?;
        match confirm {
            Confirmation::Ack(None) => {
                delivery.ack(BasicAckOptions::default()).await?;
                moved += 1;
            }
            Confirmation::Ack(Some(_)) => left.push(delivery),
            _ => {
                delivery
                    .nack(BasicNackOptions {
                        requeue: true,
                        ..Default::default()
                    })
                    .await?;
                anyhow::bail!("the broker refused a copy of a message from {from}");
            }
        }
    }
    drop(left);
    let _ = channel.close(200, "done".into()).await;
    let _ = conn.close(200, "done".into()).await;
    Ok(moved)
}

/// Lists up to `limit` dead letters without removing them (they are requeued).
pub async fn peek(
    settings: &BusSettings,
    service: &str,
    limit: usize,
) -> anyhow::Result<Vec<DeadLetter>> {
    let conn = super::connect(settings, "touchstone-dlq-peek").await?;
    let channel = conn.create_channel().await?;
    let dlq = settings.dlq(service);
    let mut out = Vec::new();
    let mut held = Vec::new();
    while out.len() < limit {
        let Some(msg) = channel
            .basic_get(dlq.as_str().into(), BasicGetOptions::default())
            .await?
        else {
            break;
        };
        let d = msg.delivery;
        let headers = d.properties.headers();
        out.push(DeadLetter {
            message_id: d.properties.message_id().as_ref().map(|m| m.to_string()),
            routing_key: header_str(headers, HEADER_ORIGINAL_ROUTING_KEY),
            reason: header_str(headers, HEADER_DEATH_REASON),
            retries: super::header_u32(headers, super::HEADER_RETRY_COUNT),
            body_preview: String::from_utf8_lossy(&d.data[..d.data.len().min(200)]).into_owned(),
        });
        held.push(d);
    }
    // Closing the channel returns every unacked message to the DLQ.
    drop(held);
    let _ = channel.close(200, "done".into()).await;
    let _ = conn.close(200, "done".into()).await;
    Ok(out)
}
