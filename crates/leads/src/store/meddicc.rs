//! Each lead's MEDDICC card, stored as JSON with its version.

use chrono::Utc;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::meddicc_cards;
use crate::domain::meddicc::Meddicc;

/// A lead's MEDDICC card and its version, if it has one.
pub fn card(conn: &mut PgConnection, lead_id: Uuid) -> QueryResult<Option<(i32, Meddicc)>> {
    let stored: Option<(i32, serde_json::Value)> = meddicc_cards::table
        .find(lead_id)
        .select((meddicc_cards::version, meddicc_cards::card))
        .first(conn)
        .optional()?;
    stored
        .map(|(version, json)| {
            let card = serde_json::from_value(json).map_err(|e| {
                diesel::result::Error::DeserializationError(format!("stored MEDDICC: {e}").into())
            })?;
            Ok((version, card))
        })
        .transpose()
}

/// Stores the lead's card as `version`, replacing any earlier one.
pub fn save_card(
    conn: &mut PgConnection,
    lead_id: Uuid,
    version: i32,
    card: &Meddicc,
) -> QueryResult<()> {
    let json = serde_json::to_value(card).expect("MEDDICC serializes");
    let now = Utc::now();
    diesel::insert_into(meddicc_cards::table)
        .values((
            meddicc_cards::lead_id.eq(lead_id),
            meddicc_cards::card.eq(&json),
            meddicc_cards::version.eq(version),
            meddicc_cards::updated_at.eq(now),
        ))
        .on_conflict(meddicc_cards::lead_id)
        .do_update()
        .set((
            meddicc_cards::card.eq(&json),
            meddicc_cards::version.eq(version),
            meddicc_cards::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}
