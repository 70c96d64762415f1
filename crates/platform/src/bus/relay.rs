//! The outbox relay: claims unpublished rows with `FOR UPDATE SKIP LOCKED`, publishes
//! them with publisher confirms, and marks only the confirmed ones published.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use futures::StreamExt;
use lapin::Confirmation;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::FieldTable;
use secrecy::ExposeSecret;
use tokio::sync::{Notify, watch};

use super::{
    BrokerStatus, HEADER_ORIGINAL_ROUTING_KEY, HEADER_TRACEPARENT, long_string, message_properties,
};
use crate::config::Settings;
use crate::db::{Db, DbError};
use crate::metrics::Metrics;
use crate::schema::outbox;

#[derive(Queryable, Debug)]
struct PendingRow {
    id: i64,
    message_id: uuid::Uuid,
    routing_key: String,
    content_type: String,
    body: Vec<u8>,
    event_count: i32,
    traceparent: Option<String>,
    created_at: DateTime<Utc>,
}

/// What one relay pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DrainOutcome {
    pub claimed: usize,
    pub published: usize,
    /// The channel failed part-way: reconnect before the next pass.
    pub channel_failed: bool,
}

#[derive(Clone)]
pub struct Relay {
    db: Db,
    settings: Settings,
    metrics: Metrics,
    status: BrokerStatus,
    name: String,
}

impl Relay {
    pub fn new(
        db: Db,
        settings: Settings,
        metrics: Metrics,
        status: BrokerStatus,
        name: &str,
    ) -> Self {
        Relay {
            db,
            settings,
            metrics,
            status,
            name: name.to_string(),
        }
    }

