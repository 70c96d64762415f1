//! Integration tests of the funnel service against the real PostgreSQL and RabbitMQ.

mod breakdowns;
mod conventions;
mod deals;
mod events;
mod funnels;
mod health;
mod helpers;
mod import;
mod import_batches;
mod input_edges;
mod patch;
mod projections;
mod reports;
