//! Deals: open one, move it, revise its terms, read it and its log, rebuild the
//! projections. Every move appends to the log, replays the deal's log into its row, and
//! queues its events, all in one transaction; so does a revision, with its one event.

use std::collections::HashMap;

use contracts::funnel::{DealCreated, DealLost, DealStageChanged, DealUpdated, DealWon};
use diesel::PgConnection;
use platform::bus::outbox;
use platform::http::versioning;
use platform::{Db, TraceContext};
use uuid::Uuid;

use super::{read, transaction};
use crate::domain::deal::{NewDeal, OpenError, TermsInput};
use crate::domain::funnel::{FunnelDef, LOST};
use crate::domain::log::{self, Entry, Move, Origin, Status};
use crate::error::FunnelError;
use crate::store::{deals as store, funnels};

pub use crate::store::deals::{DealFilter, DealRow, TransitionRow};

/// What one accepted move did.
#[derive(Debug, Clone)]
pub struct Moved {
    pub deal: DealRow,
    pub transition: TransitionRow,
}

/// Opens a deal from the API and publishes `deal.created`, in the caller's transaction.
pub fn open(
    conn: &mut PgConnection,
    deal: &NewDeal,
    trace: &TraceContext,
) -> Result<DealRow, FunnelError> {
    create(conn, deal, Origin::Api, Some(trace))
}

/// Moves a deal from the API and publishes the move, in the caller's transaction.
pub fn record_move(
    conn: &mut PgConnection,
    id: Uuid,
    m: &Move,
    trace: &TraceContext,
) -> Result<Moved, FunnelError> {
    transition(conn, id, m, Origin::Api, Some(trace))
}

/// Applies a PATCH to a deal's terms, if the deal is still at `expected_version`: `patch`
/// turns the deal as it stands into its merged terms, `sent` names the fields the patch
/// carries. When something changed, the deal is saved (a new version) and `deal.updated`
/// queued, in one transaction; otherwise the deal is answered as it is.
pub async fn revise(
    db: &Db,
    id: Uuid,
    expected_version: i32,
    sent: Vec<String>,
    patch: impl FnOnce(&DealRow) -> Result<TermsInput, FunnelError> + Send + 'static,
    trace: TraceContext,
) -> Result<DealRow, FunnelError> {
    transaction(db, move |tx| {
        let mut deal = store::find_for_update(tx, id)?.ok_or(FunnelError::DealNotFound(id))?;
        versioning::check(expected_version, deal.version)?;
        let merged = patch(&deal)?;
        let before = deal.terms();
        let won = Status::parse(&deal.status) == Status::Won;
        let after = before.revise(merged, &sent, won)?;
        let changed = before.changed(&after);
        if changed.is_empty() {
            return Ok(deal);
        }
        deal.set_terms(&after)?;
        store::save(tx, &mut deal)?;
        outbox::enqueue(tx, &updated_event(&deal, changed), Some(&trace))?;
        Ok(deal)
    })
    .await
}

pub async fn find(db: &Db, id: Uuid) -> Result<DealRow, FunnelError> {
    read(db, move |conn| store::find(conn, id))
        .await?
        .ok_or(FunnelError::DealNotFound(id))
}

/// One page of deals (`filter.limit` of them), in `filter.sort` order.
pub async fn list(db: &Db, filter: DealFilter) -> Result<Vec<DealRow>, FunnelError> {
    read(db, move |conn| store::list(conn, &filter)).await
}

/// Up to `limit` moves of a deal's log after the move `after`, in recording order.
pub async fn transitions(
    db: &Db,
    id: Uuid,
    after: Option<i32>,
    limit: i64,
) -> Result<Vec<TransitionRow>, FunnelError> {
    db.run(move |conn| {
        if store::find(conn, id)?.is_none() {
            return Err(FunnelError::DealNotFound(id));
        }
        Ok(store::log_page(conn, id, after.unwrap_or(0), limit)?)
    })
    .await
}

