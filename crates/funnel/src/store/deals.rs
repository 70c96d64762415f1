//! Deal rows, with the projections of their log cached on them, and the append-only
//! transition log. Reads and writes only, in the caller's transaction.

use chrono::{DateTime, NaiveDate, Utc};
use contracts::funnel::{ProductLine, Stakeholder};
use contracts::money::Currency;
use diesel::prelude::*;
use platform::keyset;
use platform::sort::{Keyset, Sort};
use platform::time::now;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::schema::{deals, transitions};
use crate::domain::deal::{NewDeal, Terms};
use crate::domain::log::{Entry, Projection, Status};

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = deals, treat_none_as_null = true)]
pub struct DealRow {
    pub id: Uuid,
    pub funnel_id: Uuid,
    pub funnel_version: i32,
    pub external_id: Option<String>,
    pub lead_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub campaign_id: Option<String>,
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub expected_close: Option<NaiveDate>,
    pub owner: Option<String>,
    pub methodology: String,
    pub stakeholders: serde_json::Value,
    pub attributes: serde_json::Value,
    pub products: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub stage: String,
    pub stage_entered_at: DateTime<Utc>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub status: String,
    pub close_reason: Option<String>,
    pub transition_count: i32,
    /// When the deal last changed: opened, moved, patched, or its projections rebuilt.
    /// Every write of the row here sets it ([`save`], [`save_projections`]).
    pub updated_at: DateTime<Utc>,
    /// The deal's ETag: 1 when opened, bumped by every write of the row here.
    pub version: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = transitions)]
pub struct TransitionRow {
    pub deal_id: Uuid,
    pub seq: i32,
    pub from_stage: Option<String>,
    pub to_stage: String,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
    pub origin: String,
    pub recorded_at: DateTime<Utc>,
}

impl TransitionRow {
    /// A deal's first move: opening in `stage` at `at`.
    pub fn opening(
        deal_id: Uuid,
        stage: String,
        at: DateTime<Utc>,
        origin: &str,
        recorded_at: DateTime<Utc>,
    ) -> TransitionRow {
        TransitionRow {
            deal_id,
            seq: 1,
            from_stage: None,
            to_stage: stage,
            at,
            reason: None,
            origin: origin.to_string(),
            recorded_at,
        }
    }

    pub fn entry(&self) -> Entry {
        Entry {
            seq: self.seq,
            to_stage: self.to_stage.clone(),
            at: self.at,
            reason: self.reason.clone(),
        }
    }
}

fn json<T: serde::Serialize>(v: &T) -> QueryResult<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
}

