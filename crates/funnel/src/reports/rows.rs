//! Which steps each deal matched, as rows for the polars aggregation.

use std::collections::{BTreeMap, HashMap};

use super::{DealFacts, Params};
use crate::domain::funnel::{FunnelDef, Span};
use crate::domain::matching::{Event, Step, best_match};

pub(super) fn steps_of(def: &FunnelDef) -> Vec<Step> {
    def.stages
        .iter()
        .map(|s| Step {
            optional: s.optional,
            window: s.window.map(Span::secs),
            min_gap: s.min_gap.map(Span::secs),
        })
        .collect()
}

/// Rows for the polars aggregation: one per (deal, matched step) and one per completed stay.
#[derive(Default)]
pub(super) struct Rows {
    pub(super) key: Vec<u32>,
    pub(super) cohort: Vec<u32>,
    pub(super) step: Vec<u32>,
    pub(super) delta: Vec<Option<f64>>,
    pub(super) stay_key: Vec<u32>,
    pub(super) stay_step: Vec<u32>,
    pub(super) stay: Vec<f64>,
}

/// Segment values as small integers, so that millions of rows carry no strings and the
/// group-bys hash integers; `deals` counts the deals of each value.
#[derive(Default)]
pub(super) struct Dictionary {
    ids: HashMap<String, u32>,
    pub(super) names: Vec<String>,
    deals: Vec<u64>,
}

impl Dictionary {
    pub(super) fn id(&mut self, name: &str) -> u32 {
        let id = match self.ids.get(name) {
            Some(id) => *id,
            None => {
                let id = self.names.len() as u32;
                self.ids.insert(name.to_string(), id);
                self.names.push(name.to_string());
                self.deals.push(0);
                id
            }
        };
        self.deals[id as usize] += 1;
        id
    }

    /// (value, deals), by value.
    pub(super) fn counts(&self) -> BTreeMap<&str, u64> {
        self.names
            .iter()
            .map(String::as_str)
            .zip(self.deals.iter().copied())
            .collect()
    }
}

impl Rows {
    pub(super) fn append(&mut self, mut other: Rows) {
        self.key.append(&mut other.key);
        self.cohort.append(&mut other.cohort);
        self.step.append(&mut other.step);
        self.delta.append(&mut other.delta);
        self.stay_key.append(&mut other.stay_key);
        self.stay_step.append(&mut other.stay_step);
        self.stay.append(&mut other.stay);
    }
}

/// Matches each deal and emits its rows: one per matched step and one per completed stay.
pub(super) fn match_rows(
    deals: &[DealFacts],
    segments: &[(u32, u32)],
    steps: &[Step],
    index: &HashMap<&str, usize>,
    p: &Params,
) -> Rows {
    let mut rows = Rows::default();
    let mut events = Vec::new();
    for (d, &(key, cohort)) in deals.iter().zip(segments) {
        events.clear();
        events.extend(d.moves.iter().map(|(s, at)| Event {
            step: index.get(s.as_str()).copied(),
            at: at.timestamp(),
        }));
        for w in events.windows(2) {
            if let Some(s) = w[0].step {
                rows.stay_key.push(key);
                rows.stay_step.push(s as u32);
                rows.stay.push((w[1].at - w[0].at) as f64);
            }
        }
        let Some(m) = best_match(steps, &events, p.order, p.window.map(Span::secs)) else {
            continue;
        };
        let mut prev: Option<i64> = None;
        for (j, e) in m.iter().enumerate() {
            let Some(e) = e else { continue };
            let at = events[*e].at;
            rows.key.push(key);
            rows.cohort.push(cohort);
            rows.step.push(j as u32);
            rows.delta.push(prev.map(|t| (at - t) as f64));
            prev = Some(at);
        }
    }
    rows
}