/// Opens a deal in `deal.stage` (or the funnel's first stage) and logs that as move 1, in
/// the caller's transaction.
pub fn create(
    conn: &mut PgConnection,
    deal: &NewDeal,
    origin: Origin,
    trace: Option<&TraceContext>,
) -> Result<DealRow, FunnelError> {
    let funnel = funnels::find(conn, deal.funnel_id, None)?.ok_or(OpenError::NoSuchFunnel)?;
    let now = platform::time::now();
    let (stage, opened_at) = deal.opening(&funnel.def, now)?;
    let row = DealRow::opening(deal, funnel.version, stage.clone(), opened_at, now)?;
    if !store::insert(conn, &row)? {
        let external_id = deal.external_id.clone().unwrap_or_default();
        let existing = store::find_external(conn, funnel.id, &external_id)?
            .ok_or_else(|| anyhow::anyhow!("deal insert conflicted, but on no external id"))?;
        return Err(FunnelError::DuplicateExternalId {
            external_id,
            existing: existing.id,
        });
    }
    store::append(
        conn,
        &TransitionRow::opening(row.id, stage, opened_at, origin.as_str(), now),
    )?;
    if origin.publishes() {
        outbox::enqueue(conn, &created_event(&row), trace)?;
    }
    Ok(row)
}

/// Appends a move to a deal's log after checking it against the log, then replays the log
/// into the deal row, in the caller's transaction. The deal row is locked, so concurrent
/// moves of one deal serialise.
pub fn transition(
    conn: &mut PgConnection,
    id: Uuid,
    m: &Move,
    origin: Origin,
    trace: Option<&TraceContext>,
) -> Result<Moved, FunnelError> {
    let mut deal = store::find_for_update(conn, id)?.ok_or(FunnelError::DealNotFound(id))?;
    let def = funnels::version_def(conn, deal.funnel_id, deal.funnel_version)?
        .ok_or(FunnelError::FunnelNotFound(deal.funnel_id))?;
    let log = store::log_of(conn, id)?;
    let entries: Vec<Entry> = log.iter().map(TransitionRow::entry).collect();
    let now = platform::time::now();
    let at = m.at.unwrap_or(now);
    let reason = m.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let checked = log::check_move(
        &def,
        &entries,
        &m.to_stage,
        at,
        reason,
        now,
        origin == Origin::Import,
    )?;
    if let Some((amount, currency)) = &m.amount {
        deal.amount = Some(*amount);
        deal.currency = Some(currency.to_string());
    }
    if !m.products.is_empty() {
        deal.set_product_lines(&m.products)?;
    }
    let valued = deal.amount.is_some() && deal.currency.is_some();
    log::check_value(&def, &m.to_stage, origin, valued)?;
    let row = TransitionRow {
        deal_id: id,
        seq: log.iter().map(|t| t.seq).max().unwrap_or(0) + 1,
        from_stage: checked.from_stage,
        to_stage: m.to_stage.clone(),
        at,
        reason: reason.map(str::to_string),
        origin: origin.as_str().to_string(),
        recorded_at: now,
    };
    store::append(conn, &row)?;
    let mut all = entries;
    all.push(row.entry());
    if let Some(p) = log::replay(&def, &all) {
        deal.apply(&p);
    }
    store::save(conn, &mut deal)?;
    if origin.publishes() {
        publish_move(conn, &def, &deal, &row, trace)?;
    }
    Ok(Moved {
        deal,
        transition: row,
    })
}

fn created_event(d: &DealRow) -> DealCreated {
    DealCreated {
        deal_id: d.id,
        funnel_id: d.funnel_id,
        funnel_version: d.funnel_version as u32,
        external_id: d.external_id.clone(),
        lead_id: d.lead_id,
        account_id: d.account_id,
        campaign_id: d.campaign_id.clone(),
        stage: d.stage.clone(),
        amount: d.amount,
        currency: d.currency(),
        expected_close: d.expected_close,
        owner: d.owner.clone(),
        methodology: d.methodology.clone(),
        stakeholders: d.stakeholders(),
        created_at: d.opened_at,
    }
}

