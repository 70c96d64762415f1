//! Engagement touches: each touchpoint counted once, with the points it earned.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::engagement_touches;

/// A touch that earned a lead points.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = engagement_touches)]
pub struct NewTouch<'a> {
    pub touchpoint_id: Uuid,
    pub lead_id: Uuid,
    pub account_id: Option<Uuid>,
    pub touch_type: &'a str,
    pub channel: &'a str,
    pub points: f64,
    pub occurred_at: DateTime<Utc>,
}

/// Records the touches and returns the ids of those not recorded before.
pub fn record_touches(conn: &mut PgConnection, touches: &[NewTouch<'_>]) -> QueryResult<Vec<Uuid>> {
    let mut new = Vec::new();
    // PostgreSQL takes at most 65535 bind parameters per statement.
    for part in touches.chunks(8_000) {
        new.extend(
            diesel::insert_into(engagement_touches::table)
                .values(part)
                .on_conflict_do_nothing()
                .returning(engagement_touches::touchpoint_id)
                .get_results::<Uuid>(conn)?,
        );
    }
    Ok(new)
}

/// An account's engagement as the ABM report sees it, with the highest of any account.
#[derive(Debug, Clone, QueryableByName)]
pub struct AccountEngagement {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub engaged_leads: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub engagement: f64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub engagement_30d_ago: f64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub buying_stage: String,
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub max_engagement: f64,
}

/// The engagement of one account, decayed under `half_life_days`.
pub fn account_engagement(
    conn: &mut PgConnection,
    account_id: Uuid,
    half_life_days: f64,
) -> QueryResult<AccountEngagement> {
    // Normalised across every account, so the window runs before the filter.
    let sql = format!(
        "SELECT engaged_leads, engagement, engagement_30d_ago, buying_stage, max_engagement \
         FROM (SELECT t.*, max(engagement) OVER () AS max_engagement FROM ({}) t) u \
         WHERE id = $1",
        super::reports::accounts_csv_sql(half_life_days)
    );
    diesel::sql_query(sql)
        .bind::<diesel::sql_types::Uuid, _>(account_id)
        .get_result(conn)
}
