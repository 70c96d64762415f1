//! Scoring data: the versioned scoring model and qualification rule (stored as JSON), the
//! account attributes fit rules read, and each lead's score history.

use std::collections::HashMap;

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

/// The attributes of an account that fit rules read.
#[derive(Debug, Clone, Queryable)]
pub struct AccountFacts {
    pub industry: Option<String>,
    pub employees: Option<i32>,
    pub region: Option<String>,
    pub target: bool,
    pub abm_tier: String,
}

type FactColumns = (
    accounts::industry,
    accounts::employees,
    accounts::region,
    accounts::target,
    accounts::abm_tier,
);

const FACT_COLUMNS: FactColumns = (
    accounts::industry,
    accounts::employees,
    accounts::region,
    accounts::target,
    accounts::abm_tier,
);

/// What fit rules look at: the lead's title and its account's attributes.
pub fn fit_facts(
    conn: &mut PgConnection,
    title: Option<&str>,
    account_id: Option<Uuid>,
) -> QueryResult<FitFacts> {
    let account: Option<AccountFacts> = match account_id {
        None => None,
        Some(id) => accounts::table
            .find(id)
            .select(FACT_COLUMNS)
            .first(conn)
            .optional()?,
    };
    Ok(facts(title, account.as_ref()))
}

/// The fit facts of many accounts with one query, by account id.
pub fn account_facts(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, AccountFacts>> {
    let (id, (industry, employees, region, target, abm_tier)) = (accounts::id, FACT_COLUMNS);
    let rows: Vec<(Uuid, AccountFacts)> = accounts::table
        .filter(accounts::id.eq_any(ids))
        .select((id, (industry, employees, region, target, abm_tier)))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// What fit rules look at, from a lead's title and its account's attributes (if any).
pub fn facts(title: Option<&str>, account: Option<&AccountFacts>) -> FitFacts {
    FitFacts {
        title: title.map(str::to_string),
        industry: account.and_then(|a| a.industry.clone()),
        employees: account.and_then(|a| a.employees.map(i64::from)),
        region: account.and_then(|a| a.region.clone()),
        abm_target: account.is_some_and(|a| a.target),
        abm_tier: account.map(|a| a.abm_tier.clone()),
    }
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