fn updated_event(d: &DealRow, changed: Vec<String>) -> DealUpdated {
    DealUpdated {
        deal_id: d.id,
        funnel_id: d.funnel_id,
        version: d.version as u64,
        changed,
        funnel_version: d.funnel_version as u32,
        external_id: d.external_id.clone(),
        lead_id: d.lead_id,
        account_id: d.account_id,
        campaign_id: d.campaign_id.clone(),
        stage: d.stage.clone(),
        status: d.status.clone(),
        amount: d.amount,
        currency: d.currency(),
        expected_close: d.expected_close,
        owner: d.owner.clone(),
        methodology: d.methodology.clone(),
        stakeholders: d.stakeholders(),
        updated_at: d.updated_at,
    }
}

/// Queues `deal.stage_changed`, and `deal.won` or `deal.lost` when the move closes the deal.
fn publish_move(
    conn: &mut PgConnection,
    def: &FunnelDef,
    deal: &DealRow,
    t: &TransitionRow,
    trace: Option<&TraceContext>,
) -> Result<(), FunnelError> {
    let from = t.from_stage.clone().unwrap_or_default();
    outbox::enqueue(
        conn,
        &DealStageChanged {
            deal_id: deal.id,
            funnel_id: deal.funnel_id,
            lead_id: deal.lead_id,
            from_stage: from.clone(),
            to_stage: t.to_stage.clone(),
            reason: t.reason.clone(),
            sequence: t.seq as u64,
            changed_at: t.at,
        },
        trace,
    )?;
    if t.to_stage == def.won_stage()
        && let (Some(amount), Some(currency)) = (deal.amount, deal.currency())
    {
        outbox::enqueue(
            conn,
            &DealWon {
                deal_id: deal.id,
                funnel_id: deal.funnel_id,
                lead_id: deal.lead_id,
                account_id: deal.account_id,
                campaign_id: deal.campaign_id.clone(),
                amount,
                currency,
                won_at: t.at,
                reason: t.reason.clone(),
                products: deal.product_lines(),
            },
            trace,
        )?;
    }
    if t.to_stage == LOST {
        outbox::enqueue(
            conn,
            &DealLost {
                deal_id: deal.id,
                funnel_id: deal.funnel_id,
                lead_id: deal.lead_id,
                account_id: deal.account_id,
                campaign_id: deal.campaign_id.clone(),
                from_stage: from,
                reason: t.reason.clone().unwrap_or_default(),
                amount: deal.amount,
                currency: deal.currency(),
                lost_at: t.at,
            },
            trace,
        )?;
    }
    Ok(())
}

/// Replays every deal's log into its row; returns how many rows changed. The projections
/// are a cache of the log, so this is always safe to run.
pub fn rebuild(conn: &mut PgConnection) -> Result<usize, FunnelError> {
    let mut changed = 0;
    let mut after = Uuid::nil();
    loop {
        let batch = store::batch_for_update(conn, after, 1000)?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        let ids: Vec<Uuid> = batch.iter().map(|d| d.id).collect();
        let mut by_deal: HashMap<Uuid, Vec<Entry>> = HashMap::new();
        for r in store::logs_of(conn, &ids)? {
            by_deal.entry(r.deal_id).or_default().push(r.entry());
        }
        for mut deal in batch {
            let Some(def) = funnels::version_def(conn, deal.funnel_id, deal.funnel_version)? else {
                continue;
            };
            let entries = by_deal.remove(&deal.id).unwrap_or_default();
            if let Some(p) = log::replay(&def, &entries)
                && p != deal.projection()
            {
                deal.apply(&p);
                store::save(conn, &mut deal)?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}
