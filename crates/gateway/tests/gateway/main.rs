//! The gateway against the real HAProxy, the services' own binaries, PostgreSQL and
//! RabbitMQ: routing, keys, scopes, limits, bodies, balancing and failover, discovery,
//! the aggregated OpenAPI document, the API conventions over every route, and schemathesis through the front door.

mod balancing;
mod config;
mod contract;
mod conventions;
mod helpers;
mod routing;
mod supervision;
