//! Integration tests of the touchpoints service against the real PostgreSQL and RabbitMQ.

mod attribution;
mod bulk;
mod conventions;
mod deal_model;
mod helpers;
mod ingest;
mod input_edges;
mod journeys;
mod reports;
mod stitching;