    /// Runs until `shutdown` turns true: reconnects with backoff while the broker is down,
    /// wakes on NOTIFY, and polls as a fallback.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let wake = Arc::new(Notify::new());
        let listener = tokio::spawn(listen_for_commits(
            self.settings
                .database
                .database_url()
                .expose_secret()
                .to_string(),
            wake.clone(),
            shutdown.clone(),
        ));
        let poll = Duration::from_millis(self.settings.outbox.poll_ms);
        let mut backoff = super::Backoff::default();
        let mut last_housekeeping = Instant::now() - Duration::from_secs(3600);
        'connect: while !*shutdown.borrow() {
            let channel = match self.open_channel().await {
                Ok(c) => c,
                Err(e) => {
                    self.status.set_relay(false);
                    let delay = backoff.next_delay();
                    tracing::warn!(error = %e, ?delay, "relay cannot reach the broker; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = shutdown.changed() => {}
                    }
                    continue;
                }
            };
            self.status.set_relay(true);
            backoff.reset();
            tracing::info!(relay = %self.name, "relay connected");
            loop {
                if *shutdown.borrow() {
                    break 'connect;
                }
                match self.drain_once(&channel).await {
                    Ok(outcome) if outcome.channel_failed => break,
                    Ok(outcome) if outcome.claimed as i64 >= self.settings.outbox.batch_size => {}
                    Ok(_) => {
                        if last_housekeeping.elapsed() > Duration::from_secs(300) {
                            last_housekeeping = Instant::now();
                            if let Err(e) = self.housekeeping().await {
                                tracing::warn!(error = %e, "outbox housekeeping failed");
                            }
                        }
                        self.refresh_backlog().await;
                        tokio::select! {
                            _ = wake.notified() => {}
                            _ = tokio::time::sleep(poll) => {}
                            _ = shutdown.changed() => {}
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "relay pass failed");
                        tokio::time::sleep(backoff.next_delay()).await;
                    }
                }
                if !channel.status().connected() {
                    break;
                }
            }
            self.status.set_relay(false);
            let _ = channel.close(200, "reconnecting".into()).await;
        }
        listener.abort();
    }

    /// A confirm-mode channel on a fresh connection, with the exchange and the service's
    /// unroutable queue declared.
    pub async fn open_channel(&self) -> anyhow::Result<lapin::Channel> {
        let conn = super::connect(&self.settings.bus, &format!("{}-relay", self.name)).await?;
        super::topology::declare_unroutable(&conn, &self.settings.bus, &self.name).await?;
        let channel = conn.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(channel)
    }

    /// One pass: claim up to `batch_size` rows, publish them all, wait for the confirms,
    /// and mark the confirmed ones published, all inside one transaction that holds the
    /// row locks, so a second relay skips them.
    pub async fn drain_once(&self, channel: &lapin::Channel) -> Result<DrainOutcome, DbError> {
        let handle = tokio::runtime::Handle::current();
        let channel = channel.clone();
        let exchange = self.settings.bus.exchange.clone();
        let unroutable = super::topology::unroutable_queue(&self.settings.bus, &self.name);
        let limit = self.settings.outbox.batch_size;
        let metrics = self.metrics.clone();
        self.db
            .run(move |conn| {
                conn.transaction::<_, DbError, _>(|tx| {
                    let rows: Vec<PendingRow> = outbox::table
                        .filter(outbox::published_at.is_null())
                        .order(outbox::id)
                        .limit(limit)
                        .select((
                            outbox::id,
                            outbox::message_id,
                            outbox::routing_key,
                            outbox::content_type,
                            outbox::body,
                            outbox::event_count,
                            outbox::traceparent,
                            outbox::created_at,
                        ))
                        .for_update()
                        .skip_locked()
                        .load(tx)?;
                    if rows.is_empty() {
                        return Ok(DrainOutcome::default());
                    }
                    let results = handle.block_on(publish_all(&channel, &exchange, &unroutable, &rows));
                    let confirmed_at = Utc::now();
                    let mut acked = Vec::with_capacity(rows.len());
                    let mut failure = None;
                    for (row, result) in rows.iter().zip(&results) {
                        match result {
                            Ok(published) => {
                                acked.push(row.id);
                                if let Published::Kept = published {
                                    tracing::warn!(
                                        event_type = %row.routing_key,
                                        "no queue is bound for this event type; kept in the unroutable queue"
                                    );
                                    metrics
                                        .events_unroutable_total
                                        .with_label_values(&[row.routing_key.as_str()])
                                        .inc_by(row.event_count as u64);
                                }
                                metrics
                                    .events_published_total
                                    .with_label_values(&[row.routing_key.as_str()])
                                    .inc_by(row.event_count as u64);
                                let lag =
                                    (confirmed_at - row.created_at).to_std().unwrap_or_default();
                                metrics
                                    .publish_lag_seconds
                                    .with_label_values(&[row.routing_key.as_str()])
                                    .observe(lag.as_secs_f64());
                            }
                            Err(e) => failure = Some(e.to_string()),
                        }
                    }
                    diesel::update(outbox::table.filter(outbox::id.eq_any(&acked)))
                        .set(outbox::published_at.eq(confirmed_at))
                        .execute(tx)?;
                    if let Some(reason) = &failure {
                        let failed: Vec<i64> = rows
                            .iter()
                            .map(|r| r.id)
                            .filter(|id| !acked.contains(id))
                            .collect();
                        diesel::update(outbox::table.filter(outbox::id.eq_any(&failed)))
                            .set((
                                outbox::attempts.eq(outbox::attempts + 1),
                                outbox::last_error.eq(reason),
                            ))
                            .execute(tx)?;
                    }
                    Ok(DrainOutcome {
                        claimed: rows.len(),
                        published: acked.len(),
                        channel_failed: failure.is_some(),
                    })
                })
            })
            .await
    }

    async fn refresh_backlog(&self) {
        let backlog = self
            .db
            .run(|conn| {
                outbox::table
                    .filter(outbox::published_at.is_null())
                    .count()
                    .get_result::<i64>(conn)
                    .map_err(DbError::from)
            })
            .await;
        if let Ok(n) = backlog {
            self.metrics.outbox_backlog.set(n);
        }
    }

    /// Deletes published rows past retention and expired idempotency keys.
    async fn housekeeping(&self) -> Result<(), DbError> {
        let hours = self.settings.outbox.retention_hours;
        self.db
            .run(move |conn| {
                diesel::sql_query(format!(
                    "DELETE FROM outbox WHERE published_at < now() - interval '{hours} hours'"
                ))
                .execute(conn)?;
                diesel::sql_query(
                    "DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'",
                )
                .execute(conn)?;
                Ok(())
            })
            .await
    }
}

