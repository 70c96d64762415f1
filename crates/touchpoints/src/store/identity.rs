//! Identity stitching: the identity map (anonymous id / email → lead), merges, and tying
//! earlier anonymous touches to a lead when it appears. Every function here expects to run
//! under [`lock`], in the consumer's transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use uuid::Uuid;

use super::STITCH_LOCK;
use super::schema::{conversions, identities, lead_merges, touchpoints};

/// Takes the stitching lock exclusively until the transaction ends.
pub fn lock(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query(format!("SELECT pg_advisory_xact_lock({STITCH_LOCK})")).execute(conn)?;
    Ok(())
}

/// Takes the stitching lock shared until the transaction ends: ingests run side by side,
/// and no stitching change runs under them.
pub fn lock_shared(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query(format!(
        "SELECT pg_advisory_xact_lock_shared({STITCH_LOCK})"
    ))
    .execute(conn)?;
    Ok(())
}

/// The live lead `lead` was merged into, or `lead` itself.
pub fn resolve(conn: &mut PgConnection, lead: Uuid) -> QueryResult<Uuid> {
    Ok(lead_merges::table
        .find(lead)
        .select(lead_merges::survivor_id)
        .first::<Uuid>(conn)
        .optional()?
        .unwrap_or(lead))
}

/// A lead appeared: its identities join the map (an identity already owned by another lead
/// stays with it) and every unstitched touch carrying them is tied to the identity's owner.
/// Returns how many touches were stitched.
pub fn lead_created(
    conn: &mut PgConnection,
    lead: Uuid,
    email: Option<&str>,
    anonymous_id: Option<&str>,
) -> QueryResult<usize> {
    let lead = resolve(conn, lead)?;
    let claims: Vec<_> = [("anonymous_id", anonymous_id), ("email", email)]
        .into_iter()
        .filter_map(|(kind, v)| v.map(|v| (kind, v.trim())))
        .filter(|(_, v)| !v.is_empty())
        .map(|(kind, v)| {
            let v = if kind == "email" {
                v.to_lowercase()
            } else {
                v.to_string()
            };
            (
                identities::kind.eq(kind),
                identities::value.eq(v),
                identities::lead_id.eq(lead),
            )
        })
        .collect();
    if claims.is_empty() {
        return Ok(0);
    }
    diesel::insert_into(identities::table)
        .values(&claims)
        .on_conflict_do_nothing()
        .execute(conn)?;
    let mut stitched = 0;
    if let Some(a) = anonymous_id {
        stitched += stitch(conn, "anonymous_id", a.trim())?;
    }
    if let Some(e) = email {
        stitched += stitch(conn, "email", &e.trim().to_lowercase())?;
    }
    Ok(stitched)
}

/// Ties the unstitched touches carrying identity `kind = value` to the identity's owner, and
/// their micro-conversions with them.
fn stitch(conn: &mut PgConnection, kind: &'static str, value: &str) -> QueryResult<usize> {
    // `kind` picks the column (never user input); the partial indexes serve both.
    let sql = format!(
        "WITH s AS ( \
           UPDATE touchpoints t SET lead_id = i.lead_id FROM identities i \
           WHERE i.kind = $1 AND i.value = $2 AND t.{kind} = $2 AND t.lead_id IS NULL \
           RETURNING t.id, t.lead_id), \
         c AS (UPDATE conversions c SET lead_id = s.lead_id FROM s WHERE c.touchpoint_id = s.id) \
         SELECT count(*) AS n FROM s"
    );
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let n: N = diesel::sql_query(sql)
        .bind::<Text, _>(kind)
        .bind::<Text, _>(value)
        .get_result(conn)?;
    Ok(n.n as usize)
}

/// `merged` was merged into `survivor`: its touches, conversions and identities move to the
/// survivor, and so does anything that arrives for `merged` later.
pub fn lead_merged(
    conn: &mut PgConnection,
    survivor: Uuid,
    merged: Uuid,
    merged_email: Option<&str>,
    merged_anonymous_id: Option<&str>,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let survivor = resolve(conn, survivor)?;
    if survivor == merged {
        return Ok(());
    }
    diesel::insert_into(lead_merges::table)
        .values((
            lead_merges::merged_lead_id.eq(merged),
            lead_merges::survivor_id.eq(survivor),
            lead_merges::merged_at.eq(at),
        ))
        .on_conflict(lead_merges::merged_lead_id)
        .do_update()
        .set(lead_merges::survivor_id.eq(survivor))
        .execute(conn)?;
    // Leads merged into `merged` earlier now point straight at the survivor.
    diesel::update(lead_merges::table.filter(lead_merges::survivor_id.eq(merged)))
        .set(lead_merges::survivor_id.eq(survivor))
        .execute(conn)?;
    diesel::update(identities::table.filter(identities::lead_id.eq(merged)))
        .set(identities::lead_id.eq(survivor))
        .execute(conn)?;
    diesel::update(touchpoints::table.filter(touchpoints::lead_id.eq(merged)))
        .set(touchpoints::lead_id.eq(survivor))
        .execute(conn)?;
    diesel::update(conversions::table.filter(conversions::lead_id.eq(merged)))
        .set(conversions::lead_id.eq(survivor))
        .execute(conn)?;
    lead_created(conn, survivor, merged_email, merged_anonymous_id)?;
    Ok(())
}
