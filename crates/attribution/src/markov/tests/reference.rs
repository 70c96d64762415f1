//! The solver and the removal effects against independent implementations, on random
//! chains.

use super::*;

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

#[test]
fn solver_matches_a_dense_direct_solve_on_random_chains() {
    let mut rng = StdRng::seed_from_u64(7);
    for case in 0..60 {
        let order = 1 + case % 4;
        let rows = random_paths(&mut rng, 2 + case % 5, 3 + case % 12, 1 + case % 6);
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
        let rows = random_paths(&mut rng, 2 + case % 6, 2 + case % 15, 1 + case % 7);
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
    let rows = random_paths(&mut rng, 5, 40, 6);
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
