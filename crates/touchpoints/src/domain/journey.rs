//! A journey: the touches of a lead in the lookback window before a conversion.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// When the journey ending at `end` starts: `lookback_days` before it.
pub fn window_start(end: DateTime<Utc>, lookback_days: u32) -> DateTime<Utc> {
    end - Duration::days(i64::from(lookback_days))
}

/// The ids of `touches` (id and time, in their order) that happened in the `lookback_days`
/// up to `end`, both edges included.
pub fn journey_ids(
    touches: &[(Uuid, DateTime<Utc>)],
    end: DateTime<Utc>,
    lookback_days: u32,
) -> Vec<Uuid> {
    let start = window_start(end, lookback_days);
    touches
        .iter()
        .filter(|(_, at)| *at <= end && *at >= start)
        .map(|(id, _)| *id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_includes_both_edges() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let touch = |s: &str| (Uuid::now_v7(), at(s));
        let touches = [
            touch("2026-02-28T23:59:59Z"),
            touch("2026-03-01T00:00:00Z"),
            touch("2026-03-02T00:00:00Z"),
            touch("2026-03-02T00:00:01Z"),
        ];
        let ids = journey_ids(&touches, at("2026-03-02T00:00:00Z"), 1);
        let want: Vec<Uuid> = touches[1..3].iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, want);
    }
}
