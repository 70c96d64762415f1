//! Writing events into the outbox, inside the caller's transaction.

use contracts::{CLOUDEVENTS_BATCH_JSON, CLOUDEVENTS_JSON, CloudEvent, EventPayload, RawEvent};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::outbox;
use crate::telemetry::TraceContext;

/// The channel the relay LISTENs on; NOTIFY is only delivered on commit.
pub const NOTIFY_CHANNEL: &str = "touchstone_outbox";

#[derive(Insertable)]
#[diesel(table_name = outbox)]
struct NewOutboxRow {
    message_id: Uuid,
    routing_key: String,
    content_type: &'static str,
    body: Vec<u8>,
    event_count: i32,
    traceparent: Option<String>,
}

/// Queues one event for publication. Call it inside the transaction that makes the change.
pub fn enqueue<T: EventPayload>(
    conn: &mut PgConnection,
    payload: &T,
    trace: Option<&TraceContext>,
) -> QueryResult<RawEvent> {
    let traceparent = trace.map(TraceContext::traceparent);
    let event = RawEvent::new(payload, traceparent.clone());
    diesel::insert_into(outbox::table)
        .values(NewOutboxRow {
            message_id: event.id,
            routing_key: event.ty.clone(),
            content_type: CLOUDEVENTS_JSON,
            body: event.to_json_bytes(),
            event_count: 1,
            traceparent,
        })
        .execute(conn)?;
    notify(conn)?;
    Ok(event)
}

/// Queues one message per payload with a single statement: for a change that touches many
/// aggregates at once (e.g. many leads re-graded by one batch of touchpoints).
pub fn enqueue_each<T: EventPayload>(
    conn: &mut PgConnection,
    payloads: &[T],
    trace: Option<&TraceContext>,
) -> QueryResult<Vec<RawEvent>> {
    if payloads.is_empty() {
        return Ok(Vec::new());
    }
    let traceparent = trace.map(TraceContext::traceparent);
    let events: Vec<RawEvent> = payloads
        .iter()
        .map(|p| RawEvent::new(p, traceparent.clone()))
        .collect();
    let rows: Vec<NewOutboxRow> = events
        .iter()
        .map(|event| NewOutboxRow {
            message_id: event.id,
            routing_key: event.ty.clone(),
            content_type: CLOUDEVENTS_JSON,
            body: event.to_json_bytes(),
            event_count: 1,
            traceparent: traceparent.clone(),
        })
        .collect();
    insert_rows(conn, &rows)?;
    Ok(events)
}

/// Queues many events of one type as CloudEvents batches (one AMQP message per
/// `per_message` events), for producers whose volume single messages cannot carry.
pub fn enqueue_batch<T: EventPayload>(
    conn: &mut PgConnection,
    payloads: &[T],
    per_message: usize,
    trace: Option<&TraceContext>,
) -> QueryResult<usize> {
    if payloads.is_empty() {
        return Ok(0);
    }
    let traceparent = trace.map(TraceContext::traceparent);
    let rows: Vec<NewOutboxRow> = payloads
        .chunks(per_message.max(1))
        .map(|chunk| {
            let events: Vec<CloudEvent<&T>> = chunk
                .iter()
                .map(|p| CloudEvent::typed(p, traceparent.clone()))
                .collect();
            NewOutboxRow {
                message_id: Uuid::now_v7(),
                routing_key: T::TYPE.to_string(),
                content_type: CLOUDEVENTS_BATCH_JSON,
                body: serde_json::to_vec(&events).expect("events serialize"),
                event_count: events.len() as i32,
                traceparent: traceparent.clone(),
            }
        })
        .collect();
    insert_rows(conn, &rows)?;
    Ok(rows.len())
}

/// Inserts outbox rows and wakes the relay. PostgreSQL caps a statement at 65535 bind
/// parameters: 6 per row, so at most 5,000 rows a statement.
fn insert_rows(conn: &mut PgConnection, rows: &[NewOutboxRow]) -> QueryResult<()> {
    for part in rows.chunks(5000) {
        diesel::insert_into(outbox::table)
            .values(part)
            .execute(conn)?;
    }
    notify(conn)
}

fn notify(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query(format!("NOTIFY {NOTIFY_CHANNEL}")).execute(conn)?;
    Ok(())
}
