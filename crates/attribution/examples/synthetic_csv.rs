//! Writes the synthetic benchmark paths as ChannelAttribution CSV, for a Python or R peer:
//! `cargo run -p attribution --release --example synthetic_csv -- OUT.csv [JOURNEYS] [SEED]`.

use attribution::synthetic::{self, SyntheticConfig};

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .expect("usage: synthetic_csv OUT.csv [JOURNEYS] [SEED]");
    let mut config = SyntheticConfig::benchmark();
    if let Some(n) = args.next() {
        config.journeys = n.parse().expect("JOURNEYS is a count");
    }
    if let Some(seed) = args.next() {
        config.seed = seed.parse().expect("SEED is an integer");
    }
    std::fs::write(&out, synthetic::channel_attribution_csv(&config)).expect("write the CSV");
}
