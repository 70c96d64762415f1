//! The gateway's own parts. HAProxy forwards, balances and health-checks
//! (`deploy/gateway/haproxy.cfg`); this crate holds what is Touchstone's: the API-key
//! store, the aggregated OpenAPI document with the routing maps derived from it, the
//! backend configuration, and the client of HAProxy's admin socket.

pub mod backends;
pub mod keys;
pub mod openapi;
pub mod runtime;

/// The services behind the gateway, in routing order.
pub const SERVICES: &[&str] = &["leads", "funnel", "touchpoints", "breakeven"];
