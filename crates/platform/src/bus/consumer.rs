//! Consuming events: one transaction per AMQP message (inbox row + effect), or per group of
//! messages already received, ack after commit, bounded retries through delay queues, then
//! the dead-letter queue.

use std::sync::Arc;

use contracts::RawEvent;
use diesel::prelude::*;
use futures::{FutureExt, StreamExt};
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions, ConfirmSelectOptions};
use lapin::types::FieldTable;
use tokio::sync::watch;

use super::{
    BrokerStatus, HEADER_DEATH_REASON, HEADER_ORIGINAL_ROUTING_KEY, HEADER_RETRY_COUNT, header_str,
    header_u32, long_string, publish_confirmed,
};
use crate::config::Settings;
use crate::db::{Db, DbError};
use crate::metrics::Metrics;
use crate::schema::inbox;

/// Why a handler could not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Retrying cannot help (e.g. the payload breaks a business rule): straight to the DLQ.
    #[error("permanent: {0}")]
    Permanent(String),
    /// May succeed later (e.g. a lock timeout): retried with growing delay.
    #[error("transient: {0}")]
    Transient(#[from] anyhow::Error),
    /// The database is unreachable: no message can succeed until it is back, so none is
    /// retried or dead-lettered. The consumer stops, its unacked messages return to the
    /// queue, and it starts again (not ready meanwhile) once the database answers.
    #[error("database unavailable: {0}")]
    Unavailable(anyhow::Error),
}

impl From<diesel::result::Error> for HandlerError {
    /// A row the event would write breaks a check or not-null constraint whatever the
    /// timing: permanent. Every other database error (a lost connection, a deadlock, a
    /// serialization failure, a unique violation raced by a replica) may pass on a retry.
    fn from(e: diesel::result::Error) -> Self {
        if crate::db::connection_lost(&e) {
            return HandlerError::Unavailable(e.into());
        }
        match broken_constraint(&e) {
            Some(reason) => HandlerError::Permanent(reason),
            None => HandlerError::Transient(e.into()),
        }
    }
}

/// The reason, when `e` or an error it was caused by is a check or not-null constraint
/// violation: the same data breaks it on every try.
fn broken_constraint(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    use diesel::result::{DatabaseErrorKind, Error};
    let mut cause = Some(e);
    while let Some(err) = cause {
        if let Some(Error::DatabaseError(
            DatabaseErrorKind::CheckViolation | DatabaseErrorKind::NotNullViolation,
            info,
        )) = err.downcast_ref::<Error>()
        {
            return Some(format!(
                "the event's data breaks a rule: {}",
                info.message()
            ));
        }
        cause = err.source();
    }
    None
}

impl From<DbError> for HandlerError {
    /// A handler that panics has a bug the same input will hit again: permanent, so the
    /// message waits in the DLQ for a fix and a replay instead of failing three more times.
    fn from(e: DbError) -> Self {
        match e {
            DbError::Join(join) if join.is_panic() => {
                HandlerError::Permanent(format!("handler panicked: {join}"))
            }
            DbError::Query(e) => e.into(),
            e if e.is_unavailable() => HandlerError::Unavailable(e.into()),
            e => HandlerError::Transient(e.into()),
        }
    }
}

impl HandlerError {
    /// A service error as the consumer sees it: unexpected (infrastructure) errors are
    /// transient and retried; a 503 (the database unreachable or busy) waits for the
    /// database; every other error breaks a rule and goes to the DLQ at once.
    pub fn classify<E: crate::http::ServiceError>(e: E) -> HandlerError {
        if e.is_unexpected() {
            match broken_constraint(&e) {
                Some(reason) => HandlerError::Permanent(reason),
                None => HandlerError::Transient(anyhow::Error::new(e)),
            }
        } else if e.problem().status == 503 {
            HandlerError::Unavailable(anyhow::Error::new(e))
        } else {
            HandlerError::Permanent(e.to_string())
        }
    }
}

