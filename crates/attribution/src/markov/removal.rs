//! Removal effects: how much conversion and value the chain loses without each channel.

use super::DENSE_FALLBACK_STATES;
use super::chain::Chain;
use crate::Error;

/// Removal effects per channel id, for conversions and for value.
pub(super) fn removal_effects(chain: &Chain, channels: usize) -> Result<Vec<(f64, f64)>, Error> {
    let n = chain.len();
    let (mut x, mut y) = (vec![0.0; n], vec![0.0; n]);
    let base = chain.absorb(&vec![false; n], &mut x, &mut y, DENSE_FALLBACK_STATES)?;
    let effect = |removed: f64, base: f64| {
        if base > 0.0 {
            (1.0 - removed / base).max(0.0)
        } else {
            0.0
        }
    };
    let one = |c: usize| -> Result<(f64, f64), Error> {
        let dead = chain.states_with(c as u16);
        if !dead.contains(&true) {
            // Only on paths with neither conversions nor nulls: no state to remove.
            return Ok((0.0, 0.0));
        }
        // The base solution bounds the removed one from above: a warm start.
        let (mut xc, mut yc) = (x.clone(), y.clone());
        let removed = chain.absorb(&dead, &mut xc, &mut yc, DENSE_FALLBACK_STATES)?;
        Ok((
            effect(removed.conversion, base.conversion),
            effect(removed.value, base.value),
        ))
    };
    // Two workers at most: the machine budget is two cores. Each solve is independent and
    // deterministic, so the split does not change a bit of the result.
    if channels < 4 || n < 256 {
        return (0..channels).map(one).collect();
    }
    let (evens, odds) = std::thread::scope(|scope| {
        let odd = scope.spawn(|| (1..channels).step_by(2).map(&one).collect::<Vec<_>>());
        let even: Vec<_> = (0..channels).step_by(2).map(&one).collect();
        (even, odd.join().expect("removal solve panicked"))
    });
    let (mut evens, mut odds) = (evens.into_iter(), odds.into_iter());
    (0..channels)
        .map(|c| {
            if c % 2 == 0 {
                evens.next()
            } else {
                odds.next()
            }
            .expect("one result per channel")
        })
        .collect()
}
