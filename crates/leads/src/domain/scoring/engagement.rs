//! Engagement: points from touches, decaying by half every half-life.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

const SECONDS_PER_DAY: f64 = 86_400.0;

/// The value at `to` of `points` earned at `from`: `points * 2^(-(to - from) / half_life)`.
///
/// When `to` is before `from` the elapsed time counts as zero: points never grow.
/// `half_life_days` must be positive, which [`ScoringModel::validate`] guarantees.
pub fn decay(points: f64, from: DateTime<Utc>, to: DateTime<Utc>, half_life_days: f64) -> f64 {
    let elapsed = to - from;
    if elapsed <= chrono::TimeDelta::zero() {
        return points;
    }
    let days =
        (elapsed.num_seconds() as f64 + f64::from(elapsed.subsec_nanos()) * 1e-9) / SECONDS_PER_DAY;
    points * (-days / half_life_days).exp2()
}

/// An engagement score kept as its value at `as_of`, so that it can be updated one touch at a
/// time and read at any later moment.
///
/// Decay is multiplicative, so touches may arrive in any order, late ones included, and the
/// score is the same as if each touch's points had been decayed on their own.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Engagement {
    pub value: f64,
    pub as_of: DateTime<Utc>,
}

impl Engagement {
    pub fn zero(at: DateTime<Utc>) -> Self {
        Engagement {
            value: 0.0,
            as_of: at,
        }
    }

    /// Adds `points` earned at `at`. A touch newer than the score moves `as_of` forward; an
    /// older one is decayed to `as_of` before it is added.
    #[must_use]
    pub fn add(self, points: f64, at: DateTime<Utc>, half_life_days: f64) -> Engagement {
        if at >= self.as_of {
            Engagement {
                value: decay(self.value, self.as_of, at, half_life_days) + points,
                as_of: at,
            }
        } else {
            Engagement {
                value: self.value + decay(points, at, self.as_of, half_life_days),
                as_of: self.as_of,
            }
        }
    }

    /// The score at `now`; a moment before `as_of` sees the value at `as_of`.
    pub fn value_at(&self, now: DateTime<Utc>, half_life_days: f64) -> f64 {
        decay(self.value, self.as_of, now, half_life_days)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const EPS: f64 = 1e-9;

    fn day(d: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap() + chrono::TimeDelta::days(d)
    }

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() < EPS
    }

    #[test]
    fn decay_halves_every_half_life() {
        assert!(close(decay(10.0, day(0), day(0), 30.0), 10.0));
        assert!(close(decay(10.0, day(0), day(30), 30.0), 5.0));
        assert!(close(decay(10.0, day(0), day(60), 30.0), 2.5));
        assert!(close(decay(10.0, day(10), day(17), 7.0), 5.0));
    }

    #[test]
    fn decay_counts_fractions_of_a_day() {
        let from = day(0);
        let to = from + chrono::TimeDelta::hours(12);
        // Half a day with a one-day half-life: 8 * 2^-0.5.
        assert!(close(decay(8.0, from, to, 1.0), 5.656854249492381));
    }

    #[test]
    fn decay_never_grows_points_backwards_in_time() {
        assert_eq!(decay(10.0, day(30), day(0), 30.0), 10.0);
    }

    #[test]
    fn engagement_is_the_same_whatever_order_touches_arrive_in() {
        let touches = [
            (10.0, day(0)),
            (3.0, day(12)),
            (15.0, day(45)),
            (1.0, day(45)),
        ];
        let now = day(90);
        let half_life = 30.0;
        // By hand: 10*2^-3 + 3*2^-2.6 + 15*2^-1.5 + 1*2^-1.5
        //        = 1.25 + 0.4948154665398353 + 5.656854249492381.
        let direct: f64 = touches
            .iter()
            .map(|&(points, at)| decay(points, at, now, half_life))
            .sum();
        assert!(close(direct, 7.401669716032216));

        let mut orders = 0;
        for_each_permutation(&mut [0, 1, 2, 3], 0, &mut |order| {
            orders += 1;
            let engagement = order.iter().fold(Engagement::zero(day(0)), |e, &i| {
                let (points, at) = touches[i];
                e.add(points, at, half_life)
            });
            let value = engagement.value_at(now, half_life);
            assert!(close(value, direct), "order {order:?}: {value} != {direct}");
            assert_eq!(engagement.as_of, day(45), "order {order:?}");
        });
        assert_eq!(orders, 24);
    }

    fn for_each_permutation(items: &mut [usize], k: usize, visit: &mut dyn FnMut(&[usize])) {
        if k == items.len() {
            visit(items);
            return;
        }
        for i in k..items.len() {
            items.swap(k, i);
            for_each_permutation(items, k + 1, visit);
            items.swap(k, i);
        }
    }

    #[test]
    fn a_touch_older_than_the_score_is_decayed_to_as_of() {
        let e = Engagement::zero(day(30)).add(10.0, day(0), 30.0);
        assert_eq!(e.as_of, day(30));
        assert!(close(e.value, 5.0));
        assert!(close(e.value_at(day(60), 30.0), 2.5));
        assert!(close(e.value_at(day(10), 30.0), 5.0));
    }
}
