//! Applying the scoring model to a lead: fit, decayed engagement, grade, score history,
//! `lead.scored` on a grade change or threshold crossing, and automatic promotion to `mql`;
//! and the model itself, versioned data.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use platform::TraceContext;
use platform::bus::outbox;
use platform::http::versioning;
use uuid::Uuid;

use super::lifecycle::{self, StageMove};
use super::live;
use crate::domain::lifecycle::Stage;
use crate::domain::scoring::{FiredRule, FitFacts, Grade, ScoringModel};
use crate::error::LeadsError;
use crate::store::LeadRow;
use crate::store::scoring::{self as store, ScoreEntry};

pub use crate::store::scoring::Versioned;

/// The current model and its version; the built-in default becomes version 1 on first use.
/// Read it once per operation and pass it on.
pub fn current_model(conn: &mut PgConnection) -> Result<Versioned, LeadsError> {
    Ok(store::current_model(conn, ScoringModel::default_model())?)
}

/// A model version with the numbers of every version, oldest first.
#[derive(Debug, Clone)]
pub struct ModelVersions {
    pub version: i32,
    pub model: ScoringModel,
    pub versions: Vec<i32>,
}

pub fn current_model_versions(conn: &mut PgConnection) -> Result<ModelVersions, LeadsError> {
    let (version, model) = current_model(conn)?;
    let versions = store::model_versions(conn)?;
    Ok(ModelVersions {
        version,
        model,
        versions,
    })
}

/// Stores a validated model as the version after `expected`, which must be the current
/// one (else a 412 naming the current ETag). Existing scores change as leads are next
/// scored.
pub fn save_model(
    conn: &mut PgConnection,
    expected: i32,
    model: ScoringModel,
) -> Result<ModelVersions, LeadsError> {
    conn.transaction(|tx| {
        // The default is version 1 even when the first model is saved before any is read.
        let (current, _) = current_model(tx)?;
        versioning::check(expected, current)?;
        let version = current + 1;
        if !store::save_model(tx, version, &model)? {
            // A concurrent save took the next version between the read and the insert.
            return Err(versioning::stale(version).into());
        }
        let versions = store::model_versions(tx)?;
        Ok(ModelVersions {
            version,
            model,
            versions,
        })
    })
}

/// What the model says about a lead now.
#[derive(Debug, Clone)]
pub struct ScoreCard {
    pub model_version: i32,
    pub fit: f64,
    pub fired: Vec<FiredRule>,
    pub engagement: f64,
    pub grade: Grade,
    pub qualifies_for_mql: bool,
}

pub fn score_card(
    conn: &mut PgConnection,
    versioned: &Versioned,
    lead: &LeadRow,
    now: DateTime<Utc>,
) -> Result<ScoreCard, LeadsError> {
    let facts = store::fit_facts(conn, lead.title.as_deref(), lead.account_id)?;
    Ok(card(versioned, lead, &facts, now))
}

/// What the model says about a lead whose fit facts are read already (for many leads at
/// once, with one query).
pub fn card(
    (model_version, model): &Versioned,
    lead: &LeadRow,
    facts: &FitFacts,
    now: DateTime<Utc>,
) -> ScoreCard {
    let (fit, fired) = model.fit(facts);
    let engagement = lead.engagement().value_at(now, model.half_life_days);
    ScoreCard {
        model_version: *model_version,
        fit,
        fired,
        engagement,
        grade: model.grade(fit, engagement),
        qualifies_for_mql: model.qualifies_for_mql(fit, engagement),
    }
}

/// A lead's (fit, engagement now) as stored: what a change is compared with.
pub fn scores_now(lead: &LeadRow, model: &ScoringModel, now: DateTime<Utc>) -> (f64, f64) {
    (
        lead.fit,
        lead.engagement().value_at(now, model.half_life_days),
    )
}

/// A lead's scores at a moment under a model version: what the score history records and
/// `lead.scored` carries.
pub(crate) struct Scored<'a> {
    pub lead_id: Uuid,
    pub fit: f64,
    pub engagement: f64,
    pub grade: &'a str,
    pub model_version: i32,
    pub at: DateTime<Utc>,
}

