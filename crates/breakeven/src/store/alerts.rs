//! Alert rows: what each campaign has been told (break-even once ever, at-risk per entry
//! into that state) and which company months have broken even.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::{campaign_alerts, company_periods};
use crate::domain::campaign::AlertState;

/// Locks a campaign's alert row (creating it first), so that concurrent evaluations of one
/// campaign run one after the other.
pub fn lock(conn: &mut PgConnection, campaign_id: &str) -> QueryResult<()> {
    diesel::insert_into(campaign_alerts::table)
        .values(campaign_alerts::campaign_id.eq(campaign_id))
        .on_conflict_do_nothing()
        .execute(conn)?;
    campaign_alerts::table
        .find(campaign_id)
        .select(campaign_alerts::campaign_id)
        .for_update()
        .first::<String>(conn)?;
    Ok(())
}

/// A campaign's alert state; the default before any evaluation.
pub fn state(conn: &mut PgConnection, campaign_id: &str) -> QueryResult<AlertState> {
    Ok(campaign_alerts::table
        .find(campaign_id)
        .select((
            campaign_alerts::breakeven_reached_at,
            campaign_alerts::at_risk,
        ))
        .first::<(Option<DateTime<Utc>>, bool)>(conn)
        .optional()?
        .map(|(reached, at_risk)| AlertState {
            reached: reached.is_some(),
            at_risk,
        })
        .unwrap_or_default())
}

/// Records a campaign's new alert state: whether it is at risk (counting an at-risk
/// alert when one was sent) and, the first time, when it reached break-even.
pub fn save(
    conn: &mut PgConnection,
    campaign_id: &str,
    at_risk: bool,
    at_risk_sent: bool,
    reached_at: Option<DateTime<Utc>>,
) -> QueryResult<()> {
    diesel::update(campaign_alerts::table.find(campaign_id))
        .set((
            campaign_alerts::at_risk.eq(at_risk),
            campaign_alerts::at_risk_alerts
                .eq(campaign_alerts::at_risk_alerts + i32::from(at_risk_sent)),
        ))
        .execute(conn)?;
    if let Some(t) = reached_at {
        diesel::update(campaign_alerts::table.find(campaign_id))
            .set(campaign_alerts::breakeven_reached_at.eq(t))
            .execute(conn)?;
    }
    Ok(())
}

/// When a company month broke even in `currency`, if it has.
pub fn month_reached_at(
    conn: &mut PgConnection,
    month: &str,
    currency: &str,
) -> QueryResult<Option<DateTime<Utc>>> {
    company_periods::table
        .find((month, currency))
        .select(company_periods::reached_at)
        .first(conn)
        .optional()
}

/// Records that a month broke even at `at`, once: `false` when it was recorded before.
pub fn mark_month_reached(
    conn: &mut PgConnection,
    month: &str,
    currency: &str,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(company_periods::table)
        .values((
            company_periods::period.eq(month),
            company_periods::currency.eq(currency),
            company_periods::reached_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(inserted > 0)
}