/// The payload of a consumed event of type `T`; a payload that does not fit is permanent.
pub fn decode<T: contracts::EventPayload>(event: &RawEvent) -> Result<T, HandlerError> {
    event
        .decode()
        .map_err(|e| HandlerError::Permanent(e.to_string()))
}

/// The payloads of a batch of several events that are all of type `T` (one AMQP message of
/// a batched event), for a handler to apply at once; `None` for a single event or a mixed
/// batch, which go one by one. A payload that does not fit is permanent.
pub fn decode_batch<T: contracts::EventPayload>(
    events: &[&RawEvent],
) -> Result<Option<Vec<T>>, HandlerError> {
    if events.len() < 2 || events.iter().any(|e| e.ty != T::TYPE) {
        return Ok(None);
    }
    events
        .iter()
        .map(|e| decode(e))
        .collect::<Result<_, _>>()
        .map(Some)
}

/// A service's reaction to the events it consumes. `handle` runs inside the
/// transaction that also records the event id in the inbox.
pub trait EventHandler: Send + Sync + 'static {
    /// Routing-key patterns the service's queue is bound with: a service's come from the
    /// contracts catalog ([`topology::bindings_of`](super::topology::bindings_of)).
    fn bindings(&self) -> Vec<String>;
    fn handle(&self, conn: &mut PgConnection, event: &RawEvent) -> Result<(), HandlerError>;

    /// Applies the new (not yet seen) events of one AMQP message, in message order. The
    /// default handles them one by one; a handler of high-volume batched events overrides
    /// it to apply a whole batch with a few set-based statements.
    fn handle_batch(
        &self,
        conn: &mut PgConnection,
        events: &[&RawEvent],
    ) -> Result<(), HandlerError> {
        events.iter().try_for_each(|e| self.handle(conn, e))
    }
}

/// How one delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Applied { applied: usize, duplicates: usize },
    Retried { attempt: u32, reason: String },
    DeadLettered { reason: String },
}

pub struct Consumer {
    db: Db,
    settings: Settings,
    metrics: Metrics,
    status: BrokerStatus,
    service: String,
    handler: Arc<dyn EventHandler>,
}

impl Consumer {
    pub fn new(
        db: Db,
        settings: Settings,
        metrics: Metrics,
        status: BrokerStatus,
        service: &str,
        handler: Arc<dyn EventHandler>,
    ) -> Self {
        Consumer {
            db,
            settings,
            metrics,
            status,
            service: service.to_string(),
            handler,
        }
    }