impl DealRow {
    /// The row of a deal opening in `stage` at `opened_at`, its log's first move.
    pub fn opening(
        deal: &NewDeal,
        funnel_version: i32,
        stage: String,
        opened_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> QueryResult<DealRow> {
        Ok(DealRow {
            id: Uuid::now_v7(),
            funnel_id: deal.funnel_id,
            funnel_version,
            external_id: deal.external_id.clone(),
            lead_id: deal.lead_id,
            account_id: deal.account_id,
            campaign_id: deal.campaign_id.clone(),
            amount: deal.amount.as_ref().map(|m| m.0),
            currency: deal.amount.as_ref().map(|m| m.1.to_string()),
            expected_close: deal.expected_close,
            owner: deal.owner.clone(),
            methodology: deal.methodology.clone(),
            stakeholders: json(&deal.stakeholders)?,
            attributes: json(&deal.attributes)?,
            products: json(&deal.products)?,
            created_at: now,
            stage,
            stage_entered_at: opened_at,
            opened_at,
            closed_at: None,
            status: Status::Open.as_str().to_string(),
            close_reason: None,
            transition_count: 1,
            updated_at: now,
            version: 1,
        })
    }

    pub fn apply(&mut self, p: &Projection) {
        self.stage = p.stage.clone();
        self.stage_entered_at = p.stage_entered_at;
        self.opened_at = p.opened_at;
        self.closed_at = p.closed_at;
        self.status = p.status.as_str().to_string();
        self.close_reason = p.close_reason.clone();
        self.transition_count = p.transition_count;
    }

    pub fn projection(&self) -> Projection {
        Projection {
            stage: self.stage.clone(),
            stage_entered_at: self.stage_entered_at,
            opened_at: self.opened_at,
            closed_at: self.closed_at,
            status: Status::parse(&self.status),
            close_reason: self.close_reason.clone(),
            transition_count: self.transition_count,
        }
    }

    pub fn stakeholders(&self) -> Vec<Stakeholder> {
        serde_json::from_value(self.stakeholders.clone()).unwrap_or_default()
    }

    pub fn product_lines(&self) -> Vec<ProductLine> {
        serde_json::from_value(self.products.clone()).unwrap_or_default()
    }

    /// The terms a PATCH may change, as they stand.
    pub fn terms(&self) -> Terms {
        Terms {
            amount: self.amount.zip(self.currency()),
            owner: self.owner.clone(),
            expected_close: self.expected_close,
            methodology: self.methodology.clone(),
            stakeholders: self.stakeholders(),
        }
    }

    pub fn set_terms(&mut self, t: &Terms) -> QueryResult<()> {
        self.amount = t.amount.as_ref().map(|m| m.0);
        self.currency = t.amount.as_ref().map(|m| m.1.to_string());
        self.owner = t.owner.clone();
        self.expected_close = t.expected_close;
        self.methodology = t.methodology.clone();
        self.stakeholders = json(&t.stakeholders)?;
        Ok(())
    }

    pub fn set_product_lines(&mut self, lines: &[ProductLine]) -> QueryResult<()> {
        self.products = json(&lines)?;
        Ok(())
    }

    pub fn currency(&self) -> Option<Currency> {
        self.currency
            .as_deref()
            .and_then(|c| Currency::parse(c).ok())
    }
}

/// Inserts a deal unless its funnel already has a deal with its external id; returns
/// whether it was inserted. `ON CONFLICT DO NOTHING`, so two concurrent opens of one
/// external id never fail on the key: one inserts, the other learns it lost.
pub fn insert(conn: &mut PgConnection, deal: &DealRow) -> QueryResult<bool> {
    let n = diesel::insert_into(deals::table)
        .values(deal)
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(n == 1)
}

/// Writes the deal row back (its projections, value and terms), as changed now:
/// `updated_at` is set and `version` bumped on the row written and on `deal`.
pub fn save(conn: &mut PgConnection, deal: &mut DealRow) -> QueryResult<()> {
    deal.updated_at = now();
    deal.version += 1;
    diesel::update(deals::table.find(deal.id))
        .set(&*deal)
        .execute(conn)?;
    Ok(())
}

/// Appends a move to the log.
pub fn append(conn: &mut PgConnection, t: &TransitionRow) -> QueryResult<()> {
    diesel::insert_into(transitions::table)
        .values(t)
        .execute(conn)?;
    Ok(())
}

/// Rows per multi-row insert: PostgreSQL takes at most 65,535 bound values a statement.
const ROWS_PER_INSERT: usize = 2000;

/// Inserts several deals, in as few statements as the bind limit allows.
pub fn insert_many(conn: &mut PgConnection, rows: &[DealRow]) -> QueryResult<()> {
    for part in rows.chunks(ROWS_PER_INSERT) {
        diesel::insert_into(deals::table)
            .values(part)
            .execute(conn)?;
    }
    Ok(())
}

/// Appends several moves to the log, in as few statements as the bind limit allows.
pub fn append_many(conn: &mut PgConnection, moves: &[TransitionRow]) -> QueryResult<()> {
    for part in moves.chunks(ROWS_PER_INSERT) {
        diesel::insert_into(transitions::table)
            .values(part)
            .execute(conn)?;
    }
    Ok(())
}

/// Writes the projections (stage, times, status, reason, count) of several deal rows back
/// in one statement, as changed now: `updated_at` is set and `version` bumped on the rows
/// written and in `rows`.
pub fn save_projections(conn: &mut PgConnection, rows: &mut [DealRow]) -> QueryResult<()> {
    use diesel::sql_types::{Array, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
    if rows.is_empty() {
        return Ok(());
    }
    let at = now();
    for row in rows.iter_mut() {
        row.updated_at = at;
        row.version += 1;
    }
    diesel::sql_query(
        "UPDATE deals AS d SET stage = u.stage, stage_entered_at = u.stage_entered_at, \
         opened_at = u.opened_at, closed_at = u.closed_at, status = u.status, \
         close_reason = u.close_reason, transition_count = u.transition_count, updated_at = $9, \
         version = d.version + 1 \
         FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], \
         $5::timestamptz[], $6::text[], $7::text[], $8::int4[]) \
         AS u(id, stage, stage_entered_at, opened_at, closed_at, status, close_reason, transition_count) \
         WHERE d.id = u.id",
    )
    .bind::<Array<SqlUuid>, _>(rows.iter().map(|d| d.id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|d| d.stage.clone()).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(rows.iter().map(|d| d.stage_entered_at).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(rows.iter().map(|d| d.opened_at).collect::<Vec<_>>())
    .bind::<Array<Nullable<Timestamptz>>, _>(rows.iter().map(|d| d.closed_at).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|d| d.status.clone()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(
        rows.iter()
            .map(|d| d.close_reason.clone())
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Int4>, _>(rows.iter().map(|d| d.transition_count).collect::<Vec<_>>())
    .bind::<Timestamptz, _>(at)
    .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<DealRow>> {
    deals::table
        .find(id)
        .select(DealRow::as_select())
        .first(conn)
        .optional()
}

/// The same, with the row locked for the rest of the transaction, so that concurrent moves
/// of one deal serialise.
pub fn find_for_update(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<DealRow>> {
    deals::table
        .find(id)
        .select(DealRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn find_external(
    conn: &mut PgConnection,
    funnel_id: Uuid,
    external_id: &str,
) -> QueryResult<Option<DealRow>> {
    deals::table
        .filter(
            deals::funnel_id
                .eq(funnel_id)
                .and(deals::external_id.eq(external_id)),
        )
        .select(DealRow::as_select())
        .first(conn)
        .optional()
}

/// Deals by id, locked for the rest of the transaction (in id order, so that concurrent
/// batches lock in the same order).
pub fn find_many_for_update(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<DealRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    deals::table
        .filter(deals::id.eq_any(ids))
        .order(deals::id)
        .select(DealRow::as_select())
        .for_update()
        .load(conn)
}

/// A funnel's deals by external id, locked for the rest of the transaction. One probe of
/// the `(funnel_id, external_id)` key per id, whatever the statistics say: a fresh table has
/// none, and a plan that scans the funnel's deals instead costs each batch of an import as
/// much as the table holds.
pub fn find_external_many_for_update(
    conn: &mut PgConnection,
    funnel_id: Uuid,
    external_ids: &[String],
) -> QueryResult<Vec<DealRow>> {
    use diesel::sql_types::{Array, Text, Uuid as SqlUuid};
    if external_ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::sql_query(
        "SELECT d.* FROM unnest($2::text[]) AS x(external_id) CROSS JOIN LATERAL \
         (SELECT * FROM deals WHERE funnel_id = $1 AND external_id = x.external_id \
         OFFSET 0 FOR UPDATE) AS d",
    )
    .bind::<SqlUuid, _>(funnel_id)
    .bind::<Array<Text>, _>(external_ids)
    .load(conn)
}

/// A deal's log in recording order.
pub fn log_of(conn: &mut PgConnection, id: Uuid) -> QueryResult<Vec<TransitionRow>> {
    transitions::table
        .filter(transitions::deal_id.eq(id))
        .order(transitions::seq)
        .select(TransitionRow::as_select())
        .load(conn)
}

/// Up to `limit` moves of a deal's log after the move numbered `after`, in recording order.
pub fn log_page(
    conn: &mut PgConnection,
    id: Uuid,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<TransitionRow>> {
    transitions::table
        .filter(transitions::deal_id.eq(id))
        .filter(transitions::seq.gt(after))
        .order(transitions::seq)
        .limit(limit)
        .select(TransitionRow::as_select())
        .load(conn)
}

/// The logs of several deals, in no particular order.
pub fn logs_of(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<TransitionRow>> {
    transitions::table
        .filter(transitions::deal_id.eq_any(ids))
        .select(TransitionRow::as_select())
        .load(conn)
}

/// Up to `limit` deals after `after` by id, locked for the rest of the transaction.
pub fn batch_for_update(
    conn: &mut PgConnection,
    after: Uuid,
    limit: i64,
) -> QueryResult<Vec<DealRow>> {
    deals::table
        .filter(deals::id.gt(after))
        .select(DealRow::as_select())
        .order(deals::id)
        .limit(limit)
        .for_update()
        .load(conn)
}

/// Deals of a lead, oldest first.
pub fn of_lead(conn: &mut PgConnection, lead_id: Uuid) -> QueryResult<Vec<DealRow>> {
    deals::table
        .filter(deals::lead_id.eq(lead_id))
        .order(deals::created_at)
        .select(DealRow::as_select())
        .load(conn)
}

/// Which deals a list asks for, and the page: `limit` deals after the keyset `after` in
/// the order `sort`.
#[derive(Debug, Clone, Default)]
pub struct DealFilter {
    pub funnel_id: Option<Uuid>,
    pub status: Option<String>,
    pub stage: Option<String>,
    pub lead_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub campaign_id: Option<String>,
    pub external_id: Option<String>,
    /// Updated at or after.
    pub updated_since: Option<DateTime<Utc>>,
    pub sort: Sort,
    pub after: Option<Keyset<Uuid>>,
    pub limit: i64,
}

/// A page of deals in `sort` order, ties by id.
pub fn list(conn: &mut PgConnection, f: &DealFilter) -> QueryResult<Vec<DealRow>> {
    let q = deals::table
        .select(DealRow::as_select())
        .limit(f.limit)
        .into_boxed();
    let mut q = keyset!(q, deals, f.sort, f.after);
    if let Some(id) = f.funnel_id {
        q = q.filter(deals::funnel_id.eq(id));
    }
    if let Some(s) = &f.status {
        q = q.filter(deals::status.eq(s.clone()));
    }
    if let Some(s) = &f.stage {
        q = q.filter(deals::stage.eq(s.clone()));
    }
    if let Some(l) = f.lead_id {
        q = q.filter(deals::lead_id.eq(l));
    }
    if let Some(a) = f.account_id {
        q = q.filter(deals::account_id.eq(a));
    }
    if let Some(c) = &f.campaign_id {
        q = q.filter(deals::campaign_id.eq(c.clone()));
    }
    if let Some(x) = &f.external_id {
        q = q.filter(deals::external_id.eq(x.clone()));
    }
    if let Some(t) = f.updated_since {
        q = q.filter(deals::updated_at.ge(t));
    }
    q.load(conn)
}
