//! Rule-based models: each touch of a path or journey gets a fixed share of its conversions
//! and value, and a channel's credit is the sum over its touches.
//!
//! Edge cases, all tested below:
//! - `last_non_direct` takes the last touch whose channel is not exactly `direct`; if every
//!   touch is direct, the last touch.
//! - `position_based` gives one touch 100%; two touches split first:last in proportion to
//!   their weights (50/50 by default), or evenly if both weights are zero; from three
//!   touches on, the middle share is split evenly among the middle touches.
//! - `time_decay` weighs by `2^(-age / half_life)` and normalises per journey; touches at the
//!   same instant get the same weight.
//! - `w_shaped` and `full_path` see [`anchored`].

use crate::input::{DIRECT, JourneySet, PathSet, TimedTouch};
use crate::model::{FullPathWeights, HalfLife, PositionWeights, WShapedWeights};
use crate::result::Credits;

pub(crate) fn first_touch(paths: &PathSet) -> Credits {
    let mut credits = Credits::new(paths.channels().len());
    for p in paths.iter() {
        credits.add(p.channels[0], 1.0, p.conversions, p.value);
    }
    credits
}

pub(crate) fn last_touch(paths: &PathSet) -> Credits {
    let mut credits = Credits::new(paths.channels().len());
    for p in paths.iter() {
        credits.add(
            p.channels[p.channels.len() - 1],
            1.0,
            p.conversions,
            p.value,
        );
    }
    credits
}

pub(crate) fn last_non_direct(paths: &PathSet) -> Credits {
    let direct = paths
        .channels()
        .binary_search_by(|c| c.as_str().cmp(DIRECT))
        .ok()
        .map(|id| id as u16);
    let mut credits = Credits::new(paths.channels().len());
    for p in paths.iter() {
        let last = p.channels[p.channels.len() - 1];
        let chosen = p
            .channels
            .iter()
            .rev()
            .copied()
            .find(|&c| Some(c) != direct)
            .unwrap_or(last);
        credits.add(chosen, 1.0, p.conversions, p.value);
    }
    credits
}

pub(crate) fn linear(paths: &PathSet) -> Credits {
    let mut credits = Credits::new(paths.channels().len());
    for p in paths.iter() {
        let share = 1.0 / p.channels.len() as f64;
        for &c in p.channels {
            credits.add(c, share, p.conversions, p.value);
        }
    }
    credits
}

pub(crate) fn position_based(paths: &PathSet, w: &PositionWeights) -> Credits {
    let mut credits = Credits::new(paths.channels().len());
    for p in paths.iter() {
        let n = p.channels.len();
        let (first, last) = (p.channels[0], p.channels[n - 1]);
        match n {
            1 => credits.add(first, 1.0, p.conversions, p.value),
            2 => {
                let ends = w.first + w.last;
                let (a, b) = if ends > 0.0 {
                    (w.first / ends, w.last / ends)
                } else {
                    (0.5, 0.5)
                };
                credits.add(first, a, p.conversions, p.value);
                credits.add(last, b, p.conversions, p.value);
            }
            _ => {
                credits.add(first, w.first, p.conversions, p.value);
                let middle = w.middle / (n - 2) as f64;
                for &c in &p.channels[1..n - 1] {
                    credits.add(c, middle, p.conversions, p.value);
                }
                credits.add(last, w.last, p.conversions, p.value);
            }
        }
    }
    credits
}

pub(crate) fn time_decay(journeys: &JourneySet, half_life: HalfLife) -> Credits {
    let mut credits = Credits::new(journeys.paths().channels().len());
    let mut weights = Vec::new();
    for j in journeys.iter() {
        // Ages relative to the youngest touch keep the largest weight at 1, so long journeys
        // cannot underflow every weight to zero; normalising cancels the shift.
        let youngest = j
            .touches
            .iter()
            .map(|t| t.age_seconds)
            .fold(f64::INFINITY, f64::min);
        weights.clear();
        weights.extend(
            j.touches
                .iter()
                .map(|t| (-(t.age_seconds - youngest) / half_life.seconds()).exp2()),
        );
        let total: f64 = weights.iter().sum();
        for (t, w) in j.touches.iter().zip(&weights) {
            credits.add(t.channel, w / total, j.conversions, j.value);
        }
    }
    credits
}

