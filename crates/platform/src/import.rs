//! Streamed, keyed imports (the touchpoints and leads bulk imports): splitting an NDJSON
//! byte stream into lines however its chunks fall, without holding more than one line (up
//! to a limit) at a time; a fingerprint of a body or key; and the ids a keyed import gives
//! the records of its lines, so that a retry of the same body writes the same records (no
//! second effect) even where the first attempt stopped half-way.

use chrono::{DateTime, Utc};
use uuid::Uuid;

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

    /// The fingerprint of `bytes` at once.
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

/// The bits of a keyed import's record id that come from the key and the line.
fn line_bits(key: &str, line: u64) -> [u8; 10] {
    let mut f = Fingerprint::default();
    f.update(key.as_bytes());
    f.update(&[0xff]);
    f.update(&line.to_be_bytes());
    let mut rest = [0u8; 10];
    rest.copy_from_slice(&f.bytes()[..10]);
    rest
}

/// The id of the record line `line` of the import keyed `key` creates: a UUIDv7 of `at` (so
/// ids keep following time) whose other bits come from the key and the line.
pub fn line_id(key: &str, line: u64, at: DateTime<Utc>) -> Uuid {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &line_bits(key, line)).into_uuid()
}

/// Whether `id` is the one line `line` of the import keyed `key` gives its record, whenever
/// that import ran: a retry's way of recognising what its first attempt stored.
pub fn is_line_id(id: Uuid, key: &str, line: u64) -> bool {
    let probe = line_id(key, line, DateTime::<Utc>::UNIX_EPOCH);
    // The first 48 bits are the time; the rest is version, variant and the line's bits.
    id.as_bytes()[6..] == probe.as_bytes()[6..]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("the line is longer than {0} bytes")]
    TooLong(usize),
}

/// Splits a byte stream into lines without ever holding more than one line (up to the limit).
/// A longer line is reported once and its bytes are dropped as they come.
pub struct Lines {
    carry: Vec<u8>,
    number: u64,
    overlong: bool,
    max: usize,
}

impl Lines {
    pub fn new(max: usize) -> Self {
        Lines {
            carry: Vec::new(),
            number: 0,
            overlong: false,
            max,
        }
    }

    pub fn push(&mut self, mut data: &[u8], f: &mut impl FnMut(u64, Result<&[u8], LineError>)) {
        while let Some(pos) = data.iter().position(|b| *b == b'\n') {
            let piece = &data[..pos];
            data = &data[pos + 1..];
            self.number += 1;
            if self.overlong || self.carry.len() + piece.len() > self.max {
                f(self.number, Err(LineError::TooLong(self.max)));
            } else if self.carry.is_empty() {
                f(self.number, Ok(trim_cr(piece)));
            } else {
                self.carry.extend_from_slice(piece);
                f(self.number, Ok(trim_cr(&self.carry)));
            }
            self.carry.clear();
            self.overlong = false;
        }
        if !self.overlong {
            if self.carry.len() + data.len() > self.max {
                self.overlong = true;
                self.carry = Vec::new();
            } else {
                self.carry.extend_from_slice(data);
            }
        }
    }

    /// The last line, when the body does not end with a newline.
    pub fn finish(&mut self, f: &mut impl FnMut(u64, Result<&[u8], LineError>)) {
        if self.overlong {
            self.number += 1;
            f(self.number, Err(LineError::TooLong(self.max)));
        } else if !self.carry.is_empty() {
            self.number += 1;
            f(self.number, Ok(trim_cr(&self.carry)));
        }
        self.carry.clear();
        self.overlong = false;
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(parts: &[&[u8]], max: usize) -> Vec<(u64, Result<Vec<u8>, LineError>)> {
        let mut out = Vec::new();
        let mut lines = Lines::new(max);
        let mut f = |n: u64, l: Result<&[u8], LineError>| out.push((n, l.map(<[u8]>::to_vec)));
        for p in parts {
            lines.push(p, &mut f);
        }
        lines.finish(&mut f);
        out
    }

    #[test]
    fn lines_split_across_chunks_and_crlf() {
        let got = split(&[b"ab", b"c\r\nde", b"f\n\ng"], 10);
        assert_eq!(
            got,
            vec![
                (1, Ok(b"abc".to_vec())),
                (2, Ok(b"def".to_vec())),
                (3, Ok(b"".to_vec())),
                (4, Ok(b"g".to_vec())),
            ]
        );
    }

    #[test]
    fn an_overlong_line_is_reported_once_and_the_next_line_survives() {
        let got = split(&[b"0123456", b"789abc", b"def\nok\n", b"0123456789ab"], 8);
        assert_eq!(
            got,
            vec![
                (1, Err(LineError::TooLong(8))),
                (2, Ok(b"ok".to_vec())),
                (3, Err(LineError::TooLong(8))),
            ]
        );
    }

    #[test]
    fn line_ids_are_v7_of_their_time_and_recognised_at_any_time() {
        let at: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
        let later: DateTime<Utc> = "2026-03-02T10:00:00Z".parse().unwrap();
        let id = line_id("k1", 7, at);
        assert_eq!(id, line_id("k1", 7, at));
        assert_eq!(id.get_version_num(), 7);
        let (secs, _) = id.get_timestamp().unwrap().to_unix();
        assert_eq!(secs as i64, at.timestamp());
        assert_ne!(id, line_id("k1", 7, later));
        assert_ne!(id, line_id("k1", 8, at));
        assert_ne!(id, line_id("k2", 7, at));
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
        // FNV-1a 128 of the empty input is its offset basis.
        assert_eq!(
            Fingerprint::of(b""),
            0x6c62_272e_07bb_0142_62b8_2175_6295_c58d
        );
        // The published FNV-1a 128 of "a".
        assert_eq!(
            Fingerprint::of(b"a"),
            0xd228_cb69_6f1a_8caf_7891_2b70_4e4a_8964
        );
    }
}
