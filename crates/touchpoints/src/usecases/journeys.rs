//! A lead's journey: its touches and its conversions, each with the touches of its window.

use platform::Db;
use uuid::Uuid;

use crate::domain::Touchpoint;
use crate::domain::journey::journey_ids;
use crate::error::TouchpointsError;
use crate::store::conversions::{self, ConversionRow};
use crate::store::{identity, touchpoints};

pub struct LeadJourney {
    /// The live lead: the one asked for, or the lead it was merged into.
    pub lead: Uuid,
    /// The lead's most recent touches, oldest first.
    pub touches: Vec<Touchpoint>,
    /// Whether older touches were left out by the limit.
    pub truncated: bool,
    /// Each conversion with the ids of the touches of its journey, oldest first.
    pub conversions: Vec<(ConversionRow, Vec<Uuid>)>,
}

/// The journey of lead `asked` (followed through merges): its `limit` most recent touches
/// and its conversions, each with the touches in the `lookback_days` before it.
pub async fn of_lead(
    db: &Db,
    asked: Uuid,
    lookback_days: u32,
    limit: u32,
) -> Result<LeadJourney, TouchpointsError> {
    let (lead, mut touches, convs) = db
        .run(move |conn| {
            let lead = identity::resolve(conn, asked)?;
            let touches = touchpoints::of_lead(conn, lead, i64::from(limit) + 1)?;
            let convs = conversions::of_lead(conn, lead)?;
            Ok::<_, TouchpointsError>((lead, touches, convs))
        })
        .await?;
    let truncated = touches.len() > limit as usize;
    if truncated {
        touches.remove(0);
    }
    let conversions = convs
        .into_iter()
        .map(|c| {
            let journey = journey_ids(&touches, c.converted_at, lookback_days);
            (c, journey)
        })
        .collect();
    Ok(LeadJourney {
        lead,
        touches,
        truncated,
        conversions,
    })
}
