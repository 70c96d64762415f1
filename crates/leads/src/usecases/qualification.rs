//! MEDDICC qualification: a lead's card evaluated against the current rule; the first pass
//! publishes `lead.qualified` and moves the lead forward to `sql`.

use chrono::Utc;
use diesel::{Connection, PgConnection};
use platform::TraceContext;
use platform::bus::outbox;
use platform::http::versioning;
use uuid::Uuid;

use super::lifecycle::{self, StageMove};
use super::live;
use crate::domain::lifecycle::Stage;
use crate::domain::meddicc::{Evaluation, Meddicc, QualificationRule, evaluate};
use crate::error::LeadsError;
use crate::store;

/// The current rule and its version; version 0 is the built-in default.
pub fn current_rule(conn: &mut PgConnection) -> Result<(i32, QualificationRule), LeadsError> {
    Ok(store::scoring::current_rule(conn)?.unwrap_or_else(|| (0, QualificationRule::default())))
}

/// Stores a validated rule as the version after `expected`, which must be the current one
/// (else a 412 naming the current ETag), and returns its number.
pub fn save_rule(
    conn: &mut PgConnection,
    expected: i32,
    rule: &QualificationRule,
) -> Result<i32, LeadsError> {
    conn.transaction(|tx| {
        let (current, _) = current_rule(tx)?;
        versioning::check(expected, current)?;
        let version = current + 1;
        if !store::scoring::save_rule(tx, version, rule)? {
            // A concurrent save took the next version between the read and the insert.
            return Err(versioning::stale(version).into());
        }
        Ok(version)
    })
}

/// A lead's card and its version, its evaluation under the current rule, and the lead's
/// stage.
#[derive(Debug, Clone)]
pub struct Qualification {
    pub version: i32,
    pub card: Meddicc,
    pub evaluation: Evaluation,
    pub lifecycle_stage: String,
}

/// Stores a lead's MEDDICC scores as the version after `expected`, which must be the
/// card's current one (0 when the lead has none yet; else a 412 naming the current ETag),
/// and evaluates the current rule; when it passes for the first time, publishes
/// `lead.qualified` and moves the lead forward to `sql`.
pub fn put_card(
    conn: &mut PgConnection,
    id: Uuid,
    expected: i32,
    card: Meddicc,
    trace: &TraceContext,
) -> Result<Qualification, LeadsError> {
    conn.transaction(|tx| {
        let (_, rule) = current_rule(tx)?;
        // The lead's lock serialises the writers of its card.
        let mut lead = live::lock(tx, id)?;
        let previous = store::meddicc::card(tx, id)?;
        let current = previous.as_ref().map_or(0, |(v, _)| *v);
        versioning::check(expected, current)?;
        let version = current + 1;
        let was_passing = previous
            .as_ref()
            .is_some_and(|(_, p)| evaluate(p, &rule).passed);
        let evaluation = evaluate(&card, &rule);
        store::meddicc::save_card(tx, id, version, &card)?;
        if evaluation.passed && !was_passing {
            let now = Utc::now();
            let event = contracts::leads::LeadQualified {
                lead_id: id,
                framework: evaluation.variant.to_lowercase(),
                scores: scores(&card),
                total: evaluation.total as u8,
                max_total: evaluation.max as u8,
                account_id: lead.account_id,
                qualified_at: now,
            };
            outbox::enqueue(tx, &event, Some(trace))?;
            if lead.stage().is_before(Stage::Sql) {
                let m = StageMove::new(Stage::Sql, "qualified", now);
                lead = lifecycle::change_stage(tx, lead, &m, Some(trace))?;
            }
        }
        Ok(Qualification {
            version,
            card,
            evaluation,
            lifecycle_stage: lead.lifecycle_stage,
        })
    })
}

/// A live lead's card under the current rule; a lead without one is `NoCard`.
pub fn card(conn: &mut PgConnection, id: Uuid) -> Result<Qualification, LeadsError> {
    let lead = live::find(conn, id)?;
    let (version, card) = store::meddicc::card(conn, id)?.ok_or(LeadsError::NoCard(id))?;
    let (_, rule) = current_rule(conn)?;
    Ok(Qualification {
        version,
        evaluation: evaluate(&card, &rule),
        card,
        lifecycle_stage: lead.lifecycle_stage,
    })
}

fn scores(m: &Meddicc) -> contracts::leads::MeddiccScores {
    contracts::leads::MeddiccScores {
        metrics: m.metrics.score,
        economic_buyer: m.economic_buyer.score,
        decision_criteria: m.decision_criteria.score,
        decision_process: m.decision_process.score,
        identify_pain: m.identify_pain.score,
        champion: m.champion.score,
        competition: m.competition.score,
        paper_process: m.paper_process.as_ref().map(|e| e.score),
    }
}
