//! The transient part of the Markov chain, built from aggregated paths.

use super::state::{KeyMap, key_channels, push_channel};
use crate::input::PathSet;
use crate::model::MarkovOrder;

/// The transient part of the chain in sparse form, with its exits to the absorbing states.
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    pub(super) order: u8,
    /// State keys by state index; indexes are in order of earliest position in a path.
    pub(super) keys: Vec<u64>,
    /// `P((start) → s)`.
    pub(super) start: Vec<f64>,
    /// Transient-to-transient probabilities without self-loops, as compressed rows.
    pub(super) row_start: Vec<usize>,
    pub(super) cols: Vec<u32>,
    pub(super) probs: Vec<f64>,
    pub(super) self_loop: Vec<f64>,
    pub(super) to_conversion: Vec<f64>,
    pub(super) to_null: Vec<f64>,
    /// Value earned per visit, scaled so that the largest mean value of a conversion is 1.
    pub(super) reward: Vec<f64>,
    /// `‖to_conversion‖∞` and `‖reward‖∞`, which residuals are measured against.
    pub(super) scale: (f64, f64),
}

impl Chain {
    pub(super) fn build(paths: &PathSet, order: MarkovOrder) -> Chain {
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

    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Which states hold `channel`, i.e. become `(null)` when it is removed.
    pub(super) fn states_with(&self, channel: u16) -> Vec<bool> {
        self.keys
            .iter()
            .map(|&k| key_channels(k).any(|c| c == channel))
            .collect()
    }
}
