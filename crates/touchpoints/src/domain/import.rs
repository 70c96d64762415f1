//! A keyed bulk import (`Idempotency-Key`): a line sent without an id gets one derived from
//! the key and its line number, so that a retry of the same body writes the same touches
//! (no second effect) even where the first attempt stopped half-way.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// FNV-1a over 128 bits: a fingerprint that stays the same across builds and releases
/// (unlike std's hasher), to tell one body or key from another. Not a defence against a
/// deliberate collision: a client only ever collides with its own requests.
#[derive(Debug, Clone, Copy)]
pub struct Fingerprint(u128);

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint(0x6c62_272e_07bb_0142_62b8_2175_6295_c58d)
    }
}

impl Fingerprint {
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

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

/// The id of line `line` of the import keyed `key`: a UUIDv7 whose time is the touch's (so
/// ids keep following time) and whose other bits come from the key and the line.
pub fn line_id(key: &str, line: u64, occurred_at: DateTime<Utc>) -> Uuid {
    let mut f = Fingerprint::default();
    f.update(key.as_bytes());
    f.update(&[0xff]);
    f.update(&line.to_be_bytes());
    let bits = f.bytes();
    let mut rest = [0u8; 10];
    rest.copy_from_slice(&bits[..10]);
    let millis = u64::try_from(occurred_at.timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &rest).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ids_are_stable_v7_and_differ_by_key_and_line() {
        let at: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
        let id = line_id("k1", 7, at);
        assert_eq!(id, line_id("k1", 7, at));
        assert_eq!(id.get_version_num(), 7);
        assert_ne!(id, line_id("k1", 8, at));
        assert_ne!(id, line_id("k2", 7, at));
        let (secs, _) = id.get_timestamp().unwrap().to_unix();
        assert_eq!(secs as i64, at.timestamp());
    }

    #[test]
    fn fingerprints_tell_bodies_apart_and_ignore_chunking() {
        let of = |parts: &[&[u8]]| {
            let mut f = Fingerprint::default();
            parts.iter().for_each(|p| f.update(p));
            f.bytes()
        };
        assert_eq!(of(&[b"ab", b"c"]), of(&[b"abc"]));
        assert_ne!(of(&[b"abc"]), of(&[b"abd"]));
        // FNV-1a 128 of the empty input is its offset basis.
        assert_eq!(
            of(&[]),
            0x6c62_272e_07bb_0142_62b8_2175_6295_c58d_u128.to_be_bytes()
        );
        // The published FNV-1a 128 of "a".
        assert_eq!(
            of(&[b"a"]),
            0xd228_cb69_6f1a_8caf_7891_2b70_4e4a_8964_u128.to_be_bytes()
        );
    }
}
