//! Logging set-up and W3C trace context carried from HTTP requests into events.

use std::io::IsTerminal;

use rand::Rng;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// JSON logs when stdout is not a terminal, pretty logs on a TTY. `RUST_LOG` filters;
/// the default is `info`. Safe to call twice (the second call is a no-op).
pub fn init(service: &str) {
    // The relay logs an unroutable event itself, in a line; lapin's own warning dumps the
    // whole returned message as bytes.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,lapin::returned_messages=error"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = if std::io::stdout().is_terminal() {
        registry.with(fmt::layer().pretty()).try_init()
    } else {
        registry
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init()
    };
    if result.is_ok() {
        tracing::info!(service, "telemetry initialised");
    }
}

/// Silent unless `TEST_LOG=1`, so test output stays readable.
pub fn init_for_tests() {
    if std::env::var("TEST_LOG").is_ok_and(|v| v == "1") {
        let _ = tracing_subscriber::registry()
            .with(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("debug")))
            .with(fmt::layer().with_test_writer())
            .try_init();
    }
}

/// The W3C trace context of the current unit of work. A request with a valid
/// `traceparent` keeps its trace id; otherwise a new trace starts here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: String,
    /// Our own span id: the parent of whatever this work causes downstream.
    pub span_id: String,
    pub sampled: bool,
}

impl TraceContext {
    pub fn new_root() -> Self {
        let mut rng = rand::rng();
        TraceContext {
            trace_id: format!("{:032x}", rng.random::<u128>() | 1),
            span_id: new_span_id(),
            sampled: true,
        }
    }

    /// Continues the trace of an incoming `traceparent`, with a fresh span id for this hop.
    /// Returns `None` for anything that is not a valid version-00 traceparent.
    pub fn continue_from(traceparent: &str) -> Option<Self> {
        let parts: Vec<&str> = traceparent.trim().split('-').collect();
        let [version, trace_id, parent_id, flags] = parts.as_slice() else {
            return None;
        };
        let hex = |s: &str, len: usize| {
            s.len() == len
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if *version != "00" || !hex(trace_id, 32) || !hex(parent_id, 16) || !hex(flags, 2) {
            return None;
        }
        if trace_id.bytes().all(|b| b == b'0') || parent_id.bytes().all(|b| b == b'0') {
            return None;
        }
        let flags = u8::from_str_radix(flags, 16).ok()?;
        Some(TraceContext {
            trace_id: trace_id.to_string(),
            span_id: new_span_id(),
            sampled: flags & 1 == 1,
        })
    }

    pub fn traceparent(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            self.trace_id,
            self.span_id,
            u8::from(self.sampled)
        )
    }
}

fn new_span_id() -> String {
    format!("{:016x}", rand::rng().random::<u64>() | 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continues_a_valid_traceparent() {
        let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let ctx = TraceContext::continue_from(incoming).unwrap();
        assert_eq!(ctx.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_ne!(ctx.span_id, "00f067aa0ba902b7");
        assert!(ctx.sampled);
        let out = ctx.traceparent();
        assert!(out.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
        assert!(out.ends_with("-01"));
        assert_eq!(out.len(), 55);
    }

    #[test]
    fn rejects_malformed_traceparents() {
        for bad in [
            "",
            "garbage",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert!(TraceContext::continue_from(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn new_roots_are_valid() {
        let ctx = TraceContext::new_root();
        assert!(TraceContext::continue_from(&ctx.traceparent()).is_some());
    }
}
