//! Cross-service flows against the real PostgreSQL and RabbitMQ: each test runs the
//! services it needs in-process, on one broker namespace, each with its own database.

mod breakeven;
mod helpers;
mod journeys;
mod leads_funnel;
mod privilege;
mod reliability;
mod replicas;
