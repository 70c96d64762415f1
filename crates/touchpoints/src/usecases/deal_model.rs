//! The model that attributes won deals: trained on the training window once, kept in
//! memory, applied to each `deal.won`, and trained again by a background task every
//! `attribution.model_refresh_secs` or sooner after `attribution.model_refresh_conversions`
//! attributed deals. Training reads the window on its own connection and runs off the async
//! workers, never in the consumer's transaction (but the very first one; see
//! [`DealModel::current_or_train`]). A training sees every deal attributed before it began
//! (see [`ATTRIBUTE_LOCK`](crate::store::ATTRIBUTE_LOCK)).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use chrono::Utc;
use diesel::prelude::*;
use platform::{BackgroundTask, Db};
use prometheus::{IntCounter, IntGauge};
use tokio::sync::{Notify, watch};

use crate::config::{ModelRefresh, TouchpointsConfig};
use crate::domain::attribution::{GroupBy, journeys};
use crate::domain::deal_credit::{AttributionRule, TrainedModel, is_data_driven, train};
use crate::error::TouchpointsError;
use crate::store::attribution::journey_touches;
use crate::store::deal_attributions::{lock_attributing, wait_for_attributing};

/// The won-deal model of one process: its rule is fixed, its training replaced as it is
/// refreshed. Shared by the consumer's handler and the refresh task.
pub struct DealModel {
    rule: AttributionRule,
    lookback_days: u32,
    refresh: ModelRefresh,
    current: RwLock<Option<Arc<TrainedModel>>>,
    /// Won deals attributed since the last training began.
    attributed: AtomicU64,
    /// Wakes the refresh task once `attributed` reaches `refresh.after_conversions`.
    due: Notify,
    metrics: ModelMetrics,
}

struct ModelMetrics {
    trainings: IntCounter,
    failures: IntCounter,
    journeys: IntGauge,
    trained_at: IntGauge,
}

impl DealModel {
    pub fn new(config: &TouchpointsConfig) -> Self {
        let counter = |name, help| IntCounter::new(name, help).expect("valid metric");
        let gauge = |name, help| IntGauge::new(name, help).expect("valid metric");
        DealModel {
            rule: config.attribution,
            lookback_days: config.lookback_days,
            refresh: config.model_refresh,
            current: RwLock::new(None),
            attributed: AtomicU64::new(0),
            due: Notify::new(),
            metrics: ModelMetrics {
                trainings: counter(
                    "touchpoints_attribution_model_trainings_total",
                    "Trainings of the model that attributes won deals",
                ),
                failures: counter(
                    "touchpoints_attribution_model_refresh_failures_total",
                    "Refreshes of the won-deal model that failed (tried again at the next tick)",
                ),
                journeys: gauge(
                    "touchpoints_attribution_model_journeys",
                    "Journeys the current won-deal model was trained on",
                ),
                trained_at: gauge(
                    "touchpoints_attribution_model_trained_timestamp_seconds",
                    "End of the current won-deal model's training window (Unix time)",
                ),
            },
        }
    }

    pub fn rule(&self) -> &AttributionRule {
        &self.rule
    }

    pub fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>> {
        let m = &self.metrics;
        vec![
            Box::new(m.trainings.clone()),
            Box::new(m.failures.clone()),
            Box::new(m.journeys.clone()),
            Box::new(m.trained_at.clone()),
        ]
    }

    /// The model to attribute a won deal with, in the consumer's transaction: the current
    /// training, or, before the first one, a training read through `conn` (once per process,
    /// so that the first deals are attributed by the configured model too). `None` when the
    /// rule's model is not data-driven: it learns nothing and runs on each journey alone.
    pub fn current_or_train(
        &self,
        conn: &mut PgConnection,
    ) -> QueryResult<Option<Arc<TrainedModel>>> {
        if !is_data_driven(&self.rule.model) {
            return Ok(None);
        }
        // Before the deal is counted: the training it may trigger waits for this commit.
        lock_attributing(conn)?;
        if let Some(model) = self.current() {
            return Ok(Some(model));
        }
        self.attributed.store(0, Ordering::Relaxed);
        let now = Utc::now();
        let (from, to) = self.rule.training_window(now);
        let rows = journey_touches(conn, Some(from), Some(to), self.lookback_days)?;
        let model = Arc::new(train(&self.rule, journeys(&rows, GroupBy::Channel), now));
        self.install(model.clone());
        Ok(Some(model))
    }

