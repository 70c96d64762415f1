//! Lead rows: insert, read, lock, save, search, and the bulk engagement update.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use platform::keyset;
use platform::sort::{Keyset, Sort};
use uuid::Uuid;

use super::schema::leads;
use crate::domain::lead::{LeadProfile, Utm};
use crate::domain::lifecycle::Stage;
use crate::domain::scoring::Engagement;

/// A lead as stored: its profile's columns, then lifecycle, scores and bookkeeping.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = leads, treat_none_as_null = true)]
pub struct LeadRow {
    pub id: Uuid,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub company: Option<String>,
    pub source: String,
    pub campaign_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub affiliate_id: Option<String>,
    pub lifecycle_stage: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub phone: Option<String>,
    pub account_id: Option<Uuid>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    pub owner: Option<String>,
    pub consent: bool,
    pub properties: serde_json::Value,
    pub merged_into: Option<Uuid>,
    pub fit: f64,
    pub engagement: f64,
    pub engagement_as_of: Option<DateTime<Utc>>,
    pub grade: Option<String>,
    pub mql_at: Option<DateTime<Utc>>,
    pub sql_at: Option<DateTime<Utc>>,
    pub customer_at: Option<DateTime<Utc>>,
}

impl LeadRow {
    /// A new lead at version 1, unscored, its engagement zero as of `now`.
    pub fn new(id: Uuid, profile: &LeadProfile, stage: Stage, now: DateTime<Utc>) -> LeadRow {
        let mut row = LeadRow {
            id,
            email: String::new(),
            first_name: None,
            last_name: None,
            title: None,
            company: None,
            source: String::new(),
            campaign_id: None,
            anonymous_id: None,
            affiliate_id: None,
            lifecycle_stage: stage.as_str().to_string(),
            version: 1,
            created_at: now,
            updated_at: now,
            phone: None,
            account_id: None,
            utm_source: None,
            utm_medium: None,
            utm_campaign: None,
            utm_term: None,
            utm_content: None,
            owner: None,
            consent: false,
            properties: serde_json::Value::Null,
            merged_into: None,
            fit: 0.0,
            engagement: 0.0,
            engagement_as_of: Some(now),
            grade: None,
            mql_at: None,
            sql_at: None,
            customer_at: None,
        };
        row.set_profile(profile);
        row
    }

    /// The profile columns as the domain's profile.
    pub fn profile(&self) -> LeadProfile {
        LeadProfile {
            email: self.email.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            title: self.title.clone(),
            phone: self.phone.clone(),
            company: self.company.clone(),
            source: self.source.clone(),
            campaign_id: self.campaign_id.clone(),
            anonymous_id: self.anonymous_id.clone(),
            affiliate_id: self.affiliate_id.clone(),
            utm: Utm {
                utm_source: self.utm_source.clone(),
                utm_medium: self.utm_medium.clone(),
                utm_campaign: self.utm_campaign.clone(),
                utm_term: self.utm_term.clone(),
                utm_content: self.utm_content.clone(),
            },
            account_id: self.account_id,
            owner: self.owner.clone(),
            consent: self.consent,
            properties: self.properties.clone(),
        }
    }

    /// Replaces the profile columns.
    pub fn set_profile(&mut self, p: &LeadProfile) {
        self.email.clone_from(&p.email);
        self.first_name.clone_from(&p.first_name);
        self.last_name.clone_from(&p.last_name);
        self.title.clone_from(&p.title);
        self.phone.clone_from(&p.phone);
        self.company.clone_from(&p.company);
        self.source.clone_from(&p.source);
        self.campaign_id.clone_from(&p.campaign_id);
        self.anonymous_id.clone_from(&p.anonymous_id);
        self.affiliate_id.clone_from(&p.affiliate_id);
        self.utm_source.clone_from(&p.utm.utm_source);
        self.utm_medium.clone_from(&p.utm.utm_medium);
        self.utm_campaign.clone_from(&p.utm.utm_campaign);
        self.utm_term.clone_from(&p.utm.utm_term);
        self.utm_content.clone_from(&p.utm.utm_content);
        self.account_id = p.account_id;
        self.owner.clone_from(&p.owner);
        self.consent = p.consent;
        self.properties.clone_from(&p.properties);
    }

    /// The lifecycle stage; an unknown stored name reads as `lead`.
    pub fn stage(&self) -> Stage {
        Stage::parse(&self.lifecycle_stage).unwrap_or(Stage::Lead)
    }

