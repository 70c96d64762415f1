//! Small chains whose removal effects and credits are worked out by hand.

use super::*;

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
    // A single converting state: value effects equal conversion effects.
    assert_credits(
        &result,
        &[
            ("a", 2.0 / 3.0, 20.0, 1.0, 1.0),
            ("b", 1.0 / 3.0, 10.0, 0.5, 0.5),
        ],
    );
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

/// Order-1 chains worked by hand: the paths, then each channel's
/// `(channel, conversions, value, conversion effect, value effect)`.
#[test]
fn conversion_and_value_effects_worked_by_hand() {
    let cases = [
        // `a` converts 3 times worth 10 each and fails once; `b > a` converts once worth 100;
        // `b` fails twice. Leaving counts: a 5 (3 conv, 1 null from `a`, 1 conv from
        // `b > a`), b 3 (1 to a, 2 null). x_a = 4/5, x_b = (1/3)(4/5) = 4/15. Start: a 4/7,
        // b 3/7. P = (4/7)(4/5) + (3/7)(4/15) = 16/35 + 4/35 = 20/35 = 4/7. Without a: 0.
        // Without b: (4/7)(4/5) = 16/35, effect 1 - (16/35)/(20/35) = 1/5.
        //
        // Value earned per visit to a: 130/5 = 26. E = (4/7)*26 + (3/7)(1/3)*26 = 104/7 + 26/7
        // = 130/7. Without b: 104/7, effect 1/5. Equal here because every conversion happens
        // at a; the next case separates them.
        (
            [
                stat("a", 3.0, 30.0, 1.0),
                stat("b > a", 1.0, 100.0, 0.0),
                stat("b", 0.0, 0.0, 2.0),
            ],
            [
                ("a", 4.0 / 1.2, 130.0 / 1.2, 1.0, 1.0),
                ("b", 0.8 / 1.2, 26.0 / 1.2, 0.2, 0.2),
            ],
        ),
        // `a` converts once worth 10; `b` converts once worth 90; `a > b` fails once.
        // Start a 2/3, b 1/3; a leaves 2 (1 conversion, 1 to b), b leaves 2 (1 conversion,
        // 1 null). x_b = 1/2, x_a = 1/2 + 1/4 = 3/4, P = 1/2 + 1/6 = 2/3. Without a: P = 1/6,
        // effect 3/4. Without b: x_a = 1/2, P = 1/3, effect 1/2. Conversion credits
        // 2 * 0.75/1.25 = 1.2 and 0.8.
        // Value per visit: a 10/2 = 5, b 90/2 = 45. y_b = 45, y_a = 5 + 45/2 = 27.5,
        // E = 55/3 + 15 = 100/3. Without a: E = 15, effect 0.55. Without b: y_a = 5, E = 10/3,
        // effect 0.9. Value credits 100 * 0.55/1.45 and 100 * 0.9/1.45.
        (
            [
                stat("a", 1.0, 10.0, 0.0),
                stat("b", 1.0, 90.0, 0.0),
                stat("a > b", 0.0, 0.0, 1.0),
            ],
            [
                ("a", 1.2, 55.0 / 1.45, 0.75, 0.55),
                ("b", 0.8, 90.0 / 1.45, 0.5, 0.9),
            ],
        ),
    ];
    for (rows, expected) in cases {
        assert_credits(&run(&rows, 1), &expected);
    }
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
