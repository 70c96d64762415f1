//! Prometheus metrics of a service: HTTP and event-bus instruments in one registry.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub http_requests_total: IntCounterVec,
    pub http_request_duration_seconds: HistogramVec,
    pub events_published_total: IntCounterVec,
    pub events_unroutable_total: IntCounterVec,
    pub outbox_backlog: IntGauge,
    pub publish_lag_seconds: HistogramVec,
    pub events_consumed_total: IntCounterVec,
    pub events_dead_lettered_total: IntCounterVec,
    pub events_retried_total: IntCounter,
}

impl Metrics {
    pub fn new(service: &str) -> Self {
        let registry = Registry::new_custom(
            None,
            Some([("service".to_string(), service.to_string())].into()),
        )
        .expect("valid registry");
        let http_requests_total = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route template and status",
            ),
            &["method", "route", "status"],
        )
        .unwrap();
        let http_request_duration_seconds = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0,
                ],
            ),
            &["method", "route", "status"],
        )
        .unwrap();
        let events_published_total = IntCounterVec::new(
            Opts::new(
                "events_published_total",
                "Events confirmed by the broker, by type",
            ),
            &["type"],
        )
        .unwrap();
        let events_unroutable_total = IntCounterVec::new(
            Opts::new(
                "events_unroutable_total",
                "Events no queue was bound for, kept in the unroutable queue, by type",
            ),
            &["type"],
        )
        .unwrap();
        let outbox_backlog = IntGauge::new(
            "outbox_backlog",
            "Outbox rows not yet confirmed by the broker",
        )
        .unwrap();
        let publish_lag_seconds = HistogramVec::new(
            HistogramOpts::new(
                "publish_lag_seconds",
                "Time from outbox commit to broker confirm",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 120.0,
            ]),
            &["type"],
        )
        .unwrap();
        let events_consumed_total = IntCounterVec::new(
            Opts::new(
                "events_consumed_total",
                "Consumed events by type and outcome (applied, duplicate, retried, dead_lettered, invalid)",
            ),
            &["type", "outcome"],
        )
        .unwrap();
        let events_dead_lettered_total = IntCounterVec::new(
            Opts::new(
                "events_dead_lettered_total",
                "Messages sent to the dead-letter queue",
            ),
            &["reason"],
        )
        .unwrap();
        let events_retried_total =
            IntCounter::new("events_retried_total", "Messages scheduled for a retry").unwrap();
        for c in [
            Box::new(http_requests_total.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_request_duration_seconds.clone()),
            Box::new(events_published_total.clone()),
            Box::new(events_unroutable_total.clone()),
            Box::new(outbox_backlog.clone()),
            Box::new(publish_lag_seconds.clone()),
            Box::new(events_consumed_total.clone()),
            Box::new(events_dead_lettered_total.clone()),
            Box::new(events_retried_total.clone()),
        ] {
            registry.register(c).expect("metric registered once");
        }
        Metrics {
            registry,
            http_requests_total,
            http_request_duration_seconds,
            events_published_total,
            events_unroutable_total,
            outbox_backlog,
            publish_lag_seconds,
            events_consumed_total,
            events_dead_lettered_total,
            events_retried_total,
        }
    }

    /// Registers a service's own collector (e.g. a counter of unmatched touchpoints).
    pub fn register(&self, collector: Box<dyn prometheus::core::Collector>) {
        self.registry
            .register(collector)
            .expect("metric registered once");
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("text encoding cannot fail");
        String::from_utf8(buf).expect("prometheus text is UTF-8")
    }
}
