//! Campaign alerts: after anything that moves a campaign's figures, its progress is
//! re-computed under a lock on its alert row and the alerts it now calls for are enqueued:
//! `campaign.breakeven_reached` once ever, `campaign.at_risk` once per entry into that
//! state.

use chrono::{DateTime, Utc};
use contracts::Currency;
use contracts::breakeven::{CampaignAtRisk, CampaignBreakevenReached};
use diesel::PgConnection;
use platform::TraceContext;
use platform::bus::outbox;

use super::progress::{CampaignStatus, campaign_status};
use crate::Tracking;
use crate::domain::campaign::{self, Alert, Progress};
use crate::domain::cvp::present;
use crate::error::BreakevenError;
use crate::store::alerts as store;
use crate::store::campaigns::CampaignRow;

pub fn evaluate_campaign(
    conn: &mut PgConnection,
    campaign_id: &str,
    tracking: &Tracking,
    trace: Option<&TraceContext>,
) -> Result<(), BreakevenError> {
    store::lock(conn, campaign_id)?;
    let now = Utc::now();
    let status = campaign_status(conn, campaign_id, tracking, now)?;
    let (Some(progress), Some(c)) = (&status.progress, &status.campaign) else {
        return Ok(());
    };
    let (next, fired) = campaign::alerts(status.alerts, progress);
    // Written only once parsed: a stored currency that no longer parses is bad data, which
    // a retry would read again.
    let currency = Currency::parse(&c.currency)
        .map_err(|e| BreakevenError::Corrupt(format!("campaign {campaign_id}: {e}")))?;
    for alert in &fired {
        match alert {
            Alert::BreakevenReached => {
                outbox::enqueue(
                    conn,
                    &reached(&status, progress, currency.clone(), now),
                    trace,
                )?;
            }
            Alert::AtRisk => {
                outbox::enqueue(
                    conn,
                    &at_risk(&status, c, progress, currency.clone(), now),
                    trace,
                )?;
            }
        }
    }
    if next != status.alerts {
        let reached_at = (next.reached && !status.alerts.reached).then_some(now);
        store::save(
            conn,
            campaign_id,
            next.at_risk,
            fired.contains(&Alert::AtRisk),
            reached_at,
        )?;
    }
    Ok(())
}

fn reached(
    status: &CampaignStatus,
    progress: &Progress,
    currency: Currency,
    now: DateTime<Utc>,
) -> CampaignBreakevenReached {
    CampaignBreakevenReached {
        campaign_id: status.campaign_id.clone(),
        spend: status.spend,
        attributed_revenue: status.attributed_revenue,
        contribution: present::money(progress.contribution),
        currency,
        roas: present::ratio(progress.roas.unwrap_or_default()),
        breakeven_roas: present::ratio(progress.breakeven_roas),
        reached_at: now,
    }
}

fn at_risk(
    status: &CampaignStatus,
    c: &CampaignRow,
    progress: &Progress,
    currency: Currency,
    now: DateTime<Utc>,
) -> CampaignAtRisk {
    CampaignAtRisk {
        campaign_id: status.campaign_id.clone(),
        budget: c.budget,
        spend: status.spend,
        spend_share: present::ratio(progress.spend_share.unwrap_or_default()),
        risk_threshold: c.risk_threshold,
        attributed_revenue: status.attributed_revenue,
        currency,
        roas: present::ratio(progress.roas.unwrap_or_default()),
        breakeven_roas: present::ratio(progress.breakeven_roas),
        projected_breakeven_date: progress.projected_breakeven_date,
        detected_at: now,
    }
}
