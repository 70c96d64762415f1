//! Consumed events: touchpoints feed engagement; the funnel's deal events move leads to
//! `opportunity`, `customer`, or back to `lead`. Each is applied in the consumer's
//! transaction (with the inbox row), and in any order.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use contracts::RawEvent;
use contracts::funnel::{DealCreated, DealLost, DealStageChanged, DealWon};
use contracts::touchpoints::TouchpointRecorded;
use diesel::prelude::*;
use platform::bus::consumer::{EventHandler, HandlerError};
use uuid::Uuid;

use crate::domain::lifecycle::{Stage, check_move};
use crate::error::LeadsError;
use crate::store::schema::{deals, engagement_touches, leads, score_history};
use crate::store::{self, LeadRow, scoring};

pub struct LeadsHandler {
    /// Touchpoints that matched no lead: counted, not errors.
    unmatched: prometheus::IntCounter,
}

impl Default for LeadsHandler {
    fn default() -> Self {
        Self::new()
    }
}

impl LeadsHandler {
    pub fn new() -> Self {
        LeadsHandler {
            unmatched: prometheus::IntCounter::new(
                "leads_touchpoints_unmatched_total",
                "touchpoint.recorded events that matched no lead (by lead_id or email)",
            )
            .expect("valid metric"),
        }
    }

    pub fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>> {
        vec![Box::new(self.unmatched.clone())]
    }
}

impl EventHandler for LeadsHandler {
    fn bindings(&self) -> Vec<String> {
        vec![
            "touchstone.touchpoints.touchpoint.recorded.v1".into(),
            "touchstone.funnel.deal.created.v1".into(),
            "touchstone.funnel.deal.stage_changed.v1".into(),
            "touchstone.funnel.deal.won.v1".into(),
            "touchstone.funnel.deal.lost.v1".into(),
        ]
    }

    fn handle(&self, conn: &mut PgConnection, event: &RawEvent) -> Result<(), HandlerError> {
        let result = match event.ty.as_str() {
            t if t == <TouchpointRecorded as contracts::EventPayload>::TYPE => {
                let touches = [decode(event)?];
                touchpoints(conn, &touches).map(|unmatched| self.unmatched.inc_by(unmatched))
            }
            t if t == <DealCreated as contracts::EventPayload>::TYPE => {
                let d: DealCreated = decode(event)?;
                deal(
                    conn,
                    d.deal_id,
                    d.lead_id,
                    DealFact::Staged(d.created_at, d.stage),
                )
            }
            t if t == <DealStageChanged as contracts::EventPayload>::TYPE => {
                let d: DealStageChanged = decode(event)?;
                deal(
                    conn,
                    d.deal_id,
                    d.lead_id,
                    DealFact::Staged(d.changed_at, d.to_stage),
                )
            }
            t if t == <DealWon as contracts::EventPayload>::TYPE => {
                let d: DealWon = decode(event)?;
                deal(conn, d.deal_id, d.lead_id, DealFact::Won(d.won_at))
            }
            t if t == <DealLost as contracts::EventPayload>::TYPE => {
                let d: DealLost = decode(event)?;
                deal(
                    conn,
                    d.deal_id,
                    d.lead_id,
                    DealFact::Lost(d.lost_at, d.reason),
                )
            }
            other => {
                tracing::debug!(event_type = other, "event not handled by leads");
                Ok(())
            }
        };
        result.map_err(handler_error)
    }

    /// A batch of touchpoints (the touchpoints service publishes them 100s per message) is
    /// applied with a few set-based statements; anything else one by one.
    fn handle_batch(
        &self,
        conn: &mut PgConnection,
        events: &[&RawEvent],
    ) -> Result<(), HandlerError> {
        let ty = <TouchpointRecorded as contracts::EventPayload>::TYPE;
        if events.len() > 1 && events.iter().all(|e| e.ty == ty) {
            let touches = events
                .iter()
                .map(|e| decode(e))
                .collect::<Result<Vec<TouchpointRecorded>, _>>()?;
            let unmatched = touchpoints(conn, &touches).map_err(handler_error)?;
            self.unmatched.inc_by(unmatched);
            return Ok(());
        }
        events.iter().try_for_each(|e| self.handle(conn, e))
    }
}

