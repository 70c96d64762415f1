//! A journey: the touches of a lead in the lookback window before a conversion.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::Touchpoint;

/// The ids of `touches` (in their order) that happened in the `lookback_days` up to `end`,
/// both edges included.
pub fn journey_ids(touches: &[Touchpoint], end: DateTime<Utc>, lookback_days: u32) -> Vec<Uuid> {
    let start = end - Duration::days(i64::from(lookback_days));
    touches
        .iter()
        .map(Touchpoint::get)
        .filter(|t| t.occurred_at <= end && t.occurred_at >= start)
        .map(|t| t.touchpoint_id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TouchpointDraft;

    #[test]
    fn the_window_includes_both_edges() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let touch = |s: &str| {
            let draft = TouchpointDraft {
                occurred_at: at(s),
                channel: "direct".into(),
                touch_type: "visit".into(),
                ..TouchpointDraft::default()
            };
            Touchpoint::parse(draft, at("2026-04-01T00:00:00Z")).unwrap()
        };
        let touches = [
            touch("2026-02-28T23:59:59Z"),
            touch("2026-03-01T00:00:00Z"),
            touch("2026-03-02T00:00:00Z"),
            touch("2026-03-02T00:00:01Z"),
        ];
        let ids = journey_ids(&touches, at("2026-03-02T00:00:00Z"), 1);
        let want: Vec<Uuid> = touches[1..3]
            .iter()
            .map(|t| t.get().touchpoint_id)
            .collect();
        assert_eq!(ids, want);
    }
}
