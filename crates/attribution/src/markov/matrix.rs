//! The chain as a transition matrix with labelled states, as the report shows it.

use super::chain::Chain;
use super::state::key_channels;
use crate::input::{CONVERSION, NULL, PATH_SEPARATOR, START};
use crate::result::Transition;

impl Chain {
    fn label(&self, key: u64, names: &[String]) -> String {
        let parts: Vec<&str> = key_channels(key)
            .map(|c| names[c as usize].as_str())
            .collect();
        parts.join(PATH_SEPARATOR)
    }

    /// Every transition with a positive probability, sorted by `(from, to)` label.
    pub(super) fn transitions(&self, names: &[String]) -> Vec<Transition> {
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