fn handler_error(e: LeadsError) -> HandlerError {
    match e {
        LeadsError::Unexpected(e) => HandlerError::Transient(e),
        other => HandlerError::Permanent(other.to_string()),
    }
}

fn decode<T: contracts::EventPayload>(event: &RawEvent) -> Result<T, HandlerError> {
    event
        .decode()
        .map_err(|e| HandlerError::Permanent(e.to_string()))
}

/// Adds each touch's points (from the scoring model) to its lead's decayed engagement,
/// matching leads by `lead_id` (following merges) or else by email. Touches already seen
/// (by touchpoint id) and touches worth no points change nothing. Returns how many touches
/// matched no lead. The engagement sum does not depend on the order touches arrive in.
fn touchpoints(conn: &mut PgConnection, touches: &[TouchpointRecorded]) -> Result<u64, LeadsError> {
    let (version, model) = scoring::current_model(conn)?;
    let hl = model.half_life_days;
    let worth: Vec<(&TouchpointRecorded, f64)> = touches
        .iter()
        .filter_map(|t| {
            model
                .touch_points(&t.touch_type, &t.channel)
                .filter(|p| *p != 0.0)
                .map(|p| (t, p))
        })
        .collect();
    if worth.is_empty() {
        return Ok(0);
    }
    // A batch holds many touches per lead: each lead is asked for once.
    let ids: Vec<Uuid> = worth
        .iter()
        .filter_map(|(t, _)| t.lead_id)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let emails: Vec<String> = worth
        .iter()
        .filter(|(t, _)| t.lead_id.is_none())
        .filter_map(|(t, _)| t.email.as_ref().map(|e| e.trim().to_lowercase()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    // Lock every lead involved, in id order so that concurrent batches cannot deadlock.
    let mut found: Vec<LeadRow> = leads::table
        .filter(leads::id.eq_any(&ids).or(leads::email.eq_any(&emails)))
        .order(leads::id)
        .select(LeadRow::as_select())
        .for_update()
        .load(conn)?;
    // Touches of a merged lead count for its survivor.
    let survivors: Vec<Uuid> = found.iter().filter_map(|l| l.merged_into).collect();
    if !survivors.is_empty() {
        found.extend(
            leads::table
                .filter(leads::id.eq_any(&survivors))
                .order(leads::id)
                .select(LeadRow::as_select())
                .for_update()
                .load::<LeadRow>(conn)?,
        );
    }
    let by_id: HashMap<Uuid, &LeadRow> = found.iter().map(|l| (l.id, l)).collect();
    let by_email: HashMap<&str, &LeadRow> = found.iter().map(|l| (l.email.as_str(), l)).collect();
    let mut unmatched = 0;
    let mut matched: Vec<(&TouchpointRecorded, f64, Uuid)> = Vec::with_capacity(worth.len());
    for (t, p) in worth {
        let lead = match t.lead_id {
            Some(id) => by_id.get(&id).copied(),
            None => t
                .email
                .as_ref()
                .and_then(|e| by_email.get(e.trim().to_lowercase().as_str()).copied()),
        };
        match lead.and_then(|l| live_id(&by_id, l)) {
            Some(id) => matched.push((t, p, id)),
            None => unmatched += 1,
        }
    }
    // Record the touches; only those not seen before count.
    let mut new = std::collections::HashSet::new();
    for part in matched.chunks(8_000) {
        let rows: Vec<_> = part
            .iter()
            .map(|(t, p, lead)| {
                (
                    engagement_touches::touchpoint_id.eq(t.touchpoint_id),
                    engagement_touches::lead_id.eq(*lead),
                    engagement_touches::account_id.eq(by_id[lead].account_id),
                    engagement_touches::touch_type.eq(&t.touch_type),
                    engagement_touches::channel.eq(&t.channel),
                    engagement_touches::points.eq(*p),
                    engagement_touches::occurred_at.eq(t.occurred_at),
                )
            })
            .collect();
        new.extend(
            diesel::insert_into(engagement_touches::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .returning(engagement_touches::touchpoint_id)
                .get_results::<Uuid>(conn)?,
        );
    }
    let mut per_lead: HashMap<Uuid, Vec<(f64, DateTime<Utc>)>> = HashMap::new();
    for (t, p, lead) in &matched {
        if new.remove(&t.touchpoint_id) {
            per_lead.entry(*lead).or_default().push((*p, t.occurred_at));
        }
    }
    let now = Utc::now();
    // One statement updates every lead; grade changes and crossings are recorded in bulk.
    let (mut ids, mut values, mut as_of, mut grades) = (vec![], vec![], vec![], vec![]);
    let mut history = Vec::new();
    let mut scored = Vec::new();
    let mut promote = Vec::new();
    for (id, added) in per_lead {
        let lead = by_id[&id];
        let before = scoring::lead_engagement(lead);
        let after = added.iter().fold(before, |e, (p, at)| e.add(*p, *at, hl));
        let engagement_now = after.value_at(now, hl);
        let grade = model.grade(lead.fit, engagement_now).to_string();
        let crossed = model.qualifies_for_mql(lead.fit, engagement_now)
            && !model.qualifies_for_mql(lead.fit, before.value_at(now, hl));
        let grade_changed = lead.grade.as_deref() != Some(grade.as_str());
        if grade_changed {
            history.push((
                score_history::lead_id.eq(id),
                score_history::fit.eq(lead.fit),
                score_history::engagement.eq(engagement_now),
                score_history::grade.eq(grade.clone()),
                score_history::model_version.eq(version),
                score_history::cause.eq("engagement"),
                score_history::at.eq(now),
            ));
        }
        if grade_changed || crossed {
            scored.push(contracts::leads::LeadScored {
                lead_id: id,
                fit_score: lead.fit,
                engagement_score: engagement_now,
                grade: grade.clone(),
                previous_grade: lead.grade.clone(),
                crossed_thresholds: if crossed { vec!["mql".into()] } else { vec![] },
                model_version: version as u32,
                scored_at: now,
            });
        }
        if model.qualifies_for_mql(lead.fit, engagement_now)
            && matches!(lead.stage(), Stage::Subscriber | Stage::Lead)
        {
            promote.push(LeadRow {
                engagement: after.value,
                engagement_as_of: Some(after.as_of),
                grade: Some(grade.clone()),
                ..lead.clone()
            });
        }
        ids.push(id);
        values.push(after.value);
        as_of.push(after.as_of);
        grades.push(grade);
    }
    use diesel::sql_types::{Array, Float8, Text, Timestamptz, Uuid as SqlUuid};
    diesel::sql_query(
        "UPDATE leads l SET engagement = v.e, engagement_as_of = v.t, grade = v.g \
         FROM unnest($1::uuid[], $2::float8[], $3::timestamptz[], $4::text[]) AS v(id, e, t, g) \
         WHERE l.id = v.id",
    )
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<Float8>, _>(&values)
    .bind::<Array<Timestamptz>, _>(&as_of)
    .bind::<Array<Text>, _>(&grades)
    .execute(conn)?;
    if !history.is_empty() {
        diesel::insert_into(score_history::table)
            .values(&history)
            .execute(conn)?;
    }
    platform::bus::outbox::enqueue_each(conn, &scored, None)?;
    for lead in promote {
        store::change_stage(conn, lead, Stage::Mql, None, "score", None, now, None)?;
    }
    Ok(unmatched)
}

/// The id of the live lead `lead` was (perhaps repeatedly) merged into, if loaded.
fn live_id<'a>(by_id: &HashMap<Uuid, &'a LeadRow>, mut lead: &'a LeadRow) -> Option<Uuid> {
    for _ in 0..8 {
        match lead.merged_into.and_then(|s| by_id.get(&s).copied()) {
            Some(s) => lead = s,
            None => break,
        }
    }
    lead.merged_into.is_none().then_some(lead.id)
}

fn lock(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    leads::table
        .find(id)
        .select(leads::id)
        .for_update()
        .first::<Uuid>(conn)
        .map(|_| ())
}

/// Funnel stages before a deal is an opportunity: those mirroring the lifecycle stages
/// before `opportunity`, and the top of the marketing funnel.
const PRE_OPPORTUNITY: [&str; 7] = [
    "subscriber",
    "lead",
    "mql",
    "sql",
    "awareness",
    "interest",
    "consideration",
];

enum DealFact {
    /// Opened in, or moved to, a stage at a time (moves may arrive in any order).
    Staged(DateTime<Utc>, String),
    Won(DateTime<Utc>),
    Lost(DateTime<Utc>, String),
}

/// Records what the event says about the deal, then moves the lead to the stage its deals
/// imply: any won deal → `customer`; any open deal → `opportunity`; only lost deals →
/// recycled to `lead` (never a customer). Illegal moves (e.g. a disqualified lead's deal)
/// are skipped, not errors.
fn deal(
    conn: &mut PgConnection,
    deal_id: Uuid,
    lead_id: Option<Uuid>,
    fact: DealFact,
) -> Result<(), LeadsError> {
    let Some(lead_id) = lead_id else {
        return Ok(());
    };
    diesel::insert_into(deals::table)
        .values((deals::deal_id.eq(deal_id), deals::lead_id.eq(lead_id)))
        .on_conflict_do_nothing()
        .execute(conn)?;
    let target = deals::table.find(deal_id);
    let at = match &fact {
        DealFact::Staged(at, stage) => {
            // Only the latest move in time says whether the deal is an opportunity now.
            diesel::update(target.filter(deals::stage_at.is_null().or(deals::stage_at.le(at))))
                .set((
                    deals::opportunity.eq(!PRE_OPPORTUNITY.contains(&stage.as_str())),
                    deals::stage_at.eq(at),
                ))
                .execute(conn)?;
            *at
        }
        DealFact::Won(at) => {
            diesel::update(target)
                .set(deals::won_at.eq(at))
                .execute(conn)?;
            *at
        }
        DealFact::Lost(at, reason) => {
            diesel::update(target)
                .set((deals::lost_at.eq(at), deals::lost_reason.eq(reason)))
                .execute(conn)?;
            *at
        }
    };
    let Some(mut lead) = store::find_lead_raw(conn, lead_id)? else {
        // The deal is kept; the stage follows if the lead appears (e.g. through a merge).
        return Ok(());
    };
    if let Some(survivor) = lead.merged_into {
        diesel::update(deals::table.find(deal_id))
            .set(deals::lead_id.eq(survivor))
            .execute(conn)?;
        lead = store::find_lead_raw(conn, survivor)?.ok_or(LeadsError::NotFound(survivor))?;
    }
    lock(conn, lead.id)?;
    type DealState = (
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<String>,
        bool,
    );
    let all: Vec<DealState> = deals::table
        .filter(deals::lead_id.eq(lead.id))
        .select((
            deals::won_at,
            deals::lost_at,
            deals::lost_reason,
            deals::opportunity,
        ))
        .load(conn)?;
    let won = all.iter().any(|(w, _, _, _)| w.is_some());
    let open = all
        .iter()
        .any(|(w, l, _, opportunity)| w.is_none() && l.is_none() && *opportunity);
    let (to, reason) = if won {
        (Stage::Customer, None)
    } else if open {
        (Stage::Opportunity, None)
    } else if all.iter().any(|(w, l, _, _)| w.is_none() && l.is_none()) {
        // Only deals before opportunity are open: nothing to say about the lead yet.
        return Ok(());
    } else {
        let reason = all
            .iter()
            .filter_map(|(_, _, r, _)| r.clone())
            .next()
            .unwrap_or_else(|| "deal lost".to_string());
        (Stage::Lead, Some(format!("deal lost: {reason}")))
    };
    let from = lead.stage();
    let allowed = match to {
        // Recycle only leads that a deal had moved on; never customers.
        Stage::Lead => matches!(from, Stage::Opportunity | Stage::Sql | Stage::Mql),
        _ => from.rank().zip(to.rank()).is_some_and(|(f, t)| t > f),
    };
    if allowed && check_move(from, to, reason.as_deref()).is_ok() {
        let cause = match to {
            Stage::Customer => "deal_won",
            Stage::Opportunity => "deal_created",
            _ => "deal_lost",
        };
        store::change_stage(
            conn,
            lead,
            to,
            reason.as_deref(),
            cause,
            Some(deal_id),
            at,
            None,
        )?;
    }
    Ok(())
}
