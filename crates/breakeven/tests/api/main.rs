//! Integration tests of the break-even service against the real PostgreSQL and RabbitMQ.

mod alerts;
mod calculator;
mod conventions;
mod helpers;
mod input_edges;
mod records;
mod reports;
mod scenarios;