    /// The engagement score as stored: its value at its last change.
    pub fn engagement(&self) -> Engagement {
        Engagement {
            value: self.engagement,
            as_of: self.engagement_as_of.unwrap_or(self.created_at),
        }
    }
}

/// Inserts a new lead; `false` when its email is taken.
pub fn insert(conn: &mut PgConnection, row: &LeadRow) -> QueryResult<bool> {
    let inserted = diesel::insert_into(leads::table)
        .values(row)
        .on_conflict(leads::email)
        .do_nothing()
        .execute(conn)?;
    Ok(inserted > 0)
}

/// Inserts new leads with one statement; returns the ids of those inserted, leaving out
/// each whose email is taken (by a lead stored before, or by an earlier row of `rows`).
/// 32 columns a row: at most 2,000 rows, within PostgreSQL's 65,535 bind parameters.
pub fn insert_many(conn: &mut PgConnection, rows: &[LeadRow]) -> QueryResult<Vec<Uuid>> {
    let mut ids = Vec::with_capacity(rows.len());
    for part in rows.chunks(2000) {
        ids.extend(
            diesel::insert_into(leads::table)
                .values(part)
                .on_conflict(leads::email)
                .do_nothing()
                .returning(leads::id)
                .get_results::<Uuid>(conn)?,
        );
    }
    Ok(ids)
}

/// Writes every column of the lead.
pub fn save(conn: &mut PgConnection, row: &LeadRow) -> QueryResult<()> {
    diesel::update(leads::table.find(row.id))
        .set(row)
        .execute(conn)
        .map(drop)
}

/// Writes the lead's lifecycle columns (stage, first-reached times) and version.
pub fn save_stage(conn: &mut PgConnection, row: &LeadRow) -> QueryResult<()> {
    diesel::update(leads::table.find(row.id))
        .set((
            leads::lifecycle_stage.eq(&row.lifecycle_stage),
            leads::mql_at.eq(row.mql_at),
            leads::sql_at.eq(row.sql_at),
            leads::customer_at.eq(row.customer_at),
            leads::version.eq(row.version),
            leads::updated_at.eq(row.updated_at),
        ))
        .execute(conn)
        .map(drop)
}

/// Writes the lead's fit score and grade.
pub fn save_score(conn: &mut PgConnection, id: Uuid, fit: f64, grade: &str) -> QueryResult<()> {
    diesel::update(leads::table.find(id))
        .set((leads::fit.eq(fit), leads::grade.eq(grade)))
        .execute(conn)
        .map(drop)
}

/// The live lead that holds `email`: its owner, or the survivor the owner was merged into.
pub fn email_holder(conn: &mut PgConnection, email: &str) -> QueryResult<Option<Uuid>> {
    let holder: Option<(Uuid, Option<Uuid>)> = leads::table
        .filter(leads::email.eq(email))
        .select((leads::id, leads::merged_into))
        .first(conn)
        .optional()?;
    Ok(holder.map(|(id, merged_into)| merged_into.unwrap_or(id)))
}

/// The lead with this id, even if merged.
pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<LeadRow>> {
    leads::table
        .find(id)
        .select(LeadRow::as_select())
        .first(conn)
        .optional()
}

