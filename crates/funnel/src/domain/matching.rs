//! Which funnel steps a deal completed: the best assignment of the deal's stage events to
//! the funnel's steps under an order mode, per-step windows and gaps, optional steps and a
//! global conversion window.
//!
//! A match assigns events to a set of steps that always contains the first step and every
//! required step up to the furthest matched one (optional steps may be skipped). Of all
//! valid matches the best one reaches the furthest step, then matches the most steps, then
//! uses the earliest events (lexicographically, in step order). Modes:
//! - `ordered`: matched events are in time order (other events may come between);
//!   each step's `window`/`min_gap` bounds the time since the previous matched step.
//! - `strict`: as `ordered`, and each matched event immediately follows the previous
//!   matched event in the deal's history.
//! - `any`: steps may happen in any order; per-step windows and gaps do not apply.
//!
//! The global `window` bounds the time from the earliest to the latest matched event.

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Strict,
    Ordered,
    Any,
}

impl FromStr for Order {
    type Err = String;
    fn from_str(s: &str) -> Result<Order, String> {
        match s {
            "strict" => Ok(Order::Strict),
            "ordered" => Ok(Order::Ordered),
            "any" => Ok(Order::Any),
            _ => Err("must be one of strict, ordered, any".into()),
        }
    }
}

impl Order {
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Strict => "strict",
            Order::Ordered => "ordered",
            Order::Any => "any",
        }
    }
}

/// A step's rules, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Step {
    pub optional: bool,
    pub window: Option<i64>,
    pub min_gap: Option<i64>,
}

/// A deal's stage event: the funnel step it is (None for `lost` or a stage outside the
/// funnel version) and its time in seconds. Events come in effect order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub step: Option<usize>,
    pub at: i64,
}

/// The chosen event index per step, or None where the step was not matched.
pub type Assignment = Vec<Option<usize>>;

/// The comparison key of a match: furthest step, number of steps, then earliest events.
fn key(a: &[Option<usize>]) -> (i64, usize, Vec<usize>) {
    let furthest = a.iter().rposition(Option::is_some).map_or(-1, |i| i as i64);
    let count = a.iter().filter(|x| x.is_some()).count();
    let lex = a.iter().map(|x| x.unwrap_or(usize::MAX)).collect();
    (furthest, count, lex)
}

fn better(candidate: &[Option<usize>], best: &Option<Assignment>) -> bool {
    match best {
        None => true,
        Some(b) => {
            let (cf, cc, cl) = key(candidate);
            let (bf, bc, bl) = key(b);
            (cf, cc) > (bf, bc) || ((cf, cc) == (bf, bc) && cl < bl)
        }
    }
}

struct Search<'a> {
    steps: &'a [Step],
    events: &'a [Event],
    order: Order,
    window: Option<i64>,
    /// Event indices per step, ascending.
    by_step: Vec<Vec<usize>>,
    current: Assignment,
    best: Option<Assignment>,
}

impl Search<'_> {
    fn perfect(&self) -> bool {
        self.best
            .as_ref()
            .is_some_and(|b| b.iter().all(Option::is_some))
    }

    fn record(&mut self) {
        if better(&self.current, &self.best) {
            self.best = Some(self.current.clone());
        }
    }

    /// `last`: the previous matched event; `lo`/`hi`: earliest and latest matched times.
    fn step(&mut self, j: usize, last: usize, lo: i64, hi: i64) {
        if j == self.steps.len() {
            self.record();
            return;
        }
        if self.perfect() {
            // Options are explored earliest first, so nothing later can beat it.
            return;
        }
        let rule = self.steps[j];
        let prev_at = self.events[last].at;
        let mut matched_any = false;
        for k in 0..self.by_step[j].len() {
            let i = self.by_step[j][k];
            let at = self.events[i].at;
            let ok = match self.order {
                Order::Any => true,
                Order::Ordered | Order::Strict => {
                    i > last
                        && (self.order == Order::Ordered || i == last + 1)
                        && rule.window.is_none_or(|w| at - prev_at <= w)
                        && rule.min_gap.is_none_or(|g| at - prev_at >= g)
                }
            };
            let (nlo, nhi) = (lo.min(at), hi.max(at));
            if !ok || self.window.is_some_and(|w| nhi - nlo > w) {
                continue;
            }
            matched_any = true;
            self.current[j] = Some(i);
            self.step(j + 1, i, nlo, nhi);
            self.current[j] = None;
        }
        if rule.optional {
            self.step(j + 1, last, lo, hi);
        } else if !matched_any {
            // A required step nobody can reach ends the match here.
            self.record();
        }
    }
}

