//! Times the engine on the synthetic benchmark set (1M journeys, ~175k distinct paths,
//! 12 channels): `cargo run -p attribution --release --example timing [orders...] [journeys]`.
//! `journeys` also times the 1M timestamped journeys and the models that need them (about
//! 1 GB more memory). Wrap in `/usr/bin/time -v` for peak memory.

use std::time::Instant;

use attribution::synthetic::{self, SyntheticConfig};
use attribution::{JourneySet, Model, ModelRequest, PathSet, attribute_journeys, attribute_paths};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let with_journeys = args.iter().any(|a| a == "journeys");
    let orders: Vec<i64> = args
        .iter()
        .filter(|a| *a != "journeys")
        .map(|a| a.parse().expect("orders are integers 1 to 4"))
        .collect();
    let orders = if orders.is_empty() {
        vec![1, 2, 3, 4]
    } else {
        orders
    };

    let config = SyntheticConfig::benchmark();
    let t = Instant::now();
    let stats = synthetic::paths(&config);
    println!(
        "generate   {:>8.3} s  {} journeys -> {} distinct paths",
        t.elapsed().as_secs_f64(),
        config.journeys,
        stats.len()
    );
    let t = Instant::now();
    let paths = PathSet::new(&stats).expect("synthetic paths are valid");
    println!(
        "intern     {:>8.3} s  {} channels, {} conversions, {} nulls",
        t.elapsed().as_secs_f64(),
        paths.channels().len(),
        paths.total_conversions(),
        paths.total_nulls()
    );

    for name in ["first_touch", "linear", "position_based", "shapley"] {
        let model = Model::parse(name).unwrap();
        let t = Instant::now();
        attribute_paths(&paths, &[model]).unwrap();
        println!("{name:<16} {:>8.3} s", t.elapsed().as_secs_f64());
    }
    for order in orders {
        let model = Model::from_request(&ModelRequest {
            model: "markov".into(),
            order: Some(order),
            ..ModelRequest::default()
        })
        .unwrap();
        let t = Instant::now();
        let report = attribute_paths(&paths, &[model]).unwrap();
        let elapsed = t.elapsed().as_secs_f64();
        let result = &report.results[0];
        let matrix = result.transition_matrix.as_ref().unwrap();
        let top = result
            .credits
            .iter()
            .max_by(|a, b| a.conversions.total_cmp(&b.conversions))
            .unwrap();
        println!(
            "markov order {order} {elapsed:>8.3} s  {} transitions; top {} {:.1} conversions",
            matrix.len(),
            top.channel,
            top.conversions
        );
    }

    // Freed only now: glibc consolidates freed chunks on the next large allocation, which
    // would otherwise be charged to whichever model runs first.
    drop(stats);
    if with_journeys {
        drop(paths);
        let t = Instant::now();
        let journeys = synthetic::journeys(&config);
        println!("journeys   {:>8.3} s  generated", t.elapsed().as_secs_f64());
        let t = Instant::now();
        let set = JourneySet::new(&journeys).expect("synthetic journeys are valid");
        println!(
            "journeys   {:>8.3} s  sorted, interned, aggregated into {} paths",
            t.elapsed().as_secs_f64(),
            set.paths().len()
        );
        drop(journeys);
        for name in ["time_decay", "w_shaped", "full_path", "markov"] {
            let model = Model::parse(name).unwrap();
            let t = Instant::now();
            attribute_journeys(&set, &[model]).unwrap();
            println!(
                "{name:<16} {:>8.3} s  on journeys",
                t.elapsed().as_secs_f64()
            );
        }
    }
}
