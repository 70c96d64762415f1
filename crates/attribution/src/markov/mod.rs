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

mod chain;
mod matrix;
mod removal;
mod solve;
mod state;
#[cfg(test)]
mod tests;

use crate::Error;
use crate::input::PathSet;
use crate::model::MarkovOrder;
use crate::result::{ChannelCredit, ModelResult, RemovalEffect};

use chain::Chain;
use removal::removal_effects;

/// Largest relative residual `‖b + Qx − x‖∞ / ‖b‖∞` a solve may stop at.
pub const TOLERANCE: f64 = 1e-13;
/// Sweeps after which Gauss–Seidel gives up.
pub const MAX_SWEEPS: usize = 50_000;
/// Largest chain solved directly when Gauss–Seidel gives up (a dense solve per removal costs
/// `n³/3`, about 0.05 s at this size).
pub const DENSE_FALLBACK_STATES: usize = 512;

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
