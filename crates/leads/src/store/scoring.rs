//! The scoring model (data, versioned) and applying it to a lead: fit, decayed engagement,
//! grade, score history, `lead.scored` on a grade change or threshold crossing, and
//! automatic promotion to `mql`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use platform::TraceContext;
use uuid::Uuid;

use super::schema::{accounts, leads, score_history, scoring_models};
use super::{LeadRow, change_stage};
use crate::domain::lifecycle::Stage;
use crate::domain::scoring::{Engagement, FiredRule, FitFacts, Grade, ScoringModel};
use crate::error::LeadsError;

/// A scoring model with its version number.
pub type Versioned = (i32, ScoringModel);

/// The current model and its version; the built-in default becomes version 1 on first use.
/// Read it once per operation and pass it on.
pub fn current_model(conn: &mut PgConnection) -> Result<Versioned, LeadsError> {
    let latest: Option<(i32, serde_json::Value)> = scoring_models::table
        .order(scoring_models::version.desc())
        .select((scoring_models::version, scoring_models::model))
        .first(conn)
        .optional()?;
    match latest {
        Some((v, json)) => Ok((
            v,
            serde_json::from_value(json).map_err(|e| anyhow::anyhow!("stored model: {e}"))?,
        )),
        None => {
            // First use: the built-in default becomes version 1. A concurrent first use may
            // also insert it; both rows hold the same default, so that is harmless.
            let model = ScoringModel::default_model();
            diesel::sql_query(
                "INSERT INTO scoring_models (model) SELECT $1 \
                 WHERE NOT EXISTS (SELECT 1 FROM scoring_models)",
            )
            .bind::<diesel::sql_types::Jsonb, _>(
                serde_json::to_value(&model).expect("model serializes"),
            )
            .execute(conn)?;
            let version = scoring_models::table
                .select(diesel::dsl::max(scoring_models::version))
                .first::<Option<i32>>(conn)?
                .unwrap_or(1);
            Ok((version, model))
        }
    }
}

/// Stores a new version of the model (validated by the caller) and returns its number.
pub fn save_model(conn: &mut PgConnection, model: &ScoringModel) -> Result<i32, LeadsError> {
    current_model(conn)?;
    Ok(diesel::insert_into(scoring_models::table)
        .values(scoring_models::model.eq(serde_json::to_value(model).expect("model serializes")))
        .returning(scoring_models::version)
        .get_result(conn)?)
}

