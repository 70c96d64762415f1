//! Prints the JSON report for a ChannelAttribution CSV file:
//! `cargo run -p attribution --release --example attribute_csv -- IN.csv [MODEL[:ORDER]]...`
//! (default `markov:1 shapley linear`).

use attribution::formats::parse_channel_attribution_csv;
use attribution::{Model, ModelRequest, PathSet, attribute_paths};

fn main() {
    let mut args = std::env::args().skip(1);
    let input = args
        .next()
        .expect("usage: attribute_csv IN.csv [MODEL[:ORDER]]...");
    let mut names: Vec<String> = args.collect();
    if names.is_empty() {
        names = vec!["markov:1".into(), "shapley".into(), "linear".into()];
    }
    let models: Vec<Model> = names
        .iter()
        .map(|spec| {
            let (model, order) = match spec.split_once(':') {
                Some((m, o)) => (m, Some(o.parse().expect("ORDER is an integer"))),
                None => (spec.as_str(), None),
            };
            Model::from_request(&ModelRequest {
                model: model.into(),
                order,
                ..ModelRequest::default()
            })
            .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let text = std::fs::read_to_string(&input).expect("read the CSV");
    let stats = parse_channel_attribution_csv(&text).unwrap_or_else(|e| panic!("{input}: {e}"));
    let paths = PathSet::new(&stats).unwrap_or_else(|e| panic!("{e}"));
    let mut report = attribute_paths(&paths, &models).unwrap_or_else(|e| panic!("{e}"));
    for r in &mut report.results {
        r.transition_matrix = None;
    }
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
