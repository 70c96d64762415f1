//! A campaign's live progress to break-even: its spend, attributed revenue and the margin
//! of its product mix, read from the store, and what the domain makes of them.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use platform::Db;
use rust_decimal::Decimal;

use crate::Tracking;
use crate::domain::campaign::{self, AlertState, Facts, Progress};
use crate::error::BreakevenError;
use crate::store::campaigns::{self, CampaignRow, KnownId};
use crate::store::{alerts, attributions, products, spend};

/// Everything known of one campaign id.
#[derive(Debug, Clone)]
pub struct CampaignStatus {
    pub campaign_id: String,
    /// `None` while only events have named the campaign.
    pub campaign: Option<CampaignRow>,
    pub currency: Option<String>,
    pub spend: Decimal,
    pub attributed_revenue: Decimal,
    /// `None` until the campaign (and so its product mix) is defined.
    pub margin_ratio: Option<Decimal>,
    pub progress: Option<Progress>,
    pub alerts: AlertState,
}

impl CampaignStatus {
    /// Whether anything at all is known of the campaign.
    pub fn is_known(&self) -> bool {
        self.campaign.is_some() || self.currency.is_some() || !self.attributed_revenue.is_zero()
    }
}

/// A campaign's status at `now`.
pub fn campaign_status(
    conn: &mut PgConnection,
    campaign_id: &str,
    tracking: &Tracking,
    now: DateTime<Utc>,
) -> Result<CampaignStatus, BreakevenError> {
    let campaign = campaigns::find(conn, campaign_id)?;
    let spends = spend::of_campaign(conn, campaign_id)?;
    // A defined campaign counts in its own currency; an undefined one in the first seen.
    let currency = campaign
        .as_ref()
        .map(|c| c.currency.clone())
        .or_else(|| spends.first().map(|s| s.0.clone()));
    let spend: Decimal = spends
        .iter()
        .filter(|s| Some(&s.0) == currency.as_ref())
        .map(|s| s.1)
        .sum();
    let (attributed_revenue, first_activity) = match &currency {
        Some(cur) => {
            attributions::attributed_revenue(conn, campaign_id, cur, &tracking.attribution_model)?
        }
        None => (Decimal::ZERO, None),
    };
    let margin_ratio = match &campaign {
        Some(c) => {
            let mix = c.mix();
            let ids: Vec<_> = mix.iter().map(|m| m.0).collect();
            campaign::mix_margin_ratio(&mix, &products::priced(conn, &ids)?)
        }
        None => None,
    };
    let progress = match (&campaign, margin_ratio) {
        (Some(c), Some(ratio)) => Some(campaign::progress(
            &Facts {
                spend,
                attributed_revenue,
                margin_ratio: ratio,
                budget: c.budget,
                risk_threshold: c.risk_threshold,
                starts_on: c.starts_on,
                ends_on: c.ends_on,
                first_activity,
            },
            now,
        )?),
        _ => None,
    };
    Ok(CampaignStatus {
        campaign_id: campaign_id.to_string(),
        alerts: alerts::state(conn, campaign_id)?,
        campaign,
        currency,
        spend,
        attributed_revenue,
        margin_ratio,
        progress,
    })
}

/// A campaign's live break-even; `NotFound` when nothing at all is known of the id.
pub async fn of_campaign(
    db: &Db,
    tracking: &Tracking,
    id: String,
) -> Result<CampaignStatus, BreakevenError> {
    let tracking = tracking.clone();
    let key = id.clone();
    let status = db
        .run(move |conn| campaign_status(conn, &key, &tracking, Utc::now()))
        .await?;
    if !status.is_known() {
        return Err(BreakevenError::NotFound(format!("campaign {id}")));
    }
    Ok(status)
}

/// Every campaign id known (defined, or only named by events) with its status: the
/// defined first, then by id.
pub async fn all(db: &Db, tracking: &Tracking) -> Result<Vec<CampaignStatus>, BreakevenError> {
    let tracking = tracking.clone();
    db.run(move |conn| {
        let now = Utc::now();
        campaigns::known(conn, None, None)?
            .iter()
            .map(|k| campaign_status(conn, &k.campaign_id, &tracking, now))
            .collect()
    })
    .await
}

/// At most `limit` of the campaign ids of [`all`], after `after`, with their statuses;
/// and the position to resume from when more follow.
pub async fn page(
    db: &Db,
    tracking: &Tracking,
    after: Option<KnownId>,
    limit: i64,
) -> Result<(Vec<CampaignStatus>, Option<KnownId>), BreakevenError> {
    let tracking = tracking.clone();
    db.run(move |conn| {
        let now = Utc::now();
        let mut ids = campaigns::known(conn, after.as_ref(), Some(limit + 1))?;
        let more = ids.len() as i64 > limit;
        ids.truncate(limit as usize);
        let statuses = ids
            .iter()
            .map(|k| campaign_status(conn, &k.campaign_id, &tracking, now))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((statuses, if more { ids.pop() } else { None }))
    })
    .await
}