impl Scored<'_> {
    pub fn entry(&self, cause: &str) -> ScoreEntry {
        ScoreEntry {
            lead_id: self.lead_id,
            fit: self.fit,
            engagement: self.engagement,
            grade: self.grade.to_string(),
            model_version: self.model_version,
            cause: cause.to_string(),
            at: self.at,
        }
    }

    pub fn event(
        &self,
        previous_grade: Option<String>,
        crossed_mql: bool,
    ) -> contracts::leads::LeadScored {
        contracts::leads::LeadScored {
            lead_id: self.lead_id,
            fit_score: self.fit,
            engagement_score: self.engagement,
            grade: self.grade.to_string(),
            previous_grade,
            crossed_thresholds: if crossed_mql {
                vec!["mql".to_string()]
            } else {
                vec![]
            },
            model_version: self.model_version as u32,
            scored_at: self.at,
        }
    }
}

impl ScoreCard {
    pub(crate) fn scored<'a>(
        &self,
        lead_id: Uuid,
        grade: &'a str,
        at: DateTime<Utc>,
    ) -> Scored<'a> {
        Scored {
            lead_id,
            fit: self.fit,
            engagement: self.engagement,
            grade,
            model_version: self.model_version,
            at,
        }
    }
}

/// Re-scores a lead after a change (`cause` says which), keeping history, publishing
/// `lead.scored` when the grade changes or the MQL threshold is crossed, and promoting
/// the lead to `mql` when it qualifies. `before` is the (fit, engagement now) the lead had
/// before the change, `None` for a new lead. Returns the updated row.
pub fn rescore(
    conn: &mut PgConnection,
    versioned: &Versioned,
    mut lead: LeadRow,
    before: Option<(f64, f64)>,
    cause: &str,
    now: DateTime<Utc>,
    trace: Option<&TraceContext>,
) -> Result<LeadRow, LeadsError> {
    let model = &versioned.1;
    let card = score_card(conn, versioned, &lead, now)?;
    let previous_grade = lead.grade.clone();
    let grade = card.grade.to_string();
    let was_qualified = before.is_some_and(|(f, e)| model.qualifies_for_mql(f, e));
    let fit_changed = (card.fit - lead.fit).abs() > 1e-9;
    crate::store::leads::save_score(conn, lead.id, card.fit, &grade)?;
    lead.fit = card.fit;
    let scored = card.scored(lead.id, &grade, now);
    let grade_changed = previous_grade.as_deref() != Some(grade.as_str());
    if grade_changed || fit_changed {
        store::record_scores(conn, &[scored.entry(cause)])?;
    }
    let crossed = card.qualifies_for_mql && !was_qualified;
    // A new lead's first grade travels with nothing else: it is published only when the
    // lead is already past the MQL threshold. Later, any grade change is published.
    let publish = if before.is_some() {
        grade_changed || crossed
    } else {
        crossed
    };
    if publish {
        outbox::enqueue(conn, &scored.event(previous_grade, crossed), trace)?;
    }
    lead.grade = Some(grade);
    if card.qualifies_for_mql && matches!(lead.stage(), Stage::Subscriber | Stage::Lead) {
        lead =
            lifecycle::change_stage(conn, lead, &StageMove::new(Stage::Mql, "score", now), trace)?;
    }
    Ok(lead)
}

/// The parts of a lead's score now, and its score history.
#[derive(Debug, Clone)]
pub struct ScoreView {
    pub card: ScoreCard,
    pub half_life_days: f64,
    pub history: Vec<ScoreEntry>,
}

pub fn score(conn: &mut PgConnection, id: Uuid) -> Result<ScoreView, LeadsError> {
    let lead = live::find(conn, id)?;
    let model = current_model(conn)?;
    let card = score_card(conn, &model, &lead, Utc::now())?;
    let history = store::score_history(conn, id)?;
    Ok(ScoreView {
        card,
        half_life_days: model.1.half_life_days,
        history,
    })
}