/// The lead with this id, even if merged, locked for the rest of the transaction.
pub fn lock(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<LeadRow>> {
    leads::table
        .find(id)
        .select(LeadRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// The leads with these ids or emails, in id order; with `lock`, locked `FOR UPDATE` in
/// that order, so that concurrent callers cannot deadlock.
pub fn matching(
    conn: &mut PgConnection,
    ids: &[Uuid],
    emails: &[String],
    lock: bool,
) -> QueryResult<Vec<LeadRow>> {
    let query = leads::table
        .filter(leads::id.eq_any(ids).or(leads::email.eq_any(emails)))
        .order(leads::id)
        .select(LeadRow::as_select());
    if lock {
        query.for_update().load(conn)
    } else {
        query.load(conn)
    }
}

/// The live leads of an account.
pub fn of_account(conn: &mut PgConnection, account_id: Uuid) -> QueryResult<Vec<LeadRow>> {
    leads::table
        .filter(leads::account_id.eq(account_id))
        .filter(leads::merged_into.is_null())
        .select(LeadRow::as_select())
        .load(conn)
}

/// Marks `from_id` merged into `survivor_id`, and points anything already merged into it at
/// the survivor too.
pub fn mark_merged(
    conn: &mut PgConnection,
    from: &LeadRow,
    survivor_id: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(leads::table.find(from.id))
        .set((
            leads::merged_into.eq(survivor_id),
            leads::version.eq(from.version + 1),
            leads::updated_at.eq(at),
        ))
        .execute(conn)?;
    diesel::update(leads::table.filter(leads::merged_into.eq(from.id)))
        .set(leads::merged_into.eq(survivor_id))
        .execute(conn)
        .map(drop)
}

/// New engagement (value, as of) and grade of many leads, in one statement.
#[derive(Debug, Default)]
pub struct EngagementUpdates {
    pub ids: Vec<Uuid>,
    pub values: Vec<f64>,
    pub as_of: Vec<DateTime<Utc>>,
    pub grades: Vec<String>,
}

impl EngagementUpdates {
    pub fn push(&mut self, id: Uuid, engagement: Engagement, grade: String) {
        self.ids.push(id);
        self.values.push(engagement.value);
        self.as_of.push(engagement.as_of);
        self.grades.push(grade);
    }
}

pub fn save_engagements(conn: &mut PgConnection, u: &EngagementUpdates) -> QueryResult<()> {
    use diesel::sql_types::{Array, Float8, Text, Timestamptz, Uuid as SqlUuid};
    diesel::sql_query(
        "UPDATE leads l SET engagement = v.e, engagement_as_of = v.t, grade = v.g \
         FROM unnest($1::uuid[], $2::float8[], $3::timestamptz[], $4::text[]) AS v(id, e, t, g) \
         WHERE l.id = v.id",
    )
    .bind::<Array<SqlUuid>, _>(&u.ids)
    .bind::<Array<Float8>, _>(&u.values)
    .bind::<Array<Timestamptz>, _>(&u.as_of)
    .bind::<Array<Text>, _>(&u.grades)
    .execute(conn)
    .map(drop)
}

/// Filters of `GET /v1/leads`.
#[derive(Debug, Clone, Default)]
pub struct LeadFilter {
    pub stage: Option<String>,
    pub source: Option<String>,
    pub campaign_id: Option<String>,
    pub account_id: Option<Uuid>,
    pub grade: Option<String>,
    pub min_score: Option<f64>,
    pub max_score: Option<f64>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Updated at or after.
    pub updated_since: Option<DateTime<Utc>>,
    /// Case-insensitive substring of first name, last name or email.
    pub q: Option<String>,
    pub sort: Sort,
    pub after: Option<Keyset<Uuid>>,
    pub limit: i64,
}

/// One page of live leads in `sort` order, ties by id. The score range applies to fit +
/// engagement as stored.
pub fn list(conn: &mut PgConnection, f: &LeadFilter) -> QueryResult<Vec<LeadRow>> {
    let q = leads::table
        .select(LeadRow::as_select())
        .filter(leads::merged_into.is_null())
        .limit(f.limit)
        .into_boxed();
    let mut q = keyset!(q, leads, f.sort, f.after);
    if let Some(v) = &f.stage {
        q = q.filter(leads::lifecycle_stage.eq(v.clone()));
    }
    if let Some(v) = &f.source {
        q = q.filter(leads::source.eq(v.clone()));
    }
    if let Some(v) = &f.campaign_id {
        q = q.filter(leads::campaign_id.eq(v.clone()));
    }
    if let Some(v) = f.account_id {
        q = q.filter(leads::account_id.eq(v));
    }
    if let Some(v) = &f.grade {
        q = q.filter(leads::grade.eq(v.clone()));
    }
    if let Some(v) = f.min_score {
        q = q.filter((leads::fit + leads::engagement).ge(v));
    }
    if let Some(v) = f.max_score {
        q = q.filter((leads::fit + leads::engagement).le(v));
    }
    if let Some(v) = f.created_from {
        q = q.filter(leads::created_at.ge(v));
    }
    if let Some(v) = f.created_to {
        q = q.filter(leads::created_at.lt(v));
    }
    if let Some(v) = f.updated_since {
        q = q.filter(leads::updated_at.ge(v));
    }
    if let Some(text) = &f.q {
        let pattern = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        q = q.filter(
            leads::email
                .ilike(pattern.clone())
                .or(leads::first_name.ilike(pattern.clone()))
                .or(leads::last_name.ilike(pattern)),
        );
    }
    q.load(conn)
}
