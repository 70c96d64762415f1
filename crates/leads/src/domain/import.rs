//! The rules of a bulk lead import: what to do with a taken email (`mode`), which line of
//! the file holds an email first, and the ids a keyed import gives its leads, so that a
//! retry of the same body recognises the leads its first attempt stored.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What a line whose email an existing lead holds does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportMode {
    /// The line is rejected, naming the lead that holds the email.
    #[default]
    Insert,
    /// The line's fields are written onto the existing lead.
    Upsert,
}

impl ImportMode {
    pub const ALL: [&'static str; 2] = ["insert", "upsert"];

    pub fn parse(s: &str) -> Option<ImportMode> {
        match s {
            "insert" => Some(ImportMode::Insert),
            "upsert" => Some(ImportMode::Upsert),
            _ => None,
        }
    }
}

/// FNV-1a over 128 bits: a fingerprint that stays the same across builds and releases
/// (unlike std's hasher), to tell one body, key or email from another. Not a defence
/// against a deliberate collision: a client only ever collides with its own requests.
#[derive(Debug, Clone, Copy)]
pub struct Fingerprint(u128);

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint(0x6c62_272e_07bb_0142_62b8_2175_6295_c58d)
    }
}

impl Fingerprint {
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

    pub fn of(bytes: &[u8]) -> u128 {
        let mut f = Fingerprint::default();
        f.update(bytes);
        f.0
    }

    pub fn update(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u128::from(*b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    pub fn bytes(&self) -> [u8; 16] {
        self.0.to_be_bytes()
    }
}

/// The bits of a keyed import's lead id that come from the key and the line.
fn line_bits(key: &str, line: u64) -> [u8; 10] {
    let mut f = Fingerprint::default();
    f.update(key.as_bytes());
    f.update(&[0xff]);
    f.update(&line.to_be_bytes());
    let mut rest = [0u8; 10];
    rest.copy_from_slice(&f.bytes()[..10]);
    rest
}

/// The id of the lead line `line` of the import keyed `key` creates: a UUIDv7 of `at` (so
/// ids keep following creation time) whose other bits come from the key and the line.
pub fn line_id(key: &str, line: u64, at: DateTime<Utc>) -> Uuid {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &line_bits(key, line)).into_uuid()
}

/// Whether `id` is the one line `line` of the import keyed `key` gives its lead, whenever
/// that import ran: a retry's way of recognising what its first attempt stored.
pub fn is_line_id(id: Uuid, key: &str, line: u64) -> bool {
    let probe = line_id(key, line, DateTime::<Utc>::UNIX_EPOCH);
    // The first 48 bits are the time; the rest is version, variant and the line's bits.
    id.as_bytes()[6..] == probe.as_bytes()[6..]
}

/// The emails of a file seen so far, each with the line that held it first. Keeps 16
/// bytes of fingerprint per distinct email, not the email.
#[derive(Debug, Default)]
pub struct FirstLines(HashMap<u128, u64>);

impl FirstLines {
    /// The earlier line that held `email` (already normalised), or `None` when `line` is
    /// the first, which is then remembered.
    pub fn earlier(&mut self, email: &str, line: u64) -> Option<u64> {
        match self.0.entry(Fingerprint::of(email.as_bytes())) {
            std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(line);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_by_name_only() {
        assert_eq!(ImportMode::parse("insert"), Some(ImportMode::Insert));
        assert_eq!(ImportMode::parse("upsert"), Some(ImportMode::Upsert));
        assert_eq!(ImportMode::parse("Upsert"), None);
        assert_eq!(ImportMode::default(), ImportMode::Insert);
    }

    #[test]
    fn line_ids_are_v7_of_their_time_and_recognised_at_any_time() {
        let at: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
        let later: DateTime<Utc> = "2026-03-02T10:00:00Z".parse().unwrap();
        let id = line_id("k1", 7, at);
        assert_eq!(id.get_version_num(), 7);
        let (secs, _) = id.get_timestamp().unwrap().to_unix();
        assert_eq!(secs as i64, at.timestamp());
        assert_ne!(id, line_id("k1", 7, later));
        assert!(is_line_id(id, "k1", 7));
        assert!(is_line_id(line_id("k1", 7, later), "k1", 7));
        assert!(!is_line_id(id, "k1", 8));
        assert!(!is_line_id(id, "k2", 7));
        assert!(!is_line_id(Uuid::now_v7(), "k1", 7));
    }

    #[test]
    fn fingerprints_ignore_chunking_and_match_fnv_1a() {
        let mut f = Fingerprint::default();
        f.update(b"ab");
        f.update(b"c");
        assert_eq!(f.bytes(), Fingerprint::of(b"abc").to_be_bytes());
        assert_ne!(Fingerprint::of(b"abc"), Fingerprint::of(b"abd"));
        // The published FNV-1a 128 of "a".
        assert_eq!(
            Fingerprint::of(b"a"),
            0xd228_cb69_6f1a_8caf_7891_2b70_4e4a_8964
        );
    }

    #[test]
    fn the_first_line_of_an_email_wins() {
        let mut seen = FirstLines::default();
        assert_eq!(seen.earlier("a@x.dev", 2), None);
        assert_eq!(seen.earlier("b@x.dev", 3), None);
        assert_eq!(seen.earlier("a@x.dev", 5), Some(2));
        assert_eq!(seen.earlier("a@x.dev", 9), Some(2));
    }
}
