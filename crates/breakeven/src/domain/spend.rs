//! Campaign spend from touchpoint costs: a batch of touches summed per campaign and
//! currency, so that each is applied once.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use chrono::{DateTime, Utc};
use contracts::touchpoints::TouchpointRecorded;
use rust_decimal::Decimal;

use super::cvp::{Calc, add};

/// The costs of some touches on one campaign, in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendSum {
    pub spend: Decimal,
    pub touches: i64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// The costs of `touches` per (campaign id, currency), in that order. A touch without a
/// campaign, a currency or a positive cost spends nothing. Costs summing past `Decimal`'s
/// range are an overflow, the same for this batch every time.
pub fn sum_costs(touches: &[TouchpointRecorded]) -> Calc<BTreeMap<(String, String), SpendSum>> {
    let mut sums: BTreeMap<(String, String), SpendSum> = BTreeMap::new();
    for t in touches {
        let (Some(campaign), Some(cost), Some(currency)) = (&t.campaign_id, t.cost, &t.currency)
        else {
            continue;
        };
        if cost <= Decimal::ZERO {
            continue;
        }
        match sums.entry((campaign.clone(), currency.to_string())) {
            Entry::Occupied(mut e) => {
                let s = e.get_mut();
                s.spend = add(s.spend, cost)?;
                s.touches += 1;
                s.first = s.first.min(t.occurred_at);
                s.last = s.last.max(t.occurred_at);
            }
            Entry::Vacant(e) => {
                e.insert(SpendSum {
                    spend: cost,
                    touches: 1,
                    first: t.occurred_at,
                    last: t.occurred_at,
                });
            }
        }
    }
    Ok(sums)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn touch(campaign: Option<&str>, cost: &str, at: &str) -> TouchpointRecorded {
        serde_json::from_value(json!({
            "touchpoint_id": uuid::Uuid::now_v7(), "occurred_at": at, "received_at": at,
            "channel": "paid_search", "type": "click", "campaign_id": campaign,
            "cost": cost, "currency": "USD"
        }))
        .unwrap()
    }

    #[test]
    fn costs_sum_per_campaign_and_currency() {
        let sums = sum_costs(&[
            touch(Some("b"), "2", "2025-03-02T00:00:00Z"),
            touch(Some("a"), "1.5", "2025-03-03T00:00:00Z"),
            touch(Some("b"), "3", "2025-03-01T00:00:00Z"),
            touch(Some("b"), "0", "2025-02-01T00:00:00Z"),
            touch(None, "7", "2025-03-01T00:00:00Z"),
        ])
        .unwrap();
        let keys: Vec<&str> = sums.keys().map(|(c, _)| c.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        let b = &sums[&("b".to_string(), "USD".to_string())];
        assert_eq!((b.spend, b.touches), (Decimal::from(5), 2));
        assert_eq!(
            b.first,
            "2025-03-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            b.last,
            "2025-03-02T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn costs_past_the_decimal_range_are_an_overflow_not_a_panic() {
        let huge = "70000000000000000000000000000";
        let e = sum_costs(&[
            touch(Some("a"), huge, "2025-03-01T00:00:00Z"),
            touch(Some("a"), huge, "2025-03-02T00:00:00Z"),
        ]);
        assert_eq!(e, Err(crate::domain::cvp::CalcError::Overflow));
    }
}
