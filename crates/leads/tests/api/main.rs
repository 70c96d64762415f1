//! Integration tests of the leads service against the real PostgreSQL and RabbitMQ.

mod accounts;
mod conventions;
mod events;
mod health;
mod helpers;
mod import;
mod input_edges;
mod leads;
mod lifecycle;
mod reports;
mod scoring;
