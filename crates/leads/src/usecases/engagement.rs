//! Engagement from touchpoints: each touch's points (from the scoring model) added to its
//! lead's decayed engagement, in the consumer's transaction.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use contracts::touchpoints::TouchpointRecorded;
use diesel::PgConnection;
use platform::bus::outbox;
use uuid::Uuid;

use super::lifecycle::{self, StageMove};
use super::scoring::{self, Scored};
use crate::domain::lifecycle::Stage;
use crate::error::LeadsError;
use crate::store::engagement::NewTouch;
use crate::store::leads::EngagementUpdates;
use crate::store::{self, LeadRow};

/// Adds each touch's points to its lead's decayed engagement, matching leads by `lead_id`
/// (following merges) or else by email. Touches already seen (by touchpoint id) and touches
/// worth no points change nothing. Returns how many touches matched no lead. The engagement
/// sum does not depend on the order touches arrive in.
pub fn record_touches(
    conn: &mut PgConnection,
    touches: &[TouchpointRecorded],
) -> Result<u64, LeadsError> {
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
    let found = lock_leads(conn, &worth)?;
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
    let rows: Vec<NewTouch<'_>> = matched
        .iter()
        .map(|(t, p, lead)| NewTouch {
            touchpoint_id: t.touchpoint_id,
            lead_id: *lead,
            account_id: by_id[lead].account_id,
            touch_type: &t.touch_type,
            channel: &t.channel,
            points: *p,
            occurred_at: t.occurred_at,
        })
        .collect();
    let mut new: HashSet<Uuid> = store::engagement::record_touches(conn, &rows)?
        .into_iter()
        .collect();
    let mut per_lead: HashMap<Uuid, Vec<(f64, DateTime<Utc>)>> = HashMap::new();
    for (t, p, lead) in &matched {
        if new.remove(&t.touchpoint_id) {
            per_lead.entry(*lead).or_default().push((*p, t.occurred_at));
        }
    }
    let now = Utc::now();
    // One statement updates every lead; grade changes and crossings are recorded in bulk.
    let mut updates = EngagementUpdates::default();
    let mut history = Vec::new();
    let mut scored = Vec::new();
    let mut promote = Vec::new();
    for (id, added) in per_lead {
        let lead = by_id[&id];
        let before = lead.engagement();
        let after = added.iter().fold(before, |e, (p, at)| e.add(*p, *at, hl));
        let engagement_now = after.value_at(now, hl);
        let grade = model.grade(lead.fit, engagement_now).to_string();
        let qualifies = model.qualifies_for_mql(lead.fit, engagement_now);
        let crossed = qualifies && !model.qualifies_for_mql(lead.fit, before.value_at(now, hl));
        let grade_changed = lead.grade.as_deref() != Some(grade.as_str());
        let score = Scored {
            lead_id: id,
            fit: lead.fit,
            engagement: engagement_now,
            grade: &grade,
            model_version: version,
            at: now,
        };
        if grade_changed {
            history.push(score.entry("engagement"));
        }
        if grade_changed || crossed {
            scored.push(score.event(lead.grade.clone(), crossed));
        }
        if qualifies && matches!(lead.stage(), Stage::Subscriber | Stage::Lead) {
            promote.push(LeadRow {
                engagement: after.value,
                engagement_as_of: Some(after.as_of),
                grade: Some(grade.clone()),
                ..lead.clone()
            });
        }
        updates.push(id, after, grade);
    }
    store::leads::save_engagements(conn, &updates)?;
    store::scoring::record_scores(conn, &history)?;
    outbox::enqueue_each(conn, &scored, None)?;
    for lead in promote {
        lifecycle::change_stage(conn, lead, &StageMove::new(Stage::Mql, "score", now), None)?;
    }
    Ok(unmatched)
}

/// Locks every lead the touches name (a batch holds many touches per lead: each lead is
/// asked for once), and the survivors of those that were merged, whose touches count for
/// the survivor.
fn lock_leads(
    conn: &mut PgConnection,
    worth: &[(&TouchpointRecorded, f64)],
) -> Result<Vec<LeadRow>, LeadsError> {
    let ids: Vec<Uuid> = worth
        .iter()
        .filter_map(|(t, _)| t.lead_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let emails: Vec<String> = worth
        .iter()
        .filter(|(t, _)| t.lead_id.is_none())
        .filter_map(|(t, _)| t.email.as_ref().map(|e| e.trim().to_lowercase()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Every lead is locked in one statement, in id order, so that two consumers (two
    // replicas, or two groups) lock in the same order and never deadlock. The leads that
    // merged ones live on in are found first without a lock, so that they join that
    // statement; a merge committed in between is caught afterwards.
    let mut wanted: BTreeSet<Uuid> = ids.iter().copied().collect();
    let mut seen = store::leads::matching(conn, &ids, &emails, false)?;
    for _ in 0..8 {
        let survivors: Vec<Uuid> = seen
            .iter()
            .filter_map(|l| l.merged_into)
            .filter(|s| wanted.insert(*s))
            .collect();
        if survivors.is_empty() {
            break;
        }
        seen = store::leads::matching(conn, &survivors, &[], false)?;
    }
    let wanted: Vec<Uuid> = wanted.into_iter().collect();
    let mut found = store::leads::matching(conn, &wanted, &emails, true)?;
    let locked: BTreeSet<Uuid> = found.iter().map(|l| l.id).collect();
    let late: Vec<Uuid> = found
        .iter()
        .filter_map(|l| l.merged_into)
        .filter(|s| !locked.contains(s))
        .collect();
    if !late.is_empty() {
        found.extend(store::leads::matching(conn, &late, &[], true)?);
    }
    Ok(found)
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
