//! A lead's journey: a page of its touches and its conversions, each with the touches of its
//! window.

use chrono::{DateTime, Utc};
use platform::Db;
use uuid::Uuid;

use crate::domain::Touchpoint;
use crate::domain::journey::{journey_ids, window_start};
use crate::error::TouchpointsError;
use crate::store::conversions::{self, ConversionRow};
use crate::store::{identity, touchpoints};

pub struct LeadJourney {
    /// The live lead: the one asked for, or the lead it was merged into.
    pub lead: Uuid,
    /// Up to `limit + 1` of the lead's touches after the cursor, oldest first (the extra one
    /// tells the caller that another page follows).
    pub touches: Vec<Touchpoint>,
    /// Each conversion with the ids of the touches of its journey, oldest first (all of
    /// them, whatever page of touches was asked for).
    pub conversions: Vec<(ConversionRow, Vec<Uuid>)>,
}

/// The journey of lead `asked` (followed through merges): up to `limit + 1` of its touches
/// after `after` (a touch's time and id) in time order, and its conversions, each with the
/// touches in the `lookback_days` before it.
pub async fn of_lead(
    db: &Db,
    asked: Uuid,
    lookback_days: u32,
    limit: i64,
    after: Option<(DateTime<Utc>, Uuid)>,
) -> Result<LeadJourney, TouchpointsError> {
    db.run(move |conn| {
        let lead = identity::resolve(conn, asked)?;
        let touches = touchpoints::page_of_lead(conn, lead, after, limit + 1)?;
        let convs = conversions::of_lead(conn, lead)?;
        let span = convs.iter().map(|c| c.converted_at);
        let times = match (span.clone().min(), span.max()) {
            (Some(first), Some(last)) => {
                touchpoints::times_of_lead(conn, lead, window_start(first, lookback_days), last)?
            }
            _ => Vec::new(),
        };
        let conversions = convs
            .into_iter()
            .map(|c| {
                let journey = journey_ids(&times, c.converted_at, lookback_days);
                (c, journey)
            })
            .collect();
        Ok::<_, TouchpointsError>(LeadJourney {
            lead,
            touches,
            conversions,
        })
    })
    .await
}
