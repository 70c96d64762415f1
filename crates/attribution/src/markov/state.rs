//! Chain states as packed keys: up to four channel ids in a `u64`, and the fast hasher that
//! maps them to state indexes.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Mixes a `u64` key fully (splitmix64's finaliser); std's SipHash is several times slower
/// for the million lookups a large input needs, and this one is deterministic too.
#[derive(Default, Clone, Copy)]
pub(super) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let mut z = (self.0 ^ n).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        self.0 = z ^ (z >> 31);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(super) type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

/// A state is up to four channel ids, each stored as `id + 1` in 16 bits, the most recent
/// in the lowest bits; 0 marks an empty slot, so shorter prefixes need no length.
pub(super) fn push_channel(key: u64, channel: u16, order: u8) -> u64 {
    let shifted = (key << 16) | (u64::from(channel) + 1);
    if order >= 4 {
        shifted
    } else {
        shifted & ((1u64 << (16 * u32::from(order))) - 1)
    }
}

/// The channels of a state, oldest first.
pub(super) fn key_channels(key: u64) -> impl Iterator<Item = u16> {
    (0..4)
        .rev()
        .map(move |slot| ((key >> (16 * slot)) & 0xffff) as u16)
        .filter(|&c| c != 0)
        .map(|c| c - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_keys_slide_and_decode() {
        let mut key = 0;
        for c in [3u16, 7, 9] {
            key = push_channel(key, c, 2);
        }
        assert_eq!(key_channels(key).collect::<Vec<_>>(), [7, 9]);
        let mut key = 0;
        for c in [0u16, 1, 2, 3, 4] {
            key = push_channel(key, c, 4);
        }
        assert_eq!(key_channels(key).collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(
            key_channels(push_channel(0, 65534, 1)).collect::<Vec<_>>(),
            [65534]
        );
    }
}
