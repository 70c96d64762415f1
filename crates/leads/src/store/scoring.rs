//! Scoring data: the versioned scoring model and qualification rule (stored as JSON), the
//! account attributes fit rules read, and each lead's score history.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{accounts, qualification_rules as rules, score_history, scoring_models};
use crate::domain::meddicc::QualificationRule;
use crate::domain::scoring::{FitFacts, ScoringModel};

/// A scoring model with its version number.
pub type Versioned = (i32, ScoringModel);

/// A stored JSON document that no longer reads as its type.
fn stored<T: serde::de::DeserializeOwned>(what: &str, json: serde_json::Value) -> QueryResult<T> {
    serde_json::from_value(json).map_err(|e| {
        diesel::result::Error::DeserializationError(format!("stored {what}: {e}").into())
    })
}

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("a model or rule serializes")
}

/// The latest model and its version; when none is stored yet, `default` becomes version 1.
/// A concurrent first use inserts the same version 1, which the first one wins.
pub fn current_model(conn: &mut PgConnection, default: ScoringModel) -> QueryResult<Versioned> {
    let latest: Option<(i32, serde_json::Value)> = scoring_models::table
        .order(scoring_models::version.desc())
        .select((scoring_models::version, scoring_models::model))
        .first(conn)
        .optional()?;
    if let Some((version, model)) = latest {
        return Ok((version, stored("model", model)?));
    }
    save_model(conn, 1, &default)?;
    let version = scoring_models::table
        .select(diesel::dsl::max(scoring_models::version))
        .first::<Option<i32>>(conn)?
        .unwrap_or(1);
    Ok((version, default))
}

/// Stores the model as `version`; `false` when that version exists already (another
/// writer took it first).
pub fn save_model(
    conn: &mut PgConnection,
    version: i32,
    model: &ScoringModel,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(scoring_models::table)
        .values((
            scoring_models::version.eq(version),
            scoring_models::model.eq(json(model)),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(inserted > 0)
}

/// Every model version, oldest first.
pub fn model_versions(conn: &mut PgConnection) -> QueryResult<Vec<i32>> {
    scoring_models::table
        .order(scoring_models::version)
        .select(scoring_models::version)
        .load(conn)
}

/// The latest qualification rule and its version, if one was saved.
pub fn current_rule(conn: &mut PgConnection) -> QueryResult<Option<(i32, QualificationRule)>> {
    let latest: Option<(i32, serde_json::Value)> = rules::table
        .order(rules::version.desc())
        .select((rules::version, rules::rule))
        .first(conn)
        .optional()?;
    latest
        .map(|(version, rule)| Ok((version, stored("rule", rule)?)))
        .transpose()
}

/// Stores the rule as `version`; `false` when that version exists already (another writer
/// took it first).
pub fn save_rule(
    conn: &mut PgConnection,
    version: i32,
    rule: &QualificationRule,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(rules::table)
        .values((rules::version.eq(version), rules::rule.eq(json(rule))))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(inserted > 0)
}

/// What fit rules look at: the lead's title and its account's attributes.
pub fn fit_facts(
    conn: &mut PgConnection,
    title: Option<&str>,
    account_id: Option<Uuid>,
) -> QueryResult<FitFacts> {
    type AccountFacts = (Option<String>, Option<i32>, Option<String>, bool, String);
    let account: Option<AccountFacts> = match account_id {
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
        title: title.map(str::to_string),
        industry,
        employees,
        region,
        abm_target,
        abm_tier,
    })
}

/// One entry of a lead's score history.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = score_history)]
pub struct ScoreEntry {
    pub lead_id: Uuid,
    pub fit: f64,
    pub engagement: f64,
    pub grade: String,
    pub model_version: i32,
    pub cause: String,
    pub at: DateTime<Utc>,
}

pub fn record_scores(conn: &mut PgConnection, entries: &[ScoreEntry]) -> QueryResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    diesel::insert_into(score_history::table)
        .values(entries)
        .execute(conn)
        .map(drop)
}

/// The score history of a lead, oldest first.
pub fn score_history(conn: &mut PgConnection, lead_id: Uuid) -> QueryResult<Vec<ScoreEntry>> {
    score_history::table
        .filter(score_history::lead_id.eq(lead_id))
        .order(score_history::id)
        .select(ScoreEntry::as_select())
        .load(conn)
}