pub(crate) fn w_shaped(journeys: &JourneySet, w: &WShapedWeights) -> Credits {
    let anchors = [
        (Anchor::First, w.first),
        (Anchor::Lead, w.lead),
        (Anchor::Opportunity, w.opportunity),
    ];
    journey_shares(journeys, |touches, out| {
        anchored(touches, &anchors, w.other, out)
    })
}

pub(crate) fn full_path(journeys: &JourneySet, w: &FullPathWeights) -> Credits {
    let anchors = [
        (Anchor::First, w.first),
        (Anchor::Lead, w.lead),
        (Anchor::Opportunity, w.opportunity),
        (Anchor::Close, w.close),
    ];
    journey_shares(journeys, |touches, out| {
        anchored(touches, &anchors, w.other, out)
    })
}

fn journey_shares(
    journeys: &JourneySet,
    mut shares: impl FnMut(&[TimedTouch], &mut Vec<f64>),
) -> Credits {
    let mut credits = Credits::new(journeys.paths().channels().len());
    let mut out = Vec::new();
    for j in journeys.iter() {
        shares(j.touches, &mut out);
        for (t, share) in j.touches.iter().zip(&out) {
            credits.add(t.channel, *share, j.conversions, j.value);
        }
    }
    credits
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Anchor {
    First,
    /// The first touch flagged `lead_creation`.
    Lead,
    /// The first touch flagged `opportunity_creation`.
    Opportunity,
    /// The last touch before conversion.
    Close,
}

impl Anchor {
    fn find(self, touches: &[TimedTouch]) -> Option<usize> {
        match self {
            Anchor::First => Some(0),
            Anchor::Lead => touches.iter().position(|t| t.lead_creation),
            Anchor::Opportunity => touches.iter().position(|t| t.opportunity_creation),
            Anchor::Close => Some(touches.len() - 1),
        }
    }
}

/// Shares for an anchored model (W-shaped, full path) over touches in time order:
/// 1. each anchor's weight goes to its touch; anchors that fall on the same touch add up
///    there (first touch = lead creation gets 30 + 30 under W-shaped);
/// 2. an anchor with no flagged touch (no lead or opportunity creation on the journey) is
///    left out, and its weight with it;
/// 3. the `other` weight is split evenly among the touches that are no anchor; if every
///    touch is an anchor, it is left out;
/// 4. the shares are then scaled to sum to 1, so what rules 2 and 3 left out is spread over
///    the remaining touches in proportion to their shares. If nothing is left (all weights
///    that apply are zero), every touch gets an equal share.
fn anchored(touches: &[TimedTouch], anchors: &[(Anchor, f64)], other: f64, out: &mut Vec<f64>) {
    let n = touches.len();
    out.clear();
    out.resize(n, 0.0);
    let mut is_anchor = vec![false; n];
    for &(anchor, weight) in anchors {
        if let Some(i) = anchor.find(touches) {
            out[i] += weight;
            is_anchor[i] = true;
        }
    }
    let others = is_anchor.iter().filter(|a| !**a).count();
    if others > 0 {
        let each = other / others as f64;
        for (share, _) in out.iter_mut().zip(&is_anchor).filter(|(_, a)| !**a) {
            *share = each;
        }
    }
    let total: f64 = out.iter().sum();
    if total > 0.0 {
        for share in out.iter_mut() {
            *share /= total;
        }
    } else {
        out.fill(1.0 / n as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Journey, PathStat, Touch};
    use chrono::{DateTime, Duration, TimeZone, Utc};

    fn paths(rows: &[(&str, f64, f64)]) -> PathSet {
        let stats: Vec<PathStat> = rows
            .iter()
            .map(|&(path, conversions, value)| PathStat {
                channels: path.split(' ').map(String::from).collect(),
                conversions,
                value,
                nulls: 0.0,
            })
            .collect();
        PathSet::new(&stats).unwrap()
    }

    /// `(channel, conversions, value)` for every channel, in name order.
    fn table(set: &PathSet, credits: Credits) -> Vec<(String, f64, f64)> {
        credits
            .into_channel_credits(set.channels())
            .into_iter()
            .map(|c| (c.channel, c.conversions, c.value))
            .collect()
    }

    fn close(actual: &[(String, f64, f64)], expected: &[(&str, f64, f64)]) {
        assert_eq!(actual.len(), expected.len(), "{actual:?}");
        for (a, e) in actual.iter().zip(expected) {
            assert_eq!(a.0, e.0);
            assert!(
                (a.1 - e.1).abs() < 1e-12 && (a.2 - e.2).abs() < 1e-9,
                "{actual:?} vs {expected:?}"
            );
        }
    }

    #[test]
    fn single_touch_models() {
        let set = paths(&[("a b c", 2.0, 20.0), ("b", 1.0, 5.0), ("c a", 1.0, 1.0)]);
        close(
            &table(&set, first_touch(&set)),
            &[("a", 2.0, 20.0), ("b", 1.0, 5.0), ("c", 1.0, 1.0)],
        );
        close(
            &table(&set, last_touch(&set)),
            &[("a", 1.0, 1.0), ("b", 1.0, 5.0), ("c", 2.0, 20.0)],
        );
    }

    #[test]
    fn last_non_direct_skips_direct_unless_all_direct() {
        let set = paths(&[
            ("email direct direct", 1.0, 10.0),
            ("direct", 2.0, 20.0),
            ("direct direct", 1.0, 1.0),
            ("direct paid", 4.0, 40.0),
            ("Direct", 8.0, 80.0), // names are case-sensitive: only "direct" is direct
        ]);
        close(
            &table(&set, last_non_direct(&set)),
            &[
                ("Direct", 8.0, 80.0),
                ("direct", 3.0, 21.0),
                ("email", 1.0, 10.0),
                ("paid", 4.0, 40.0),
            ],
        );
    }

    #[test]
    fn linear_splits_evenly_and_counts_repeats() {
        let set = paths(&[("a b a", 3.0, 30.0), ("b", 1.0, 4.0)]);
        close(
            &table(&set, linear(&set)),
            &[("a", 2.0, 20.0), ("b", 2.0, 14.0)],
        );
    }

    #[test]
    fn position_based_by_path_length() {
        let w = PositionWeights::default();
        let one = paths(&[("a", 1.0, 10.0)]);
        close(&table(&one, position_based(&one, &w)), &[("a", 1.0, 10.0)]);
        let two = paths(&[("a b", 1.0, 10.0)]);
        close(
            &table(&two, position_based(&two, &w)),
            &[("a", 0.5, 5.0), ("b", 0.5, 5.0)],
        );
        let three = paths(&[("a b c", 1.0, 10.0)]);
        close(
            &table(&three, position_based(&three, &w)),
            &[("a", 0.4, 4.0), ("b", 0.2, 2.0), ("c", 0.4, 4.0)],
        );
        let five = paths(&[("a b c d e", 1.0, 10.0)]);
        let third = 0.2 / 3.0;
        close(
            &table(&five, position_based(&five, &w)),
            &[
                ("a", 0.4, 4.0),
                ("b", third, 10.0 * third),
                ("c", third, 10.0 * third),
                ("d", third, 10.0 * third),
                ("e", 0.4, 4.0),
            ],
        );
    }

    #[test]
    fn position_based_with_custom_weights() {
        let w = PositionWeights::new(60.0, 30.0, 10.0).unwrap();
        let set = paths(&[("a b c d", 1.0, 100.0), ("a b", 1.0, 0.0)]);
        // Four touches: 0.6, 0.15, 0.15, 0.1. Two touches: 0.6 : 0.1 -> 6/7, 1/7.
        close(
            &table(&set, position_based(&set, &w)),
            &[
                ("a", 0.6 + 6.0 / 7.0, 60.0),
                ("b", 0.15 + 1.0 / 7.0, 15.0),
                ("c", 0.15, 15.0),
                ("d", 0.1, 10.0),
            ],
        );
        let middle_only = PositionWeights::new(0.0, 1.0, 0.0).unwrap();
        let two = paths(&[("a b", 1.0, 2.0)]);
        close(
            &table(&two, position_based(&two, &middle_only)),
            &[("a", 0.5, 1.0), ("b", 0.5, 1.0)],
        );
    }

    fn noon(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, day, 12, 0, 0).unwrap()
    }

    fn touch(channel: &str, at: DateTime<Utc>) -> Touch {
        Touch {
            channel: channel.into(),
            at,
            lead_creation: false,
            opportunity_creation: false,
        }
    }

    fn journey(touches: Vec<Touch>, converted_at: DateTime<Utc>, value: f64) -> Journey {
        Journey {
            touches,
            converted_at,
            conversions: 1.0,
            value,
            nulls: 0.0,
        }
    }

    fn journey_table(
        journeys: &[Journey],
        model: impl Fn(&JourneySet) -> Credits,
    ) -> Vec<(String, f64, f64)> {
        let set = JourneySet::new(journeys).unwrap();
        let credits = model(&set);
        table(set.paths(), credits)
    }

    #[test]
    fn time_decay_halves_per_half_life() {
        let end = noon(15);
        // Ages 14, 7 and 0 days: weights 1/4, 1/2, 1 of 7/4.
        let j = journey(
            vec![
                touch("c", end),
                touch("a", end - Duration::days(14)),
                touch("b", end - Duration::days(7)),
            ],
            end,
            70.0,
        );
        close(
            &journey_table(std::slice::from_ref(&j), |s| {
                time_decay(s, HalfLife::default())
            }),
            &[
                ("a", 1.0 / 7.0, 10.0),
                ("b", 2.0 / 7.0, 20.0),
                ("c", 4.0 / 7.0, 40.0),
            ],
        );
        // A one-day half-life: 1/16384, 1/128, 1.
        let total = 1.0 / 16384.0 + 1.0 / 128.0 + 1.0;
        close(
            &journey_table(&[j], |s| time_decay(s, HalfLife::days(1.0).unwrap())),
            &[
                ("a", 1.0 / 16384.0 / total, 70.0 / 16384.0 / total),
                ("b", 1.0 / 128.0 / total, 70.0 / 128.0 / total),
                ("c", 1.0 / total, 70.0 / total),
            ],
        );
    }

    #[test]
    fn time_decay_survives_ages_that_would_underflow() {
        let end = noon(1) + Duration::days(3650);
        let j = journey(
            vec![
                touch("a", noon(1)),
                touch("b", noon(1) + Duration::hours(1)),
            ],
            end,
            1.0,
        );
        // Ten years at a one-hour half-life: both raw weights underflow, the ratio does not.
        let credits = journey_table(&[j], |s| time_decay(s, HalfLife::days(1.0 / 24.0).unwrap()));
        close(
            &credits,
            &[("a", 1.0 / 3.0, 1.0 / 3.0), ("b", 2.0 / 3.0, 2.0 / 3.0)],
        );
    }

    #[test]
    fn ties_in_time_keep_input_order() {
        let t = noon(3);
        let j = journey(
            vec![touch("z", t), touch("y", t), touch("x", t)],
            noon(4),
            9.0,
        );
        let set = JourneySet::new(&[j]).unwrap();
        let p = set.paths();
        close(
            &table(p, first_touch(p)),
            &[("x", 0.0, 0.0), ("y", 0.0, 0.0), ("z", 1.0, 9.0)],
        );
        close(
            &table(p, last_touch(p)),
            &[("x", 1.0, 9.0), ("y", 0.0, 0.0), ("z", 0.0, 0.0)],
        );
        close(
            &table(p, position_based(p, &PositionWeights::default())),
            &[("x", 0.4, 3.6), ("y", 0.2, 1.8), ("z", 0.4, 3.6)],
        );
        // Same instant, same age: time decay is linear here.
        close(
            &table(p, time_decay(&set, HalfLife::default())),
            &[
                ("x", 1.0 / 3.0, 3.0),
                ("y", 1.0 / 3.0, 3.0),
                ("z", 1.0 / 3.0, 3.0),
            ],
        );
    }

    /// Touches named by channel, `L` marking lead creation and `O` opportunity creation,
    /// one day apart.
    fn flagged(spec: &str) -> Journey {
        let touches = spec
            .split(' ')
            .enumerate()
            .map(|(i, s)| {
                let channel = s.trim_end_matches(['L', 'O']);
                let flags = &s[channel.len()..];
                Touch {
                    channel: channel.into(),
                    at: noon(1 + i as u32),
                    lead_creation: flags.contains('L'),
                    opportunity_creation: flags.contains('O'),
                }
            })
            .collect();
        journey(touches, noon(28), 100.0)
    }

    fn shares(spec: &str, model: impl Fn(&JourneySet) -> Credits) -> Vec<f64> {
        journey_table(&[flagged(spec)], model)
            .into_iter()
            .map(|(_, c, v)| {
                assert!((v - 100.0 * c).abs() < 1e-9);
                c
            })
            .collect()
    }

    fn assert_shares(actual: Vec<f64>, expected: &[f64]) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < 1e-12, "{actual:?} vs {expected:?}");
        }
    }

    #[test]
    fn w_shaped_anchors_and_fallbacks() {
        let w = |s: &JourneySet| w_shaped(s, &WShapedWeights::default());
        // Channels are named so that name order is touch order.
        assert_shares(shares("a bL cO d", w), &[0.3, 0.3, 0.3, 0.1]);
        assert_shares(shares("a b cL dO e", w), &[0.3, 0.05, 0.3, 0.3, 0.05]);
        // Lead created on the first touch: the anchors merge, 60 there.
        assert_shares(shares("aL b cO d", w), &[0.6, 0.05, 0.3, 0.05]);
        // Every touch an anchor: the 10 is spread in proportion, 30:30:30 -> a third each.
        assert_shares(shares("a bL cO", w), &[1.0 / 3.0; 3]);
        // Two touches, first = lead: 60:30.
        assert_shares(shares("aL bO", w), &[2.0 / 3.0, 1.0 / 3.0]);
        // One touch holds every anchor.
        assert_shares(shares("aLO", w), &[1.0]);
        // No opportunity yet: first 30, lead 30, others 10 over two, scaled by 1/0.7.
        assert_shares(
            shares("a bL c d", w),
            &[0.3 / 0.7, 0.3 / 0.7, 0.05 / 0.7, 0.05 / 0.7],
        );
        // Only the first flagged touch counts as the lead-creation touch.
        assert_shares(shares("a bL cL dO", w), &[0.3, 0.3, 0.1, 0.3]);
        // Configured weights, with an all-zero case falling back to linear.
        let custom = WShapedWeights::new(0.0, 0.0, 0.0, 1.0).unwrap();
        assert_shares(shares("a bL cO", |s| w_shaped(s, &custom)), &[1.0 / 3.0; 3]);
        assert_shares(
            shares("a bL cO d e", |s| w_shaped(s, &custom)),
            &[0.0, 0.0, 0.0, 0.5, 0.5],
        );
    }

    #[test]
    fn full_path_anchors_and_fallbacks() {
        let f = |s: &JourneySet| full_path(s, &FullPathWeights::default());
        assert_shares(shares("a bL c dO e", f), &[0.225, 0.225, 0.1, 0.225, 0.225]);
        assert_shares(
            shares("a bL c dO e f", f),
            &[0.225, 0.225, 0.05, 0.225, 0.05, 0.225],
        );
        // Opportunity created on the closing touch: 45 there, no other touches, so
        // 22.5 : 22.5 : 45 over 90.
        assert_shares(shares("a bL cO", f), &[0.25, 0.25, 0.5]);
        // Two touches: first + lead on one, opportunity + close on the other.
        assert_shares(shares("aL bO", f), &[0.5, 0.5]);
        assert_shares(shares("aLO", f), &[1.0]);
        // No flags at all: first 22.5 and close 22.5, 10 over the middle; scaled by 1/0.55.
        assert_shares(
            shares("a b c", f),
            &[0.225 / 0.55, 0.1 / 0.55, 0.225 / 0.55],
        );
    }

    #[test]
    fn journeys_and_paths_agree_on_sequence_models() {
        let journeys = vec![flagged("a bL cO d"), flagged("a bL cO d"), flagged("d a")];
        let set = JourneySet::new(&journeys).unwrap();
        let p = set.paths();
        assert_eq!(p.len(), 2);
        close(
            &table(p, linear(p)),
            &[
                ("a", 1.0, 100.0),
                ("b", 0.5, 50.0),
                ("c", 0.5, 50.0),
                ("d", 1.0, 100.0),
            ],
        );
    }
}