/// What became of one published row.
enum Published {
    /// A queue took it.
    Routed,
    /// No queue was bound for its type; a copy waits in the unroutable queue.
    Kept,
}

/// Publishes every row of a type some service consumes (per the contracts catalog, or of a
/// type the catalog does not know) with `mandatory`, so the broker returns one no queue is
/// bound for rather than dropping it; a returned row is copied into the unroutable queue
/// (with its routing key in a header, for `touchstone bus replay-unroutable`), and counts as
/// published once that copy is confirmed. A type no service consumes (`lead.scored`, the
/// alerts) is published for third parties, who bind their own queues: nobody is expected to
/// be listening, so it is not kept.
async fn publish_all(
    channel: &lapin::Channel,
    exchange: &str,
    unroutable: &str,
    rows: &[PendingRow],
) -> Vec<anyhow::Result<Published>> {
    // Publish everything first and only then wait, so confirms arrive pipelined.
    let mut pending = Vec::with_capacity(rows.len());
    for row in rows {
        let props = row_properties(row, None);
        pending.push(
            channel
                .basic_publish(
                    exchange.into(),
                    row.routing_key.as_str().into(),
                    BasicPublishOptions {
                        mandatory: expects_a_consumer(&row.routing_key),
                        ..Default::default()
                    },
                    &row.body,
                    props,
                )
                .await,
        );
    }
    let mut results = Vec::with_capacity(rows.len());
    for (row, p) in rows.iter().zip(pending) {
        results.push(match p {
            Ok(confirm) => match confirm.await {
                Ok(Confirmation::Ack(None)) => Ok(Published::Routed),
                Ok(Confirmation::Ack(Some(_))) => {
                    let props = row_properties(row, Some(&row.routing_key));
                    super::publish_confirmed(channel, "", unroutable, &row.body, props)
                        .await
                        .map(|()| Published::Kept)
                }
                Ok(_) => Err(anyhow::anyhow!("broker nacked the message")),
                Err(e) => Err(e.into()),
            },
            Err(e) => Err(e.into()),
        });
    }
    results
}

/// Whether a queue must be bound for events of this type: a service consumes it, or the
/// catalog does not know it (so no rule says nobody does).
fn expects_a_consumer(ty: &str) -> bool {
    contracts::catalog::lookup(ty).is_none_or(|info| !info.consumers.is_empty())
}

fn row_properties(row: &PendingRow, original_routing_key: Option<&str>) -> lapin::BasicProperties {
    let mut headers = FieldTable::default();
    if let Some(tp) = &row.traceparent {
        headers.insert(HEADER_TRACEPARENT.into(), long_string(tp));
    }
    if let Some(key) = original_routing_key {
        headers.insert(HEADER_ORIGINAL_ROUTING_KEY.into(), long_string(key));
    }
    message_properties(&row.message_id.to_string(), &row.content_type, headers)
}

/// Keeps a LISTEN connection open and turns each NOTIFY into a wake-up of the relay.
async fn listen_for_commits(url: String, wake: Arc<Notify>, shutdown: watch::Receiver<bool>) {
    let mut backoff = super::Backoff::default();
    while !*shutdown.borrow() {
        match tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
            Ok((client, mut connection)) => {
                backoff.reset();
                let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
                let sql = format!("LISTEN {}", super::outbox::NOTIFY_CHANNEL);
                let listen = client.batch_execute(&sql);
                // The connection must be polled for the LISTEN to complete.
                let driver = async {
                    while let Some(msg) = messages.next().await {
                        match msg {
                            Ok(tokio_postgres::AsyncMessage::Notification(_)) => wake.notify_one(),
                            Ok(_) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "outbox LISTEN connection lost");
                                break;
                            }
                        }
                    }
                };
                let (listened, ()) = tokio::join!(listen, driver);
                if let Err(e) = listened {
                    tracing::warn!(error = %e, "LISTEN failed");
                }
                drop(client);
            }
            Err(e) => tracing::warn!(error = %e, "cannot open outbox LISTEN connection"),
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}
