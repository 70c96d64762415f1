//! Integration tests of the leads service against the real PostgreSQL and RabbitMQ.

mod events;
mod health;
mod helpers;
mod leads;
