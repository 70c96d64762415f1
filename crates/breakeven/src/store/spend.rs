//! Campaign spend rows: the touchpoint costs per campaign and currency.

use diesel::prelude::*;
use diesel::sql_types::Timestamptz;
use rust_decimal::Decimal;

use super::schema::campaign_spend;
use crate::domain::spend::SpendSum;

/// Adds `s` to a campaign's spend in `currency`.
pub fn add(
    conn: &mut PgConnection,
    campaign: &str,
    currency: &str,
    s: &SpendSum,
) -> QueryResult<()> {
    diesel::insert_into(campaign_spend::table)
        .values((
            campaign_spend::campaign_id.eq(campaign),
            campaign_spend::currency.eq(currency),
            campaign_spend::spend.eq(s.spend),
            campaign_spend::touches.eq(s.touches),
            campaign_spend::first_at.eq(s.first),
            campaign_spend::last_at.eq(s.last),
        ))
        .on_conflict((campaign_spend::campaign_id, campaign_spend::currency))
        .do_update()
        .set((
            campaign_spend::spend.eq(campaign_spend::spend + s.spend),
            campaign_spend::touches.eq(campaign_spend::touches + s.touches),
            campaign_spend::first_at.eq(diesel::dsl::sql::<Timestamptz>(
                "least(campaign_spend.first_at, excluded.first_at)",
            )),
            campaign_spend::last_at.eq(diesel::dsl::sql::<Timestamptz>(
                "greatest(campaign_spend.last_at, excluded.last_at)",
            )),
        ))
        .execute(conn)?;
    Ok(())
}

/// A campaign's spend per currency, by currency.
pub fn of_campaign(conn: &mut PgConnection, campaign: &str) -> QueryResult<Vec<(String, Decimal)>> {
    campaign_spend::table
        .filter(campaign_spend::campaign_id.eq(campaign))
        .order(campaign_spend::currency)
        .select((campaign_spend::currency, campaign_spend::spend))
        .load(conn)
}
