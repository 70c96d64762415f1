//! The simplified Shapley value of Zhao et al. (2018), "Shapley Value Methods for Attribution
//! Modeling in Online Advertising".
//!
//! The coalition value of a channel set `S` is the conversions (or value) of every path whose
//! set of distinct channels lies within `S`: `v(S) = Σ_{p : set(p) ⊆ S} conv(p)`. That game is
//! a sum of unanimity games, one per path, and the Shapley value of a unanimity game on `T`
//! gives `1/|T|` to each member of `T`. So the full Shapley formula over all `2^n` coalitions
//! collapses to
//!
//! `φ_j = Σ_{p : j ∈ set(p)} conv(p) / |set(p)|`,
//!
//! exact for any number of channels in time linear in the total path length. The tests check
//! this against the brute-force coalition formula. Order and repeats within a path do not
//! matter; non-converting paths add nothing.

use crate::input::PathSet;
use crate::result::Credits;

pub(crate) fn simplified(paths: &PathSet) -> Credits {
    let mut credits = Credits::new(paths.channels().len());
    let mut distinct: Vec<u16> = Vec::new();
    for p in paths.iter() {
        distinct.clear();
        distinct.extend_from_slice(p.channels);
        distinct.sort_unstable();
        distinct.dedup();
        let share = 1.0 / distinct.len() as f64;
        for &c in &distinct {
            credits.add(c, share, p.conversions, p.value);
        }
    }
    credits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::PathStat;
    use crate::testing::{path, random_paths};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// The Shapley value straight from its definition:
    /// `φ_j = Σ_{S ⊆ N∖{j}} |S|! (n-|S|-1)! / n! · (v(S ∪ {j}) - v(S))`, with coalitions as
    /// bit masks and `v(S)` summed over the paths whose channel set is within `S`.
    fn brute_force(masks: &[(u32, f64)], n: usize) -> Vec<f64> {
        let v = |s: u32| -> f64 {
            masks
                .iter()
                .filter(|(m, _)| m & !s == 0)
                .map(|(_, x)| x)
                .sum()
        };
        let factorial = |k: usize| -> f64 { (1..=k).map(|i| i as f64).product() };
        (0..n)
            .map(|j| {
                let bit = 1u32 << j;
                (0u32..1 << n)
                    .filter(|s| s & bit == 0)
                    .map(|s| {
                        let size = s.count_ones() as usize;
                        factorial(size) * factorial(n - size - 1) / factorial(n)
                            * (v(s | bit) - v(s))
                    })
                    .sum()
            })
            .collect()
    }

    #[test]
    fn simplified_formula_equals_the_full_coalition_formula() {
        let mut rng = StdRng::seed_from_u64(2018);
        for case in 0..40 {
            let n = 1 + case % 8;
            let paths = rng.random_range(1..25);
            let rows = random_paths(&mut rng, n, paths, 6);
            let set = PathSet::new(&rows).unwrap();
            let credits = simplified(&set);
            // Brute force over the channels that occur, indexed like the set's ids.
            let ids = |r: &PathStat| -> u32 {
                r.channels
                    .iter()
                    .map(|c| 1u32 << set.channels().iter().position(|x| x == c).unwrap())
                    .fold(0, |a, b| a | b)
            };
            let m = set.channels().len();
            let conv = brute_force(
                &rows
                    .iter()
                    .map(|r| (ids(r), r.conversions))
                    .collect::<Vec<_>>(),
                m,
            );
            let value = brute_force(
                &rows.iter().map(|r| (ids(r), r.value)).collect::<Vec<_>>(),
                m,
            );
            for c in 0..m {
                assert!(
                    (credits.conversions[c] - conv[c]).abs() < 1e-9,
                    "case {case}"
                );
                assert!((credits.value[c] - value[c]).abs() < 1e-9, "case {case}");
            }
        }
    }

    #[test]
    fn a_worked_example() {
        // {a, b} converts 3 (a twice on the path), {a} converts 1, {b, c} 0 with nulls.
        let rows = [
            path(&["a", "b", "a"], 3.0, 60.0, 1.0),
            path(&["a"], 1.0, 5.0, 0.0),
            path(&["b", "c"], 0.0, 0.0, 9.0),
        ];
        let set = PathSet::new(&rows).unwrap();
        let credits = simplified(&set);
        assert_eq!(credits.conversions, [2.5, 1.5, 0.0]);
        assert_eq!(credits.value, [35.0, 30.0, 0.0]);
    }
}
