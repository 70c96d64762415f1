//! Persistence: rows of touchpoints, the identity map, conversions and affiliate terms, and
//! the stored journeys and report exports read from them. No rules and no events: the use
//! cases decide what to write and what to publish.

pub mod affiliates;
pub mod attribution;
pub mod conversions;
pub mod deal_attributions;
pub mod identity;
pub mod reports;
pub mod schema;
pub mod touchpoints;

/// Serialises stitching against ingest. Ingest holds it shared (ingests run side by side);
/// a stitching change (lead.created, lead.merged) holds it exclusively, so that no touch
/// committed concurrently with a new identity can miss it, whichever commits first.
pub const STITCH_LOCK: i64 = 0x7470_5f73_7469_7463;

/// Lets a training of the won-deal model see every deal attributed before it began:
/// transactions that attribute a won deal hold it shared; a training takes it exclusively
/// for an instant before it reads, which waits for those in flight to commit.
pub const ATTRIBUTE_LOCK: i64 = 0x7470_5f61_7474_7269;
