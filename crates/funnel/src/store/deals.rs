//! Deals, their append-only transition log and the projections cached on the deal row.
//! Every change appends to the log, replays the deal's log into its row, and queues its
//! events, all in the caller's transaction.

use chrono::{DateTime, NaiveDate, Utc};
use contracts::funnel::{
    DealCreated, DealLost, DealStageChanged, DealWon, ProductLine, Stakeholder,
};
use contracts::money::Currency;
use diesel::prelude::*;
use platform::TraceContext;
use platform::bus::outbox;
use platform::validation::Invalid;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::funnels;
use super::schema::{deals, transitions};
use crate::domain::deal::NewDeal;
use crate::domain::funnel::{FunnelDef, LOST};
use crate::domain::log::{self, Entry, Projection, Status};
use crate::error::FunnelError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
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
    fn entry(&self) -> Entry {
        Entry {
            seq: self.seq,
            to_stage: self.to_stage.clone(),
            at: self.at,
            reason: self.reason.clone(),
        }
    }
}

/// Where a move came from. Imports are history for analysis: they publish nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Api,
    Import,
    LeadEvent,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Api => "api",
            Origin::Import => "import",
            Origin::LeadEvent => "lead_event",
        }
    }
}

/// A requested stage move.
#[derive(Debug, Clone)]
pub struct Move {
    pub to_stage: String,
    pub at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    /// Sets the deal's value as it closes.
    pub amount: Option<(Decimal, Currency)>,
    pub products: Vec<ProductLine>,
}

