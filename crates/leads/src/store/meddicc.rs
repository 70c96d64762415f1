//! Each lead's MEDDICC card, stored as JSON.

use chrono::Utc;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::meddicc_cards;
use crate::domain::meddicc::Meddicc;

/// A lead's MEDDICC card, if it has one that reads.
pub fn card(conn: &mut PgConnection, lead_id: Uuid) -> QueryResult<Option<Meddicc>> {
    let json: Option<serde_json::Value> = meddicc_cards::table
        .find(lead_id)
        .select(meddicc_cards::card)
        .first(conn)
        .optional()?;
    Ok(json.and_then(|v| serde_json::from_value(v).ok()))
}

/// Stores the lead's card, replacing any earlier one.
pub fn save_card(conn: &mut PgConnection, lead_id: Uuid, card: &Meddicc) -> QueryResult<()> {
    let json = serde_json::to_value(card).expect("MEDDICC serializes");
    diesel::insert_into(meddicc_cards::table)
        .values((
            meddicc_cards::lead_id.eq(lead_id),
            meddicc_cards::card.eq(&json),
            meddicc_cards::updated_at.eq(Utc::now()),
        ))
        .on_conflict(meddicc_cards::lead_id)
        .do_update()
        .set((
            meddicc_cards::card.eq(&json),
            meddicc_cards::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .map(drop)
}