    /// Counts a won deal attributed (with the current model), waking the refresh task when
    /// enough have been since the last training.
    pub fn count_attributed(&self) {
        let n = self.attributed.fetch_add(1, Ordering::Relaxed) + 1;
        if n >= self.refresh.after_conversions {
            self.due.notify_one();
        }
    }

    /// The current training, if any.
    pub fn current(&self) -> Option<Arc<TrainedModel>> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        current.clone().filter(|m| m.rule == self.rule)
    }

    /// Reads the training window ending now on a connection of its own (once the deals
    /// being attributed have committed), trains off the async workers and installs the
    /// result.
    pub async fn refresh(&self, db: &Db) -> Result<Arc<TrainedModel>, TouchpointsError> {
        self.attributed.store(0, Ordering::Relaxed);
        let rule = self.rule;
        let lookback = self.lookback_days;
        let (now, rows) = db
            .run(move |conn| {
                wait_for_attributing(conn)?;
                let now = Utc::now();
                let (from, to) = rule.training_window(now);
                let rows = journey_touches(conn, Some(from), Some(to), lookback)?;
                Ok::<_, TouchpointsError>((now, rows))
            })
            .await?;
        let model = tokio::task::spawn_blocking(move || {
            Arc::new(train(&rule, journeys(&rows, GroupBy::Channel), now))
        })
        .await
        .map_err(|e| anyhow::anyhow!("training the won-deal model: {e}"))?;
        self.install(model.clone());
        Ok(model)
    }

    /// Replaces the current training unless a later one is installed already (the first
    /// deal's training and a refresh may overlap).
    fn install(&self, model: Arc<TrainedModel>) {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        if current
            .as_ref()
            .is_some_and(|c| c.trained_at > model.trained_at)
        {
            return;
        }
        self.metrics.trainings.inc();
        self.metrics
            .journeys
            .set(i64::try_from(model.journeys).unwrap_or(i64::MAX));
        self.metrics.trained_at.set(model.trained_at.timestamp());
        tracing::info!(
            model = model.model.name(),
            journeys = model.journeys,
            converting = model.converting,
            trained_at = %model.trained_at,
            "won-deal attribution model trained"
        );
        *current = Some(model);
    }

    /// The task that keeps the model fresh, for a data-driven rule only (any other model
    /// has nothing to learn).
    pub fn refresh_task(self: &Arc<Self>) -> Option<BackgroundTask> {
        if !is_data_driven(&self.rule.model) {
            return None;
        }
        let model = self.clone();
        Some(BackgroundTask::new(
            "attribution model refresh",
            move |db, stop| async move { model.keep_fresh(db, stop).await },
        ))
    }

    /// Trains again every `refresh.every`, or as soon as `refresh.after_conversions` deals
    /// were attributed, until `stop` turns true. A failed refresh (the database away, say)
    /// keeps the current model and is tried again at the next tick.
    async fn keep_fresh(&self, db: Db, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(self.refresh.every) => {}
                () = self.due.notified() => {}
                changed = stop.changed() => {
                    // A dropped sender is a shutdown too.
                    if changed.is_err() || *stop.borrow() {
                        return;
                    }
                    continue;
                }
            }
            let refreshed = tokio::select! {
                r = self.refresh(&db) => r,
                // Shutting down: the training under way is dropped.
                _ = stop.changed() => return,
            };
            if let Err(e) = refreshed {
                self.metrics.failures.inc();
                tracing::warn!(error = %e, "refreshing the won-deal attribution model failed; keeping the current one");
            }
        }
    }
}
