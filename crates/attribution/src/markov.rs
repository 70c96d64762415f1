//! Markov-chain attribution by removal effects, with absorption probabilities solved from the
//! linear system rather than simulated.
//!
//! Construction (as ChannelAttribution and DP6's implementation do): a path `c1 > … > cn`
//! with `conversions` and `nulls` gives the transitions `(start) → s1 → … → sn`, each
//! weighted by `conversions + nulls`, then `sn → (conversion)` weighted by `conversions` and
//! `sn → (null)` weighted by `nulls`. For order `k` the states are the windows of `k`
//! consecutive channels, `(c1..ck) → (c2..ck+1) → … → (cn-k+1..cn)`, and a path shorter than
//! `k` is a single state of all its channels: exactly ChannelAttribution's construction (its
//! `markov_model_cpp`), so the two agree up to its simulation noise. (Starting every path
//! with the prefix states `(c1)`, `(c1,c2)`, … instead gives the same absorption
//! probabilities and removal effects: a prefix state leads only into windows that contain
//! its channels, with the same path counts; it only lengthens the transition matrix.) Paths
//! with neither conversions nor nulls add nothing.
//!
//! Repeated states (`email > email` at order 1) are kept as self-loops, and the transition
//! matrix shows them. ChannelAttribution drops them instead; that changes nothing else,
//! because a self-loop only delays absorption: `x_s = (b_s + Σ_{t≠s} P_st x_t) / (1 - P_ss)`
//! is the equation of the chain without the loop, renormalised.
//!
//! Removing channel `c` turns every state whose tuple contains `c` into `(null)`. The removal
//! effect is `1 - P(conversion | c removed) / P(conversion)`, clamped at 0 against rounding,
//! and a channel's credit is its removal effect over the sum of all removal effects, times the
//! total conversions.
//!
//! Value: each `→ (conversion)` transition also carries the value of the conversions that
//! took it, so a visit to state `s` earns `value(s → conversion) / journeys leaving s`. The
//! expected value earned from `(start)` solves the same linear system with that reward in
//! place of the conversion probability; value removal effects and value credits follow as for
//! conversions. This is the exact counterpart of ChannelAttribution's simulated value.
//!
//! Solving: Gauss–Seidel over states ordered by the earliest path position they occur at,
//! swept deepest first so that mostly-forward journeys converge in few sweeps. Self-loops are
//! solved exactly per row. A solve stops when the relative residual `‖b + Qx − x‖∞ / ‖b‖∞`
//! is below [`TOLERANCE`], for conversions and for value alike. Chains that mix slowly (journeys
//! that cycle between channels hundreds of times) can exhaust [`MAX_SWEEPS`]; then a chain
//! of at most [`DENSE_FALLBACK_STATES`] states is solved directly by Gaussian elimination
//! with partial pivoting, and a larger one fails with [`Error::NotConverged`].

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::Error;
use crate::input::{CONVERSION, NULL, PATH_SEPARATOR, PathSet, START};
use crate::model::MarkovOrder;
use crate::report::{ChannelCredit, ModelResult, RemovalEffect, Transition};

/// Largest relative residual `‖b + Qx − x‖∞ / ‖b‖∞` a solve may stop at.
pub const TOLERANCE: f64 = 1e-13;
/// Sweeps after which Gauss–Seidel gives up.
pub const MAX_SWEEPS: usize = 50_000;
/// Largest chain solved directly when Gauss–Seidel gives up (a dense solve per removal costs
/// `n³/3`, about 0.05 s at this size).
pub const DENSE_FALLBACK_STATES: usize = 512;

/// Mixes a `u64` key fully (splitmix64's finaliser); std's SipHash is several times slower
/// for the million lookups a large input needs, and this one is deterministic too.
#[derive(Default, Clone, Copy)]
struct KeyHasher(u64);

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

type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

/// A state is up to four channel ids, each stored as `id + 1` in 16 bits, the most recent
/// in the lowest bits; 0 marks an empty slot, so shorter prefixes need no length.
fn push_channel(key: u64, channel: u16, order: u8) -> u64 {
    let shifted = (key << 16) | (u64::from(channel) + 1);
    if order >= 4 {
        shifted
    } else {
        shifted & ((1u64 << (16 * u32::from(order))) - 1)
    }
}

/// The channels of a state, oldest first.
fn key_channels(key: u64) -> impl Iterator<Item = u16> {
    (0..4)
        .rev()
        .map(move |slot| ((key >> (16 * slot)) & 0xffff) as u16)
        .filter(|&c| c != 0)
        .map(|c| c - 1)
}