impl DealRow {
    fn apply(&mut self, p: &Projection) {
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
            status: match self.status.as_str() {
                "won" => Status::Won,
                "lost" => Status::Lost,
                _ => Status::Open,
            },
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

    fn currency(&self) -> Option<Currency> {
        self.currency
            .as_deref()
            .and_then(|c| Currency::parse(c).ok())
    }

    fn created_event(&self) -> DealCreated {
        DealCreated {
            deal_id: self.id,
            funnel_id: self.funnel_id,
            funnel_version: self.funnel_version as u32,
            external_id: self.external_id.clone(),
            lead_id: self.lead_id,
            account_id: self.account_id,
            campaign_id: self.campaign_id.clone(),
            stage: self.stage.clone(),
            amount: self.amount,
            currency: self.currency(),
            expected_close: self.expected_close,
            owner: self.owner.clone(),
            methodology: self.methodology.clone(),
            stakeholders: self.stakeholders(),
            created_at: self.opened_at,
        }
    }
}

fn json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, FunnelError> {
    serde_json::to_value(v).map_err(|e| FunnelError::Unexpected(e.into()))
}

/// Opens a deal in `deal.stage` (or the funnel's first stage) and logs that as move 1.
pub fn create(
    conn: &mut PgConnection,
    deal: &NewDeal,
    origin: Origin,
    trace: Option<&TraceContext>,
) -> Result<DealRow, FunnelError> {
    let funnel = funnels::find(conn, deal.funnel_id, None)?
        .ok_or_else(|| Invalid::field("funnel_id", "no such funnel"))?;
    let now = Utc::now();
    let stage = deal
        .stage
        .clone()
        .unwrap_or_else(|| funnel.def.first_stage().to_string());
    if funnel.def.index_of(&stage).is_none() {
        return Err(Invalid::field(
            "stage",
            format!("'{stage}' is not a stage of this funnel"),
        )
        .into());
    }
    if funnel.def.is_terminal(&stage) {
        return Err(Invalid::field("stage", "a deal cannot open closed").into());
    }
    let opened_at = deal.opened_at.unwrap_or(now);
    if opened_at > now + chrono::Duration::seconds(5) {
        return Err(Invalid::field("opened_at", "is in the future").into());
    }
    if let Some(x) = &deal.external_id {
        let taken = deals::table
            .filter(deals::funnel_id.eq(funnel.id).and(deals::external_id.eq(x)))
            .select(deals::id)
            .first::<Uuid>(conn)
            .optional()?;
        if taken.is_some() {
            return Err(FunnelError::DuplicateExternalId(x.clone()));
        }
    }
    let row = DealRow {
        id: Uuid::now_v7(),
        funnel_id: funnel.id,
        funnel_version: funnel.version,
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
        stage: stage.clone(),
        stage_entered_at: opened_at,
        opened_at,
        closed_at: None,
        status: Status::Open.as_str().to_string(),
        close_reason: None,
        transition_count: 1,
    };
    diesel::insert_into(deals::table)
        .values(&row)
        .execute(conn)?;
    diesel::insert_into(transitions::table)
        .values(TransitionRow {
            deal_id: row.id,
            seq: 1,
            from_stage: None,
            to_stage: stage,
            at: opened_at,
            reason: None,
            origin: origin.as_str().to_string(),
            recorded_at: now,
        })
        .execute(conn)?;
    if origin != Origin::Import {
        outbox::enqueue(conn, &row.created_event(), trace)?;
    }
    Ok(row)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<DealRow>, FunnelError> {
    Ok(deals::table
        .find(id)
        .select(DealRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_external(
    conn: &mut PgConnection,
    funnel_id: Uuid,
    external_id: &str,
) -> Result<Option<DealRow>, FunnelError> {
    Ok(deals::table
        .filter(
            deals::funnel_id
                .eq(funnel_id)
                .and(deals::external_id.eq(external_id)),
        )
        .select(DealRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn log_of(conn: &mut PgConnection, id: Uuid) -> Result<Vec<TransitionRow>, FunnelError> {
    Ok(transitions::table
        .filter(transitions::deal_id.eq(id))
        .order(transitions::seq)
        .select(TransitionRow::as_select())
        .load(conn)?)
}

/// What one accepted move did.
#[derive(Debug, Clone)]
pub struct Moved {
    pub deal: DealRow,
    pub transition: TransitionRow,
}

/// Appends a move to a deal's log after checking it against the log, then replays the log
/// into the deal row. The deal row is locked, so concurrent moves of one deal serialise.
pub fn transition(
    conn: &mut PgConnection,
    id: Uuid,
    m: &Move,
    origin: Origin,
    trace: Option<&TraceContext>,
) -> Result<Moved, FunnelError> {
    let mut deal: DealRow = deals::table
        .find(id)
        .select(DealRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or(FunnelError::DealNotFound(id))?;
    let def = funnels::version_def(conn, deal.funnel_id, deal.funnel_version)?
        .ok_or(FunnelError::FunnelNotFound(deal.funnel_id))?;
    let log = log_of(conn, id)?;
    let entries: Vec<Entry> = log.iter().map(TransitionRow::entry).collect();
    let now = Utc::now();
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
        deal.products = json(&m.products)?;
    }
    let won = m.to_stage == def.won_stage();
    if won && origin != Origin::Import && (deal.amount.is_none() || deal.currency.is_none()) {
        return Err(Invalid::field(
            "amount",
            "a deal needs an amount and a currency to be won: send them with this move",
        )
        .into());
    }
    let row = TransitionRow {
        deal_id: id,
        seq: log.iter().map(|t| t.seq).max().unwrap_or(0) + 1,
        from_stage: checked.from_stage.clone(),
        to_stage: m.to_stage.clone(),
        at,
        reason: reason.map(str::to_string),
        origin: origin.as_str().to_string(),
        recorded_at: now,
    };
    diesel::insert_into(transitions::table)
        .values(&row)
        .execute(conn)?;
    let mut all = entries;
    all.push(row.entry());
    if let Some(p) = log::replay(&def, &all) {
        deal.apply(&p);
    }
    diesel::update(deals::table.find(id))
        .set(&deal)
        .execute(conn)?;
    if origin != Origin::Import {
        publish_move(conn, &def, &deal, &row, trace)?;
    }
    Ok(Moved {
        deal,
        transition: row,
    })
}

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
        let batch: Vec<DealRow> = deals::table
            .filter(deals::id.gt(after))
            .select(DealRow::as_select())
            .order(deals::id)
            .limit(1000)
            .for_update()
            .load(conn)?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        let ids: Vec<Uuid> = batch.iter().map(|d| d.id).collect();
        let rows: Vec<TransitionRow> = transitions::table
            .filter(transitions::deal_id.eq_any(&ids))
            .select(TransitionRow::as_select())
            .load(conn)?;
        let mut by_deal: std::collections::HashMap<Uuid, Vec<Entry>> = Default::default();
        for r in &rows {
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
                diesel::update(deals::table.find(deal.id))
                    .set(&deal)
                    .execute(conn)?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}

/// Open deals of a lead, oldest first, for lead events to advance.
pub fn of_lead(conn: &mut PgConnection, lead_id: Uuid) -> Result<Vec<DealRow>, FunnelError> {
    Ok(deals::table
        .filter(deals::lead_id.eq(lead_id))
        .order(deals::created_at)
        .select(DealRow::as_select())
        .load(conn)?)
}

/// A page of deals of a funnel, newest first by id.
pub fn list(
    conn: &mut PgConnection,
    funnel_id: Option<Uuid>,
    status: Option<&str>,
    stage: Option<&str>,
    lead_id: Option<Uuid>,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<DealRow>, FunnelError> {
    let mut q = deals::table.select(DealRow::as_select()).into_boxed();
    if let Some(f) = funnel_id {
        q = q.filter(deals::funnel_id.eq(f));
    }
    if let Some(s) = status {
        q = q.filter(deals::status.eq(s.to_string()));
    }
    if let Some(s) = stage {
        q = q.filter(deals::stage.eq(s.to_string()));
    }
    if let Some(l) = lead_id {
        q = q.filter(deals::lead_id.eq(l));
    }
    if let Some(b) = before {
        q = q.filter(deals::id.lt(b));
    }
    Ok(q.order(deals::id.desc()).limit(limit).load(conn)?)
}
