//! Inspecting and replaying a service's dead-letter queue once the cause is fixed.

use lapin::options::{BasicAckOptions, BasicGetOptions, BasicNackOptions, ConfirmSelectOptions};

use super::{HEADER_DEATH_REASON, HEADER_ORIGINAL_ROUTING_KEY, header_str, publish_confirmed};
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
    let conn = super::connect(settings, "touchstone-dlq-replay").await?;
    let channel = conn.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let dlq = settings.dlq(service);
    let target = settings.queue(service);
    let mut moved = 0;
    while moved < limit {
        let Some(msg) = channel
            .basic_get(dlq.as_str().into(), BasicGetOptions::default())
            .await?
        else {
            break;
        };
        let delivery = msg.delivery;
        let props = &delivery.properties;
        let mut headers = props.headers().clone().unwrap_or_default();
        let mut inner = headers.inner().clone();
        inner.remove(super::HEADER_RETRY_COUNT);
        inner.remove(HEADER_DEATH_REASON);
        headers = lapin::types::FieldTable::from(inner);
        let out = super::consumer::persistent_copy(props, headers);
        match publish_confirmed(&channel, "", &target, &delivery.data, out).await {
            Ok(()) => {
                delivery.ack(BasicAckOptions::default()).await?;
                moved += 1;
            }
            Err(e) => {
                delivery
                    .nack(BasicNackOptions {
                        requeue: true,
                        ..Default::default()
                    })
                    .await?;
                return Err(e);
            }
        }
    }
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
