//! The leads domain: types and rules, free of HTTP, SQL and AMQP.

pub mod account;
pub mod email;
pub mod import;
pub mod lead;
pub mod lifecycle;
pub mod meddicc;
pub mod scoring;
pub mod source;

pub use email::Email;
pub use lead::NewLead;
pub use source::LeadSource;