/// The transient part of the chain in sparse form, with its exits to the absorbing states.
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    order: u8,
    /// State keys by state index; indexes are in order of earliest position in a path.
    keys: Vec<u64>,
    /// `P((start) → s)`.
    start: Vec<f64>,
    /// Transient-to-transient probabilities without self-loops, as compressed rows.
    row_start: Vec<usize>,
    cols: Vec<u32>,
    probs: Vec<f64>,
    self_loop: Vec<f64>,
    to_conversion: Vec<f64>,
    to_null: Vec<f64>,
    /// Value earned per visit, scaled so that the largest mean value of a conversion is 1.
    reward: Vec<f64>,
    /// `‖to_conversion‖∞` and `‖reward‖∞`, which residuals are measured against.
    scale: (f64, f64),
}

/// What a solve finds from `(start)`: conversion probability and (scaled) expected value.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Absorbed {
    conversion: f64,
    value: f64,
}

impl Chain {
    pub fn build(paths: &PathSet, order: MarkovOrder) -> Chain {
        let order = order.get();
        let mut ids: KeyMap<u32> = KeyMap::default();
        let mut keys: Vec<u64> = Vec::new();
        let mut depth: Vec<usize> = Vec::new();
        let mut start_count: Vec<f64> = Vec::new();
        let mut conversions: Vec<f64> = Vec::new();
        let mut nulls: Vec<f64> = Vec::new();
        let mut value: Vec<f64> = Vec::new();
        let mut edge_ids: KeyMap<u32> = KeyMap::default();
        let mut edges: Vec<(u32, u32, f64)> = Vec::new();

        for p in paths.iter() {
            let weight = p.conversions + p.nulls;
            if weight <= 0.0 {
                continue;
            }
            let mut key = 0u64;
            let mut previous: Option<u32> = None;
            // The first window ends here; a path shorter than the order is one state.
            let first = usize::from(order).min(p.channels.len()) - 1;
            for (at, &channel) in p.channels.iter().enumerate() {
                key = push_channel(key, channel, order);
                let Some(position) = at.checked_sub(first) else {
                    continue;
                };
                let state = *ids.entry(key).or_insert_with(|| {
                    keys.push(key);
                    depth.push(position);
                    start_count.push(0.0);
                    conversions.push(0.0);
                    nulls.push(0.0);
                    value.push(0.0);
                    (keys.len() - 1) as u32
                });
                depth[state as usize] = depth[state as usize].min(position);
                match previous {
                    None => start_count[state as usize] += weight,
                    Some(from) => {
                        let edge_key = (u64::from(from) << 32) | u64::from(state);
                        let e = *edge_ids.entry(edge_key).or_insert_with(|| {
                            edges.push((from, state, 0.0));
                            (edges.len() - 1) as u32
                        });
                        edges[e as usize].2 += weight;
                    }
                }
                previous = Some(state);
            }
            let last = previous.expect("paths have at least one channel") as usize;
            conversions[last] += p.conversions;
            nulls[last] += p.nulls;
            value[last] += p.value;
        }

        // Renumber states by earliest position (ties by first occurrence).
        let n = keys.len();
        let mut order_of: Vec<u32> = (0..n as u32).collect();
        order_of.sort_by_key(|&s| (depth[s as usize], s));
        let mut index = vec![0u32; n];
        for (new, &old) in order_of.iter().enumerate() {
            index[old as usize] = new as u32;
        }
        let permute = |v: &[f64]| -> Vec<f64> { order_of.iter().map(|&s| v[s as usize]).collect() };

        // Leaving counts per state, summed in a fixed order: edges in first-seen order, then
        // conversions, then nulls.
        let mut leaving = vec![0.0; n];
        for &(from, _, count) in &edges {
            leaving[from as usize] += count;
        }
        for s in 0..n {
            leaving[s] += conversions[s];
            leaving[s] += nulls[s];
        }

        let mut self_loop = vec![0.0; n];
        let mut sparse: Vec<(u32, u32, f64)> = Vec::with_capacity(edges.len());
        for &(from, to, count) in &edges {
            let p = count / leaving[from as usize];
            if from == to {
                self_loop[index[from as usize] as usize] = p;
            } else {
                sparse.push((index[from as usize], index[to as usize], p));
            }
        }
        sparse.sort_unstable_by_key(|&(from, to, _)| (from, to));
        let mut row_start = vec![0usize; n + 1];
        for &(from, _, _) in &sparse {
            row_start[from as usize + 1] += 1;
        }
        for s in 0..n {
            row_start[s + 1] += row_start[s];
        }

        let start_total: f64 = start_count.iter().sum();
        let scale = (0..n)
            .filter(|&s| conversions[s] > 0.0)
            .map(|s| value[s] / conversions[s])
            .fold(0.0, f64::max);
        let per_state = |v: &[f64], denominator: f64| -> Vec<f64> {
            (0..n)
                .map(|s| {
                    if v[s] > 0.0 {
                        v[s] / leaving[s] / denominator
                    } else {
                        0.0
                    }
                })
                .collect()
        };
        let to_conversion = permute(&per_state(&conversions, 1.0));
        let reward = permute(&per_state(&value, if scale > 0.0 { scale } else { 1.0 }));
        let norm = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
        Chain {
            order,
            scale: (norm(&to_conversion), norm(&reward)),
            keys: order_of.iter().map(|&s| keys[s as usize]).collect(),
            start: permute(&start_count)
                .into_iter()
                .map(|c| c / start_total)
                .collect(),
            row_start,
            cols: sparse.iter().map(|e| e.1).collect(),
            probs: sparse.iter().map(|e| e.2).collect(),
            self_loop,
            to_conversion,
            to_null: permute(&per_state(&nulls, 1.0)),
            reward,
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Which states hold `channel`, i.e. become `(null)` when it is removed.
    fn states_with(&self, channel: u16) -> Vec<bool> {
        self.keys
            .iter()
            .map(|&k| key_channels(k).any(|c| c == channel))
            .collect()
    }

    /// Absorption from `(start)` with the `dead` states absorbing as `(null)`: Gauss–Seidel,
    /// or a direct solve if that gives up on a chain of at most `dense_limit` states.
    fn absorb(
        &self,
        dead: &[bool],
        x: &mut [f64],
        y: &mut [f64],
        dense_limit: usize,
    ) -> Result<Absorbed, Error> {
        match self.gauss_seidel(dead, x, y) {
            Err(Error::NotConverged { .. }) if self.len() <= dense_limit => {
                self.direct(dead, x, y);
                Ok(self.at_start(x, y))
            }
            other => other,
        }
    }

    fn at_start(&self, x: &[f64], y: &[f64]) -> Absorbed {
        let absorbed = |v: &[f64]| -> f64 { self.start.iter().zip(v).map(|(p, v)| p * v).sum() };
        Absorbed {
            conversion: absorbed(x),
            value: absorbed(y),
        }
    }

    /// Solves `(I - Q) [x y] = [b_conversion b_value]` densely, by Gaussian elimination with
    /// partial pivoting.
    fn direct(&self, dead: &[bool], x: &mut [f64], y: &mut [f64]) {
        let n = self.len();
        let width = n + 2;
        let mut m = vec![0.0; n * width];
        for s in 0..n {
            let row = &mut m[s * width..(s + 1) * width];
            row[s] = 1.0;
            if dead[s] {
                continue;
            }
            row[s] -= self.self_loop[s];
            for e in self.row_start[s]..self.row_start[s + 1] {
                row[self.cols[e] as usize] -= self.probs[e];
            }
            row[n] = self.to_conversion[s];
            row[n + 1] = self.reward[s];
        }
        for col in 0..n {
            let pivot = (col..n)
                .max_by(|&i, &j| {
                    m[i * width + col]
                        .abs()
                        .total_cmp(&m[j * width + col].abs())
                })
                .expect("non-empty range");
            if pivot != col {
                for k in 0..width {
                    m.swap(col * width + k, pivot * width + k);
                }
            }
            let p = m[col * width + col];
            for row in col + 1..n {
                let f = m[row * width + col] / p;
                if f != 0.0 {
                    for k in col..width {
                        m[row * width + k] -= f * m[col * width + k];
                    }
                }
            }
        }
        for row in (0..n).rev() {
            let (mut a, mut b) = (m[row * width + n], m[row * width + n + 1]);
            for k in row + 1..n {
                a -= m[row * width + k] * x[k];
                b -= m[row * width + k] * y[k];
            }
            x[row] = a / m[row * width + row];
            y[row] = b / m[row * width + row];
        }
    }

    /// Solves `x = b + Qx` for conversion probability and expected value at once by
    /// Gauss–Seidel, with the `dead` states absorbing as `(null)`. `x` and `y` hold the
    /// starting guess.
    fn gauss_seidel(&self, dead: &[bool], x: &mut [f64], y: &mut [f64]) -> Result<Absorbed, Error> {
        let n = self.len();
        for s in 0..n {
            if dead[s] {
                x[s] = 0.0;
                y[s] = 0.0;
            }
        }
        let mut sweeps = 0;
        let mut residual = f64::INFINITY;
        while sweeps < MAX_SWEEPS {
            sweeps += 1;
            let (mut change_x, mut change_y): (f64, f64) = (0.0, 0.0);
            for s in (0..n).rev() {
                if dead[s] {
                    continue;
                }
                let (mut a, mut b) = (self.to_conversion[s], self.reward[s]);
                for e in self.row_start[s]..self.row_start[s + 1] {
                    let t = self.cols[e] as usize;
                    a += self.probs[e] * x[t];
                    b += self.probs[e] * y[t];
                }
                let stay = 1.0 - self.self_loop[s];
                let (a, b) = (a / stay, b / stay);
                change_x = change_x.max((a - x[s]).abs());
                change_y = change_y.max((b - y[s]).abs());
                x[s] = a;
                y[s] = b;
            }
            // A sweep that barely moves is a candidate; the residual decides.
            if change_x <= TOLERANCE * self.scale.0 && change_y <= TOLERANCE * self.scale.1 {
                residual = self.residual(dead, x, y);
                if residual <= TOLERANCE {
                    return Ok(self.at_start(x, y));
                }
            }
        }
        if residual.is_infinite() {
            residual = self.residual(dead, x, y);
        }
        Err(Error::NotConverged {
            order: self.order,
            sweeps,
            residual,
        })
    }

    /// The larger of the two relative residuals; 0 for a right-hand side that is all zero
    /// (then x = 0 is exact and the solve starts there or reaches it in one sweep).
    fn residual(&self, dead: &[bool], x: &[f64], y: &[f64]) -> f64 {
        let (mut worst_x, mut worst_y): (f64, f64) = (0.0, 0.0);
        for s in (0..self.len()).filter(|&s| !dead[s]) {
            let (mut a, mut b) = (self.to_conversion[s], self.reward[s]);
            for e in self.row_start[s]..self.row_start[s + 1] {
                let t = self.cols[e] as usize;
                a += self.probs[e] * x[t];
                b += self.probs[e] * y[t];
            }
            a += self.self_loop[s] * x[s] - x[s];
            b += self.self_loop[s] * y[s] - y[s];
            worst_x = worst_x.max(a.abs());
            worst_y = worst_y.max(b.abs());
        }
        let relative = |worst: f64, scale: f64| if scale > 0.0 { worst / scale } else { worst };
        relative(worst_x, self.scale.0).max(relative(worst_y, self.scale.1))
    }

    fn label(&self, key: u64, names: &[String]) -> String {
        let parts: Vec<&str> = key_channels(key)
            .map(|c| names[c as usize].as_str())
            .collect();
        parts.join(PATH_SEPARATOR)
    }

    /// Every transition with a positive probability, sorted by `(from, to)` label.
    fn transitions(&self, names: &[String]) -> Vec<Transition> {
        let labels: Vec<String> = self.keys.iter().map(|&k| self.label(k, names)).collect();
        let mut out = Vec::new();
        let mut push = |from: &str, to: &str, probability: f64| {
            if probability > 0.0 {
                out.push(Transition {
                    from: from.to_owned(),
                    to: to.to_owned(),
                    probability,
                });
            }
        };
        for (s, &p) in self.start.iter().enumerate() {
            push(START, &labels[s], p);
        }
        for s in 0..self.len() {
            for e in self.row_start[s]..self.row_start[s + 1] {
                push(&labels[s], &labels[self.cols[e] as usize], self.probs[e]);
            }
            push(&labels[s], &labels[s], self.self_loop[s]);
            push(&labels[s], CONVERSION, self.to_conversion[s]);
            push(&labels[s], NULL, self.to_null[s]);
        }
        out.sort_unstable_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
        out
    }
}

/// Removal effects per channel id, for conversions and for value.
fn removal_effects(chain: &Chain, channels: usize) -> Result<Vec<(f64, f64)>, Error> {
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

/// Markov attribution of `paths` at `order`, with removal effects and the transition matrix.
pub(crate) fn attribute(paths: &PathSet, order: MarkovOrder) -> Result<ModelResult, Error> {
    let names = paths.channels();
    let chain = Chain::build(paths, order);
    let effects = removal_effects(&chain, names.len())?;
    let share = |total: f64, pick: fn(&(f64, f64)) -> f64| -> Vec<f64> {
        let sum: f64 = effects.iter().map(pick).sum();
        effects
            .iter()
            .map(|e| {
                if sum > 0.0 {
                    pick(e) / sum * total
                } else {
                    0.0
                }
            })
            .collect()
    };
    let conversions = share(paths.total_conversions(), |e| e.0);
    let value = share(paths.total_value(), |e| e.1);
    Ok(ModelResult {
        model: "markov",
        order: Some(order.get()),
        credits: names
            .iter()
            .enumerate()
            .map(|(c, name)| ChannelCredit {
                channel: name.clone(),
                conversions: conversions[c],
                value: value[c],
            })
            .collect(),
        removal_effects: Some(
            names
                .iter()
                .zip(&effects)
                .map(|(name, &(conversion, value))| RemovalEffect {
                    channel: name.clone(),
                    conversion,
                    value,
                })
                .collect(),
        ),
        transition_matrix: Some(chain.transitions(names)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::PathStat;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeMap;

    fn stat(path: &str, conversions: f64, value: f64, nulls: f64) -> PathStat {
        PathStat {
            channels: path.split(" > ").map(String::from).collect(),
            conversions,
            value,
            nulls,
        }
    }

    fn run(rows: &[PathStat], order: i64) -> ModelResult {
        attribute(
            &PathSet::new(rows).unwrap(),
            MarkovOrder::new(order).unwrap(),
        )
        .unwrap()
    }

    fn by_channel(result: &ModelResult) -> BTreeMap<String, (f64, f64, f64, f64)> {
        let effects = result.removal_effects.as_ref().unwrap();
        result
            .credits
            .iter()
            .zip(effects)
            .map(|(c, e)| {
                assert_eq!(c.channel, e.channel);
                (
                    c.channel.clone(),
                    (c.conversions, c.value, e.conversion, e.value),
                )
            })
            .collect()
    }

    fn near(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }

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

    /// `a > b > a` converts once and `b` fails once. Order 1: from a, b or conversion
    /// with 1/2 each; from b, a or null with 1/2 each. x_a = 1/2 + x_b/2, x_b = x_a/2, so
    /// x_a = 2/3, x_b = 1/3 and P = (2/3 + 1/3)/2 = 1/2. Without a, P = 0 (effect 1); without
    /// b, x_a = 1/2 and P = 1/4 (effect 1/2). Credits 2/3 and 1/3.
    #[test]
    fn a_cycle_worked_by_hand() {
        let result = run(
            &[stat("a > b > a", 1.0, 30.0, 0.0), stat("b", 0.0, 0.0, 1.0)],
            1,
        );
        let t = by_channel(&result);
        near(t["a"].2, 1.0);
        near(t["b"].2, 0.5);
        near(t["a"].0, 2.0 / 3.0);
        near(t["b"].0, 1.0 / 3.0);
        // A single converting state: value effects equal conversion effects.
        near(t["a"].3, 1.0);
        near(t["b"].3, 0.5);
        near(t["a"].1, 20.0);
        near(t["b"].1, 10.0);
        let matrix: Vec<(String, String, f64)> = result
            .transition_matrix
            .unwrap()
            .into_iter()
            .map(|t| (t.from, t.to, t.probability))
            .collect();
        let row = |f: &str, to: &str, p: f64| (f.to_string(), to.to_string(), p);
        assert_eq!(
            matrix,
            [
                row("(start)", "a", 0.5),
                row("(start)", "b", 0.5),
                row("a", "(conversion)", 0.5),
                row("a", "b", 0.5),
                row("b", "(null)", 0.5),
                row("b", "a", 0.5),
            ]
        );
    }

    /// `a` converts 3 times worth 10 each and fails once; `b > a` converts once worth 100;
    /// `b` fails twice. Order 1, leaving counts: a 5 (3 conv, 1 null from `a`, 1 conv from
    /// `b > a`), b 3 (1 to a, 2 null). x_a = 4/5, x_b = (1/3)(4/5) = 4/15. Start: a 4/7,
    /// b 3/7. P = (4/7)(4/5) + (3/7)(4/15) = 16/35 + 4/35 = 20/35 = 4/7. Without a: 0.
    /// Without b: (4/7)(4/5) = 16/35, effect 1 - (16/35)/(20/35) = 1/5.
    ///
    /// Value earned per visit to a: 130/5 = 26. E = (4/7)*26 + (3/7)(1/3)*26 = 104/7 + 26/7
    /// = 130/7. Without b: 104/7, effect 1/5. Equal here because every conversion happens
    /// at a; the next test separates them.
    #[test]
    fn conversion_and_value_effects_worked_by_hand() {
        let t = by_channel(&run(
            &[
                stat("a", 3.0, 30.0, 1.0),
                stat("b > a", 1.0, 100.0, 0.0),
                stat("b", 0.0, 0.0, 2.0),
            ],
            1,
        ));
        near(t["a"].2, 1.0);
        near(t["b"].2, 0.2);
        near(t["a"].0, 4.0 / 1.2);
        near(t["b"].0, 0.8 / 1.2);
        near(t["a"].3, 1.0);
        near(t["b"].3, 0.2);
        near(t["a"].1, 130.0 / 1.2);
    }

    /// `a` converts once worth 10; `b` converts once worth 90; `a > b` fails once.
    /// Order 1: start a 2/3, b 1/3; a leaves 2 (1 conversion, 1 to b), b leaves 2
    /// (1 conversion, 1 null). x_b = 1/2, x_a = 1/2 + 1/4 = 3/4, P = 1/2 + 1/6 = 2/3.
    /// Without a: P = 1/6, effect 3/4. Without b: x_a = 1/2, P = 1/3, effect 1/2.
    /// Conversion credits 2 * 0.75/1.25 = 1.2 and 0.8.
    /// Value per visit: a 10/2 = 5, b 90/2 = 45. y_b = 45, y_a = 5 + 45/2 = 27.5,
    /// E = 55/3 + 15 = 100/3. Without a: E = 15, effect 0.55. Without b: y_a = 5, E = 10/3,
    /// effect 0.9. Value credits 100 * 0.55/1.45 and 100 * 0.9/1.45.
    #[test]
    fn value_effects_differ_from_conversion_effects() {
        let t = by_channel(&run(
            &[
                stat("a", 1.0, 10.0, 0.0),
                stat("b", 1.0, 90.0, 0.0),
                stat("a > b", 0.0, 0.0, 1.0),
            ],
            1,
        ));
        near(t["a"].2, 0.75);
        near(t["b"].2, 0.5);
        near(t["a"].0, 1.2);
        near(t["b"].0, 0.8);
        near(t["a"].3, 0.55);
        near(t["b"].3, 0.9);
        near(t["a"].1, 55.0 / 1.45);
        near(t["b"].1, 90.0 / 1.45);
    }

    /// `a > x^(k-1) > c` converts and `d > x^(k-1) > e` fails. Below order k the state of
    /// `k - 1` x's forgets where the journey began, so d shares in the conversion; at order
    /// k the chain is deterministic: P = 1/2, removing a, x or c gives 0, removing d or e
    /// changes nothing, and a, x, c get a third each.
    #[test]
    fn higher_orders_remember_the_start() {
        for k in 2..=4usize {
            let middle = vec!["x"; k - 1].join(" > ");
            let rows = [
                stat(&format!("a > {middle} > c"), 1.0, 10.0, 0.0),
                stat(&format!("d > {middle} > e"), 0.0, 0.0, 1.0),
            ];
            let exact = by_channel(&run(&rows, k as i64));
            for c in ["a", "x", "c"] {
                near(exact[c].2, 1.0);
                near(exact[c].0, 1.0 / 3.0);
                near(exact[c].1, 10.0 / 3.0);
            }
            for c in ["d", "e"] {
                near(exact[c].2, 0.0);
                near(exact[c].0, 0.0);
            }
            // One order less: after the x's the chain converts with 1/2 whichever way it
            // came, so P = 1/2 still, but removing d now halves it (P = 1/4, effect 1/2),
            // and so does removing a. Removing x or c stops every conversion.
            let blurred = by_channel(&run(&rows, k as i64 - 1));
            near(blurred["d"].2, 0.5);
            near(blurred["a"].2, 0.5);
            near(blurred["x"].2, 1.0);
            near(blurred["c"].2, 1.0);
            near(blurred["e"].2, 0.0);
        }
    }

    #[test]
    fn higher_order_states_are_labelled_with_their_channels() {
        // A path shorter than the order is one state of all its channels.
        let result = run(
            &[
                stat("email > paid_search > email", 1.0, 5.0, 0.0),
                stat("paid_search", 1.0, 5.0, 0.0),
            ],
            2,
        );
        let matrix = result.transition_matrix.unwrap();
        let rows: Vec<(&str, &str)> = matrix
            .iter()
            .map(|t| (t.from.as_str(), t.to.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                ("(start)", "email > paid_search"),
                ("(start)", "paid_search"),
                ("email > paid_search", "paid_search > email"),
                ("paid_search", "(conversion)"),
                ("paid_search > email", "(conversion)"),
            ]
        );
        let probabilities: Vec<f64> = matrix.iter().map(|t| t.probability).collect();
        assert_eq!(probabilities, [0.5, 0.5, 1.0, 1.0, 1.0]);
    }

    #[test]
    fn nothing_converted_means_no_credit() {
        let t = by_channel(&run(&[stat("a > b", 0.0, 0.0, 4.0)], 1));
        assert_eq!(t["a"], (0.0, 0.0, 0.0, 0.0));
        assert_eq!(t["b"], (0.0, 0.0, 0.0, 0.0));
    }

    /// `a > b` converts once; `(a > b)^2000` fails 5000 times. From b the chain returns to
    /// a with probability about 0.9995, so Gauss–Seidel contracts by that per sweep and
    /// cannot reach 1e-13 in MAX_SWEEPS. Order 1, with c = P(b → conversion) and
    /// r = P(b → a): x_a = x_b = c / (1 - r).
    #[test]
    fn a_slow_chain_falls_back_to_a_direct_solve_or_reports_non_convergence() {
        let rows = [
            stat("a > b", 1.0, 1.0, 0.0),
            stat(&vec!["a > b"; 2_000].join(" > "), 0.0, 0.0, 5_000.0),
        ];
        let paths = PathSet::new(&rows).unwrap();
        let chain = Chain::build(&paths, MarkovOrder::new(1).unwrap());
        let fresh = || (vec![0.0; 2], vec![0.0; 2]);
        let (mut x, mut y) = fresh();
        match chain.gauss_seidel(&[false; 2], &mut x, &mut y) {
            Err(Error::NotConverged { sweeps, order, .. }) => {
                assert_eq!((sweeps, order), (MAX_SWEEPS, 1))
            }
            other => panic!("expected NotConverged, got {other:?}"),
        }
        let (mut x, mut y) = fresh();
        let err = chain.absorb(&[false; 2], &mut x, &mut y, 1).unwrap_err();
        assert!(err.to_string().contains("did not converge"), "{err}");

        let (mut x, mut y) = fresh();
        let found = chain.absorb(&[false; 2], &mut x, &mut y, 2).unwrap();
        let leaving_b = 5_000.0 * 1_999.0 + 1.0 + 5_000.0;
        let (c, r) = (1.0 / leaving_b, 5_000.0 * 1_999.0 / leaving_b);
        let expected = c / (1.0 - r);
        assert!((found.conversion - expected).abs() < 1e-12 * expected);
        // The whole model then runs: removing either channel removes every conversion.
        let t = by_channel(&run(&rows, 1));
        near(t["a"].2, 1.0);
        near(t["b"].2, 1.0);
    }

    /// Gaussian elimination with partial pivoting on `a x = b`, `a` dense and square.
    fn gauss(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
        let n = b.len();
        for col in 0..n {
            let pivot = (col..n)
                .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
                .unwrap();
            a.swap(col, pivot);
            b.swap(col, pivot);
            assert!(a[col][col].abs() > 1e-300, "singular system");
            for row in col + 1..n {
                let f = a[row][col] / a[col][col];
                if f != 0.0 {
                    let (top, bottom) = a.split_at_mut(row);
                    for (target, source) in bottom[0][col..].iter_mut().zip(&top[col][col..]) {
                        *target -= f * source;
                    }
                    b[row] -= f * b[col];
                }
            }
        }
        let mut x = vec![0.0; n];
        for row in (0..n).rev() {
            let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
            x[row] = (b[row] - s) / a[row][row];
        }
        x
    }

    /// Absorption from (start) by a dense direct solve of the chain's own matrix.
    fn dense_absorption(chain: &Chain, dead: &[bool]) -> (f64, f64) {
        let n = chain.len();
        let mut a = vec![vec![0.0; n]; n];
        let (mut bc, mut bv) = (vec![0.0; n], vec![0.0; n]);
        for s in 0..n {
            a[s][s] = 1.0;
            if dead[s] {
                continue;
            }
            a[s][s] -= chain.self_loop[s];
            for e in chain.row_start[s]..chain.row_start[s + 1] {
                a[s][chain.cols[e] as usize] -= chain.probs[e];
            }
            bc[s] = chain.to_conversion[s];
            bv[s] = chain.reward[s];
        }
        let x = gauss(a.clone(), bc);
        let y = gauss(a, bv);
        let from_start = |v: &[f64]| chain.start.iter().zip(v).map(|(p, v)| p * v).sum();
        (from_start(&x), from_start(&y))
    }

    /// An independent implementation from the raw paths: states as channel-name tuples in a
    /// BTreeMap, a dense matrix, Gaussian elimination. Returns removal effects by channel.
    fn reference_effects(rows: &[PathStat], order: usize) -> BTreeMap<String, (f64, f64)> {
        type State = Vec<String>;
        let mut counts: BTreeMap<(Option<State>, String), f64> = BTreeMap::new();
        let mut states: BTreeMap<State, usize> = BTreeMap::new();
        let mut exit: BTreeMap<State, (f64, f64, f64)> = BTreeMap::new(); // conv, null, value
        for r in rows {
            if r.conversions + r.nulls <= 0.0 {
                continue;
            }
            let mut previous: Option<State> = None;
            let n = r.channels.len();
            let windows: Vec<State> = if n <= order {
                vec![r.channels.clone()]
            } else {
                r.channels.windows(order).map(<[String]>::to_vec).collect()
            };
            for state in windows {
                let n = states.len();
                states.entry(state.clone()).or_insert(n);
                *counts
                    .entry((previous.clone(), state.join(" > ")))
                    .or_insert(0.0) += r.conversions + r.nulls;
                previous = Some(state);
            }
            let e = exit.entry(previous.unwrap()).or_insert((0.0, 0.0, 0.0));
            e.0 += r.conversions;
            e.1 += r.nulls;
            e.2 += r.value;
        }
        let by_label: BTreeMap<String, usize> =
            states.iter().map(|(s, &i)| (s.join(" > "), i)).collect();
        let n = states.len();
        let mut out_total = vec![0.0; n];
        let mut start = vec![0.0; n];
        for ((from, to), &c) in &counts {
            match from {
                None => start[by_label[to]] += c,
                Some(f) => out_total[states[f]] += c,
            }
        }
        for (s, e) in &exit {
            out_total[states[s]] += e.0 + e.1;
        }
        let start_total: f64 = start.iter().sum();
        let absorb = |removed: Option<&str>| -> (f64, f64) {
            let dead: Vec<bool> = {
                let mut d = vec![false; n];
                for (s, &i) in &states {
                    d[i] = removed.is_some_and(|r| s.iter().any(|c| c == r));
                }
                d
            };
            let mut a = vec![vec![0.0; n]; n];
            let (mut bc, mut bv) = (vec![0.0; n], vec![0.0; n]);
            for (i, row) in a.iter_mut().enumerate() {
                row[i] = 1.0;
            }
            for ((from, to), &c) in &counts {
                if let Some(f) = from {
                    let (i, j) = (states[f], by_label[to]);
                    if !dead[i] {
                        a[i][j] -= c / out_total[i];
                    }
                }
            }
            for (s, e) in &exit {
                let i = states[s];
                if !dead[i] {
                    bc[i] = e.0 / out_total[i];
                    bv[i] = e.2 / out_total[i];
                }
            }
            let x = gauss(a.clone(), bc);
            let y = gauss(a, bv);
            let p: f64 = (0..n).map(|i| start[i] / start_total * x[i]).sum();
            let v: f64 = (0..n).map(|i| start[i] / start_total * y[i]).sum();
            (p, v)
        };
        let (p, v) = absorb(None);
        let mut channels: Vec<&String> = rows.iter().flat_map(|r| &r.channels).collect();
        channels.sort();
        channels.dedup();
        channels
            .into_iter()
            .map(|c| {
                let (pc, vc) = absorb(Some(c));
                let effect = |r: f64, b: f64| if b > 0.0 { (1.0 - r / b).max(0.0) } else { 0.0 };
                (c.clone(), (effect(pc, p), effect(vc, v)))
            })
            .collect()
    }

    fn random_rows(
        rng: &mut StdRng,
        channels: usize,
        paths: usize,
        max_len: usize,
    ) -> Vec<PathStat> {
        let names: Vec<String> = (0..channels).map(|c| format!("ch{c}")).collect();
        (0..paths)
            .map(|_| {
                let len = rng.random_range(1..=max_len);
                let conversions = if rng.random_bool(0.5) {
                    f64::from(rng.random_range(0..5u32))
                } else {
                    0.0
                };
                PathStat {
                    channels: (0..len)
                        .map(|_| names[rng.random_range(0..channels)].clone())
                        .collect(),
                    conversions,
                    value: if conversions > 0.0 {
                        rng.random_range(0.0..500.0)
                    } else {
                        0.0
                    },
                    nulls: f64::from(rng.random_range(0..8u32)),
                }
            })
            .collect()
    }

    #[test]
    fn solver_matches_a_dense_direct_solve_on_random_chains() {
        let mut rng = StdRng::seed_from_u64(7);
        for case in 0..60 {
            let order = 1 + case % 4;
            let rows = random_rows(&mut rng, 2 + case % 5, 3 + case % 12, 1 + case % 6);
            let paths = PathSet::new(&rows).unwrap();
            let chain = Chain::build(&paths, MarkovOrder::new(order as i64).unwrap());
            let n = chain.len();
            let mut deads = vec![vec![false; n]];
            deads.extend((0..paths.channels().len()).map(|c| chain.states_with(c as u16)));
            for dead in deads {
                let (mut x, mut y) = (vec![0.0; n], vec![0.0; n]);
                let found = chain.gauss_seidel(&dead, &mut x, &mut y).unwrap();
                let (p, v) = dense_absorption(&chain, &dead);
                assert!((found.conversion - p).abs() < 1e-9, "case {case}");
                assert!((found.value - v).abs() < 1e-9, "case {case}");
            }
        }
    }

    #[test]
    fn removal_effects_match_an_independent_implementation() {
        let mut rng = StdRng::seed_from_u64(11);
        for case in 0..60 {
            let order = 1 + case % 4;
            let rows = random_rows(&mut rng, 2 + case % 6, 2 + case % 15, 1 + case % 7);
            let result = run(&rows, order as i64);
            let expected = reference_effects(&rows, order);
            let effects = result.removal_effects.unwrap();
            assert_eq!(effects.len(), expected.len());
            for e in effects {
                let (conversion, value) = expected[&e.channel];
                assert!(
                    (e.conversion - conversion).abs() < 1e-9 && (e.value - value).abs() < 1e-9,
                    "case {case} order {order} {}: {} {} vs {conversion} {value}",
                    e.channel,
                    e.conversion,
                    e.value
                );
            }
        }
    }

    #[test]
    fn transition_rows_are_probability_distributions() {
        let mut rng = StdRng::seed_from_u64(3);
        let rows = random_rows(&mut rng, 5, 40, 6);
        for order in 1..=4 {
            let matrix = run(&rows, order).transition_matrix.unwrap();
            let mut sums: BTreeMap<&str, f64> = BTreeMap::new();
            for t in &matrix {
                assert!(t.probability > 0.0 && t.probability <= 1.0);
                *sums.entry(&t.from).or_default() += t.probability;
            }
            for (from, sum) in sums {
                assert!((sum - 1.0).abs() < 1e-12, "order {order} {from}: {sum}");
            }
        }
    }
}