pub fn model_versions(conn: &mut PgConnection) -> Result<Vec<(i32, DateTime<Utc>)>, LeadsError> {
    current_model(conn)?;
    Ok(scoring_models::table
        .order(scoring_models::version)
        .select((scoring_models::version, scoring_models::created_at))
        .load(conn)?)
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

pub fn fit_facts(conn: &mut PgConnection, lead: &LeadRow) -> QueryResult<FitFacts> {
    type AccountFacts = (Option<String>, Option<i32>, Option<String>, bool, String);
    let account: Option<AccountFacts> = match lead.account_id {
        None => None,
        Some(id) => accounts::table
            .find(id)
            .select((
                accounts::industry,
                accounts::employees,
                accounts::region,
                accounts::target,
                accounts::abm_tier,
            ))
            .first(conn)
            .optional()?,
    };
    let (industry, employees, region, abm_target, abm_tier) = match account {
        Some((i, e, r, t, tier)) => (i, e.map(i64::from), r, t, Some(tier)),
        None => (None, None, None, false, None),
    };
    Ok(FitFacts {
        title: lead.title.clone(),
        industry,
        employees,
        region,
        abm_target,
        abm_tier,
    })
}

pub fn score_card(
    conn: &mut PgConnection,
    (model_version, model): &Versioned,
    lead: &LeadRow,
    now: DateTime<Utc>,
) -> Result<ScoreCard, LeadsError> {
    let model_version = *model_version;
    let (fit, fired) = model.fit(&fit_facts(conn, lead)?);
    let engagement = lead_engagement(lead).value_at(now, model.half_life_days);
    Ok(ScoreCard {
        model_version,
        fit,
        fired,
        engagement,
        grade: model.grade(fit, engagement),
        qualifies_for_mql: model.qualifies_for_mql(fit, engagement),
    })
}

pub fn lead_engagement(lead: &LeadRow) -> Engagement {
    Engagement {
        value: lead.engagement,
        as_of: lead.engagement_as_of.unwrap_or(lead.created_at),
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
    diesel::update(leads::table.find(lead.id))
        .set((leads::fit.eq(card.fit), leads::grade.eq(&grade)))
        .execute(conn)?;
    lead.fit = card.fit;
    let grade_changed = previous_grade.as_deref() != Some(grade.as_str());
    if grade_changed || fit_changed {
        diesel::insert_into(score_history::table)
            .values((
                score_history::lead_id.eq(lead.id),
                score_history::fit.eq(card.fit),
                score_history::engagement.eq(card.engagement),
                score_history::grade.eq(&grade),
                score_history::model_version.eq(card.model_version),
                score_history::cause.eq(cause),
                score_history::at.eq(now),
            ))
            .execute(conn)?;
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
        let mut crossed_thresholds = Vec::new();
        if crossed {
            crossed_thresholds.push("mql".to_string());
        }
        let event = contracts::leads::LeadScored {
            lead_id: lead.id,
            fit_score: card.fit,
            engagement_score: card.engagement,
            grade: grade.clone(),
            previous_grade: previous_grade.clone(),
            crossed_thresholds,
            model_version: card.model_version as u32,
            scored_at: now,
        };
        platform::bus::outbox::enqueue(conn, &event, trace)?;
    }
    lead.grade = Some(grade);
    if card.qualifies_for_mql && matches!(lead.stage(), Stage::Subscriber | Stage::Lead) {
        lead = change_stage(conn, lead, Stage::Mql, None, "score", None, now, trace)?;
    }
    Ok(lead)
}

/// One entry of a lead's score history: (fit, engagement, grade, model version, cause, at).
pub type ScoreEntry = (f64, f64, String, i32, String, DateTime<Utc>);

/// Score history of a lead, oldest first.
pub fn score_history(
    conn: &mut PgConnection,
    lead_id: Uuid,
) -> Result<Vec<ScoreEntry>, LeadsError> {
    Ok(score_history::table
        .filter(score_history::lead_id.eq(lead_id))
        .order(score_history::id)
        .select((
            score_history::fit,
            score_history::engagement,
            score_history::grade,
            score_history::model_version,
            score_history::cause,
            score_history::at,
        ))
        .load(conn)?)
}

/// The current MEDDICC qualification rule and its version (the default until one is saved).
pub fn current_rule(
    conn: &mut PgConnection,
) -> Result<(i32, crate::domain::meddicc::QualificationRule), LeadsError> {
    use super::schema::qualification_rules as rules;
    let latest: Option<(i32, serde_json::Value)> = rules::table
        .order(rules::version.desc())
        .select((rules::version, rules::rule))
        .first(conn)
        .optional()?;
    match latest {
        Some((v, json)) => Ok((
            v,
            serde_json::from_value(json).map_err(|e| anyhow::anyhow!("stored rule: {e}"))?,
        )),
        None => Ok((0, crate::domain::meddicc::QualificationRule::default())),
    }
}

pub fn save_rule(
    conn: &mut PgConnection,
    rule: &crate::domain::meddicc::QualificationRule,
) -> Result<i32, LeadsError> {
    use super::schema::qualification_rules as rules;
    Ok(diesel::insert_into(rules::table)
        .values(rules::rule.eq(serde_json::to_value(rule).expect("rule serializes")))
        .returning(rules::version)
        .get_result(conn)?)
}