    /// Consumes until `shutdown` turns true, reconnecting with backoff.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = super::Backoff::default();
        while !*shutdown.borrow() {
            match self.consume_until_error(&mut shutdown, &mut backoff).await {
                Ok(()) => break,
                Err(e) => {
                    self.status.set_consumer(false);
                    let delay = backoff.next_delay();
                    tracing::warn!(error = %e, ?delay, "consumer lost the broker; reconnecting");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        }
        self.status.set_consumer(false);
    }

    async fn consume_until_error(
        &self,
        shutdown: &mut watch::Receiver<bool>,
        backoff: &mut super::Backoff,
    ) -> anyhow::Result<()> {
        // No point taking messages the database cannot take: wait for it first.
        self.db.ping().await?;
        let conn =
            super::connect(&self.settings.bus, &format!("{}-consumer", self.service)).await?;
        super::topology::declare_service(
            &conn,
            &self.settings.bus,
            &self.service,
            &self.handler.bindings(),
        )
        .await?;
        let channel = conn.create_channel().await?;
        channel
            .basic_qos(self.settings.bus.prefetch, BasicQosOptions::default())
            .await?;
        // Retries and dead letters go out on their own channel, in confirm mode.
        let side = conn.create_channel().await?;
        side.confirm_select(ConfirmSelectOptions::default()).await?;
        let queue = self.settings.bus.queue(&self.service);
        let mut deliveries = channel
            .basic_consume(
                queue.as_str().into(),
                format!("{}-{}", self.service, uuid::Uuid::new_v4()).into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        self.status.set_consumer(true);
        backoff.reset();
        tracing::info!(queue = %queue, "consumer started");
        // Two stages, so that parsing the next group overlaps the transaction of the one
        // before: `receive` gathers and parses groups, `apply` commits and acks them one at
        // a time, in delivery order. Deliveries left unacked when a stage stops come back
        // after reconnecting; the inbox makes that harmless.
        let (ready, mut pending) = tokio::sync::mpsc::channel::<Prepared>(1);
        let receive = async move {
            let result = self.receive(&mut deliveries, shutdown, &ready).await;
            // Closing the channel lets the applier finish the groups already handed to it
            // (the one it is applying and at most one waiting), then stop.
            drop(ready);
            result
        };
        let apply = async {
            while let Some(prepared) = pending.recv().await {
                self.process_group(&side, prepared).await?;
            }
            Ok::<_, anyhow::Error>(())
        };
        tokio::pin!(receive, apply);
        let result = tokio::select! {
            r = &mut receive => {
                let applied = apply.await;
                r.and(applied)
            }
            r = &mut apply => r,
        };
        let _ = channel.close(200, "consumer stopping".into()).await;
        result
    }

    /// Gathers groups of deliveries, parses them and hands them to the applier, until
    /// `shutdown` turns true (Ok) or the broker fails (Err).
    async fn receive(
        &self,
        deliveries: &mut lapin::Consumer,
        shutdown: &mut watch::Receiver<bool>,
        ready: &tokio::sync::mpsc::Sender<Prepared>,
    ) -> anyhow::Result<()> {
        loop {
            tokio::select! {
                _ = shutdown.changed() => return Ok(()),
                next = deliveries.next() => match next {
                    Some(Ok(delivery)) => {
                        // Whatever else the broker has already delivered joins it, without waiting.
                        let mut group = vec![delivery];
                        let mut after = None;
                        while group.len() < self.settings.bus.group_messages.max(1) {
                            match deliveries.next().now_or_never() {
                                Some(Some(Ok(d))) => group.push(d),
                                Some(Some(Err(e))) => {
                                    after = Some(anyhow::Error::from(e));
                                    break;
                                }
                                Some(None) => {
                                    after = Some(anyhow::anyhow!("consumer stream ended"));
                                    break;
                                }
                                None => break,
                            }
                        }
                        let prepared = prepare(group, self.settings.bus.group_events).await?;
                        if ready.send(prepared).await.is_err() {
                            return Ok(());
                        }
                        if let Some(e) = after {
                            return Err(e);
                        }
                    }
                    Some(Err(e)) => return Err(e.into()),
                    None => anyhow::bail!("consumer stream ended"),
                }
            }
        }
    }

    /// Applies deliveries received together in one transaction when they parsed and fit in
    /// `group_events`, and acks them after it commits. Otherwise, or when that transaction
    /// fails, each delivery is processed and acked on its own: a group never changes what
    /// happens to a message, only how many commits it takes.
    async fn process_group(&self, side: &lapin::Channel, prepared: Prepared) -> anyhow::Result<()> {
        let Prepared { group, parsed } = prepared;
        if let Some(messages) = parsed {
            let events: Vec<RawEvent> = messages.into_iter().flatten().collect();
            if let Ok(tally) = self.apply(events).await {
                self.record(&tally);
                let (applied, duplicates) = tally.totals();
                tracing::debug!(messages = group.len(), applied, duplicates, "group applied");
                for delivery in &group {
                    delivery.ack(BasicAckOptions::default()).await?;
                }
                return Ok(());
            }
            tracing::debug!(
                messages = group.len(),
                "group failed; applying its messages one by one"
            );
        }
        for delivery in &group {
            let outcome = self.process(side, delivery).await?;
            tracing::debug!(?outcome, "delivery processed");
            delivery.ack(BasicAckOptions::default()).await?;
        }
        Ok(())
    }

    /// Decides a delivery's fate. Returns Err only when the broker itself failed, in which
    /// case the delivery is left unacked and comes back after reconnecting.
    #[tracing::instrument(skip_all, fields(message_id, routing_key = %delivery.routing_key))]
    pub async fn process(
        &self,
        side: &lapin::Channel,
        delivery: &Delivery,
    ) -> anyhow::Result<Outcome> {
        let props = &delivery.properties;
        if let Some(id) = props.message_id() {
            tracing::Span::current().record("message_id", id.as_str());
        }
        let events = match parse_delivery(delivery) {
            Ok(events) => events,
            Err(e) => {
                let reason = format!("invalid message: {e}");
                self.metrics
                    .events_consumed_total
                    .with_label_values(&[delivery.routing_key.as_str(), "invalid"])
                    .inc();
                self.dead_letter(side, delivery, &reason, "invalid").await?;
                return Ok(Outcome::DeadLettered { reason });
            }
        };
        let ty = event_type(&events);
        let n = events.len();
        match self.apply(events).await {
            Ok(tally) => {
                self.record(&tally);
                let (applied, duplicates) = tally.totals();
                Ok(Outcome::Applied {
                    applied,
                    duplicates,
                })
            }
            Err(HandlerError::Permanent(reason)) => {
                self.count(&ty, "dead_lettered", n);
                self.dead_letter(side, delivery, &reason, "rejected")
                    .await?;
                Ok(Outcome::DeadLettered { reason })
            }
            Err(HandlerError::Unavailable(e)) => Err(e.context("the database is unavailable")),
            Err(HandlerError::Transient(e)) => {
                let reason = format!("{e:#}");
                let tries = header_u32(props.headers(), HEADER_RETRY_COUNT).unwrap_or(0);
                if tries < self.settings.bus.max_retries {
                    let attempt = tries + 1;
                    tracing::warn!(attempt, %reason, "handler failed; scheduling a retry");
                    self.count(&ty, "retried", n);
                    self.metrics.events_retried_total.inc();
                    let queue = self.settings.bus.retry_queue(&self.service, attempt);
                    let props = forward_properties(delivery, attempt, Some(&reason), None);
                    publish_confirmed(side, "", &queue, &delivery.data, props).await?;
                    Ok(Outcome::Retried { attempt, reason })
                } else {
                    let reason = format!("failed after {} retries: {reason}", tries);
                    self.count(&ty, "dead_lettered", n);
                    self.dead_letter(side, delivery, &reason, "exhausted")
                        .await?;
                    Ok(Outcome::DeadLettered { reason })
                }
            }
        }
    }

    /// Applies every event of one message in a single transaction; an event id already
    /// in the inbox is skipped. Returns (applied, duplicates).
    async fn apply(&self, events: Vec<RawEvent>) -> Result<Tally, HandlerError> {
        let handler = self.handler.clone();
        self.db
            .run(move |conn| {
                conn.transaction::<_, HandlerError, _>(|tx| {
                    // One statement records every id; only the ids it inserted are new.
                    let rows: Vec<_> = events
                        .iter()
                        .map(|e| (inbox::event_id.eq(e.id), inbox::event_type.eq(&e.ty)))
                        .collect();
                    let mut fresh: Vec<uuid::Uuid> = Vec::with_capacity(events.len());
                    // PostgreSQL caps a statement at 65535 parameters: 2 per row.
                    for part in rows.chunks(30_000) {
                        fresh.extend(
                            diesel::insert_into(inbox::table)
                                .values(part)
                                .on_conflict_do_nothing()
                                .returning(inbox::event_id)
                                .get_results::<uuid::Uuid>(tx)?,
                        );
                    }
                    let fresh: std::collections::HashSet<uuid::Uuid> = fresh.into_iter().collect();
                    // An id repeated inside one message counts once.
                    let mut seen = std::collections::HashSet::new();
                    let mut tally = Tally::default();
                    let mut new: Vec<&RawEvent> = Vec::with_capacity(fresh.len());
                    for e in &events {
                        let counts = tally.0.entry(e.ty.clone()).or_default();
                        if fresh.contains(&e.id) && seen.insert(e.id) {
                            counts.0 += 1;
                            new.push(e);
                        } else {
                            counts.1 += 1;
                        }
                    }
                    handler.handle_batch(tx, &new)?;
                    Ok(tally)
                })
            })
            .await
    }

    async fn dead_letter(
        &self,
        side: &lapin::Channel,
        delivery: &Delivery,
        reason: &str,
        kind: &str,
    ) -> anyhow::Result<()> {
        tracing::warn!(%reason, "sending message to the dead-letter queue");
        let tries = header_u32(delivery.properties.headers(), HEADER_RETRY_COUNT).unwrap_or(0);
        let props = forward_properties(delivery, tries, None, Some(reason));
        publish_confirmed(
            side,
            "",
            &self.settings.bus.dlq(&self.service),
            &delivery.data,
            props,
        )
        .await?;
        self.metrics
            .events_dead_lettered_total
            .with_label_values(&[kind])
            .inc();
        Ok(())
    }

    /// Counts applied and duplicate events under their own types.
    fn record(&self, tally: &Tally) {
        for (ty, (applied, duplicates)) in &tally.0 {
            self.count(ty, "applied", *applied);
            self.count(ty, "duplicate", *duplicates);
        }
    }

    fn count(&self, ty: &str, outcome: &str, n: usize) {
        if n == 0 {
            return;
        }
        self.metrics
            .events_consumed_total
            .with_label_values(&[ty, outcome])
            .inc_by(n as u64);
    }
}

/// Deliveries received together, with each message's events when the group can be applied
/// as one transaction.
struct Prepared {
    group: Vec<Delivery>,
    parsed: Option<Vec<Vec<RawEvent>>>,
}

/// Parses a group's messages on a blocking thread (a group can hold thousands of events).
/// A group of one, a group with a message that does not parse, or one over `max_events`
/// events is left unparsed: its messages are then processed one by one.
async fn prepare(group: Vec<Delivery>, max_events: usize) -> anyhow::Result<Prepared> {
    if group.len() < 2 {
        return Ok(Prepared {
            group,
            parsed: None,
        });
    }
    tokio::task::spawn_blocking(move || {
        let parsed: Option<Vec<Vec<RawEvent>>> =
            group.iter().map(|d| parse_delivery(d).ok()).collect();
        let parsed = parsed.filter(|m| m.iter().map(Vec::len).sum::<usize>() <= max_events);
        Prepared { group, parsed }
    })
    .await
    .map_err(|e| anyhow::anyhow!("parsing a group of deliveries: {e}"))
}

/// The events of one message, read as its content type says (batch or structured mode).
fn parse_delivery(delivery: &Delivery) -> Result<Vec<RawEvent>, contracts::DecodeError> {
    let content_type = delivery
        .properties
        .content_type()
        .as_ref()
        .map(|c| c.as_str());
    contracts::parse_message(content_type, &delivery.data)
}

/// What one transaction did, by event type: (applied, duplicates).
#[derive(Debug, Default)]
struct Tally(std::collections::BTreeMap<String, (usize, usize)>);

impl Tally {
    fn totals(&self) -> (usize, usize) {
        self.0
            .values()
            .fold((0, 0), |(a, d), (x, y)| (a + x, d + y))
    }
}

/// The metrics label of a message whose events failed together: the type of the first.
fn event_type(events: &[RawEvent]) -> String {
    events
        .first()
        .map_or_else(|| "unknown".to_string(), |e| e.ty.clone())
}

/// Copies a delivery's properties for a retry or the DLQ, recording why and where it came from.
fn forward_properties(
    delivery: &Delivery,
    retry_count: u32,
    last_error: Option<&str>,
    death_reason: Option<&str>,
) -> lapin::BasicProperties {
    let props = &delivery.properties;
    let mut headers = props.headers().clone().unwrap_or_default();
    headers.insert(
        HEADER_RETRY_COUNT.into(),
        lapin::types::AMQPValue::LongLongInt(retry_count as i64),
    );
    if header_str(props.headers(), HEADER_ORIGINAL_ROUTING_KEY).is_none() {
        headers.insert(
            HEADER_ORIGINAL_ROUTING_KEY.into(),
            long_string(delivery.routing_key.as_str()),
        );
    }
    if let Some(e) = last_error {
        headers.insert("x-touchstone-last-error".into(), long_string(truncate(e)));
    }
    if let Some(r) = death_reason {
        headers.insert(HEADER_DEATH_REASON.into(), long_string(truncate(r)));
    }
    persistent_copy(props, headers)
}

/// Persistent properties for a copy of a message: its id and content type, and `headers`.
pub(crate) fn persistent_copy(
    props: &lapin::BasicProperties,
    headers: FieldTable,
) -> lapin::BasicProperties {
    let mut out = lapin::BasicProperties::default()
        .with_delivery_mode(2)
        .with_headers(headers);
    if let Some(id) = props.message_id() {
        out = out.with_message_id(id.clone());
    }
    if let Some(ct) = props.content_type() {
        out = out.with_content_type(ct.clone());
    }
    out
}

fn truncate(s: &str) -> &str {
    let mut end = s.len().min(2000);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use contracts::leads::LeadMerged;

    use super::*;

    fn merged(email: &str) -> LeadMerged {
        LeadMerged {
            lead_id: uuid::Uuid::now_v7(),
            merged_lead_id: uuid::Uuid::now_v7(),
            merged_email: email.to_string(),
            merged_anonymous_id: None,
            merged_at: chrono::Utc::now(),
        }
    }

    struct Violation(&'static str);

    impl diesel::result::DatabaseErrorInformation for Violation {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn database_error(kind: diesel::result::DatabaseErrorKind) -> diesel::result::Error {
        diesel::result::Error::DatabaseError(kind, Box::new(Violation("violates check")))
    }

    /// A constraint the data breaks is permanent however deep in a service error it sits;
    /// a race or a lost connection is not.
    #[test]
    fn constraint_violations_are_found_through_the_error_chain() {
        use diesel::result::DatabaseErrorKind as Kind;
        let wrapped = anyhow::Error::from(DbError::Query(database_error(Kind::CheckViolation)));
        let reason = broken_constraint(wrapped.as_ref()).expect("found under DbError");
        assert!(reason.contains("violates check"), "{reason}");
        assert!(matches!(
            HandlerError::from(database_error(Kind::NotNullViolation)),
            HandlerError::Permanent(_)
        ));
        assert!(matches!(
            HandlerError::from(database_error(Kind::UniqueViolation)),
            HandlerError::Transient(_)
        ));
        assert!(matches!(
            HandlerError::from(database_error(Kind::ClosedConnection)),
            HandlerError::Unavailable(_)
        ));
        let race = anyhow::Error::from(DbError::Query(database_error(Kind::SerializationFailure)));
        assert!(broken_constraint(race.as_ref()).is_none());
    }

    #[test]
    fn decode_batch_takes_only_several_events_of_its_type() {
        let a = RawEvent::new(&merged("a@example.com"), None);
        let b = RawEvent::new(&merged("b@example.com"), None);
        let batch = decode_batch::<LeadMerged>(&[&a, &b]).unwrap().unwrap();
        let emails: Vec<&str> = batch.iter().map(|m| m.merged_email.as_str()).collect();
        assert_eq!(emails, ["a@example.com", "b@example.com"]);
        assert!(decode_batch::<LeadMerged>(&[&a]).unwrap().is_none());

        let mut other = b.clone();
        other.ty = "touchstone.funnel.deal.won.v1".into();
        assert!(decode_batch::<LeadMerged>(&[&a, &other]).unwrap().is_none());

        let mut broken = b.clone();
        broken.data = serde_json::json!({"lead_id": "not a uuid"});
        assert!(matches!(
            decode_batch::<LeadMerged>(&[&a, &broken]),
            Err(HandlerError::Permanent(_))
        ));
    }
}