/// The best match of `events` against `steps`, or None when the first step never happens.
pub fn best_match(
    steps: &[Step],
    events: &[Event],
    order: Order,
    window: Option<i64>,
) -> Option<Assignment> {
    if steps.is_empty() {
        return None;
    }
    let mut by_step = vec![Vec::new(); steps.len()];
    for (i, e) in events.iter().enumerate() {
        if let Some(s) = e.step
            && s < steps.len()
        {
            by_step[s].push(i);
        }
    }
    let mut search = Search {
        steps,
        events,
        order,
        window,
        by_step,
        current: vec![None; steps.len()],
        best: None,
    };
    for k in 0..search.by_step[0].len() {
        let i = search.by_step[0][k];
        let at = events[i].at;
        search.current[0] = Some(i);
        search.step(1, i, at, at);
        search.current[0] = None;
        if search.perfect() {
            break;
        }
    }
    search.best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(list: &[(usize, i64)]) -> Vec<Event> {
        list.iter()
            .map(|&(s, at)| Event { step: Some(s), at })
            .collect()
    }

    fn req(n: usize) -> Vec<Step> {
        vec![Step::default(); n]
    }

    #[test]
    fn later_anchor_or_middle_event_can_satisfy_a_step_window() {
        // Step 2 must follow step 1 within 10s. Greedy-earliest would pick step 1 at 0 and
        // fail; the match picks the step-1 event at 1 and step 2 at 20 ... then 25.
        let mut steps = req(3);
        steps[2].window = Some(10);
        let events = ev(&[(0, 0), (1, 1), (1, 20), (2, 25)]);
        let m = best_match(&steps, &events, Order::Ordered, None).unwrap();
        assert_eq!(m, vec![Some(0), Some(2), Some(3)]);
    }

    #[test]
    fn strict_needs_adjacent_events() {
        let steps = req(3);
        let events = ev(&[(0, 0), (2, 1), (1, 2), (2, 3)]);
        let strict = best_match(&steps, &events, Order::Strict, None).unwrap();
        assert_eq!(strict, vec![Some(0), None, None]);
        let ordered = best_match(&steps, &events, Order::Ordered, None).unwrap();
        assert_eq!(ordered, vec![Some(0), Some(2), Some(3)]);
    }

    #[test]
    fn optional_steps_may_be_skipped_and_are_taken_when_possible() {
        let mut steps = req(3);
        steps[1].optional = true;
        let skipped = best_match(&steps, &ev(&[(0, 0), (2, 5)]), Order::Ordered, None).unwrap();
        assert_eq!(skipped, vec![Some(0), None, Some(1)]);
        let taken =
            best_match(&steps, &ev(&[(0, 0), (1, 2), (2, 5)]), Order::Ordered, None).unwrap();
        assert_eq!(taken, vec![Some(0), Some(1), Some(2)]);
    }

    #[test]
    fn any_order_and_global_window() {
        let steps = req(3);
        let events = ev(&[(2, 0), (1, 5), (0, 9)]);
        assert_eq!(
            best_match(&steps, &events, Order::Any, None).unwrap(),
            vec![Some(2), Some(1), Some(0)]
        );
        assert_eq!(
            best_match(&steps, &events, Order::Any, Some(4)).unwrap(),
            vec![Some(2), Some(1), None]
        );
        assert_eq!(
            best_match(&steps, &events, Order::Ordered, None).unwrap(),
            vec![Some(2), None, None]
        );
    }

    #[test]
    fn min_gap_skips_too_quick_moves() {
        let mut steps = req(2);
        steps[1].min_gap = Some(10);
        let m = best_match(
            &steps,
            &ev(&[(0, 0), (1, 3), (1, 12)]),
            Order::Ordered,
            None,
        );
        assert_eq!(m.unwrap(), vec![Some(0), Some(2)]);
        assert_eq!(
            best_match(&steps, &ev(&[(1, 0)]), Order::Ordered, None),
            None
        );
    }
}
