//! Persistence of accounts and leads. Every change writes its outbox rows here, in the same
//! transaction as the change.

pub mod accounts;
pub mod reports;
pub mod schema;
pub mod scoring;

use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use platform::TraceContext;
use uuid::Uuid;

use crate::domain::NewLead;
use crate::domain::lead::LeadInput;
use crate::domain::lifecycle::{MoveKind, Stage, check_move};
use crate::domain::meddicc::{Evaluation, Meddicc, QualificationRule, evaluate};
use crate::error::LeadsError;
use schema::{engagement_touches, leads, lifecycle_history, meddicc_cards, score_history};

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
    /// The lead as a client would send it: the base a PATCH is merged onto.
    pub fn to_input(&self) -> LeadInput {
        LeadInput {
            email: Some(self.email.clone()),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            title: self.title.clone(),
            phone: self.phone.clone(),
            company: self.company.clone(),
            source: Some(self.source.clone()),
            campaign_id: self.campaign_id.clone(),
            anonymous_id: self.anonymous_id.clone(),
            affiliate_id: self.affiliate_id.clone(),
            utm_source: self.utm_source.clone(),
            utm_medium: self.utm_medium.clone(),
            utm_campaign: self.utm_campaign.clone(),
            utm_term: self.utm_term.clone(),
            utm_content: self.utm_content.clone(),
            account_id: self.account_id,
            owner: self.owner.clone(),
            consent: Some(self.consent),
            properties: Some(self.properties.clone()),
            lifecycle_stage: None,
        }
    }

    pub fn stage(&self) -> Stage {
        Stage::parse(&self.lifecycle_stage).unwrap_or(Stage::Lead)
    }

    fn apply(&mut self, lead: &NewLead, account_id: Option<Uuid>) {
        self.email = lead.email.as_str().to_string();
        self.first_name = lead.first_name.clone();
        self.last_name = lead.last_name.clone();
        self.title = lead.title.clone();
        self.phone = lead.phone.clone();
        self.company = lead.company.clone();
        self.source = lead.source.as_str().to_string();
        self.campaign_id = lead.campaign_id.clone();
        self.anonymous_id = lead.anonymous_id.clone();
        self.affiliate_id = lead.affiliate_id.clone();
        self.utm_source = lead.utm.utm_source.clone();
        self.utm_medium = lead.utm.utm_medium.clone();
        self.utm_campaign = lead.utm.utm_campaign.clone();
        self.utm_term = lead.utm.utm_term.clone();
        self.utm_content = lead.utm.utm_content.clone();
        self.account_id = account_id;
        self.owner = lead.owner.clone();
        self.consent = lead.consent;
        self.properties = serde_json::Value::Object(lead.properties.clone());
    }
}

/// The account a lead belongs to: the explicit one (which must exist), else the one owning
/// the email's domain, never for free-mail addresses.
fn resolve_account(conn: &mut PgConnection, lead: &NewLead) -> Result<Option<Uuid>, LeadsError> {
    if let Some(id) = lead.account_id {
        let exists = accounts::find_account(conn, id)?.is_some();
        if !exists {
            return Err(platform::Problem::field(
                "account_id",
                "does not name an existing account",
            )
            .into());
        }
        return Ok(Some(id));
    }
    if lead.email.is_free_mail() {
        return Ok(None);
    }
    Ok(accounts::account_for_domain(conn, lead.email.domain())?)
}

/// Inserts the lead, scores it and publishes `lead.created` (and `lead.scored`). A taken
/// email is a conflict that names the lead that has it.
pub fn create_lead(
    conn: &mut PgConnection,
    lead: &NewLead,
    trace: &TraceContext,
) -> Result<LeadRow, LeadsError> {
    // PostgreSQL keeps microseconds: truncate so the create response equals later reads.
    let now = Utc::now().trunc_subsecs(6);
    let account_id = resolve_account(conn, lead)?;
    let mut row = LeadRow {
        id: Uuid::now_v7(),
        email: String::new(),
        first_name: None,
        last_name: None,
        title: None,
        company: None,
        source: String::new(),
        campaign_id: None,
        anonymous_id: None,
        affiliate_id: None,
        lifecycle_stage: lead.lifecycle_stage.as_str().to_string(),
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
    row.apply(lead, account_id);
    // Scored before the insert, so that the row goes in once with its fit and grade.
    let model = scoring::current_model(conn)?;
    let card = scoring::score_card(conn, &model, &row, now)?;
    row.fit = card.fit;
    let qualifies = card.qualifies_for_mql;
    if !qualifies {
        row.grade = Some(card.grade.to_string());
    }
    let inserted = diesel::insert_into(leads::table)
        .values(&row)
        .on_conflict(leads::email)
        .do_nothing()
        .execute(conn)?;
    if inserted == 0 {
        let existing = email_holder(conn, &row.email)?
            .ok_or_else(|| anyhow::anyhow!("email conflict without a holder"))?;
        return Err(LeadsError::DuplicateEmail { existing });
    }
    record_stage(conn, row.id, None, row.stage(), "created", None, None, now)?;
    platform::bus::outbox::enqueue(conn, &created_event(&row), Some(trace))?;
    if qualifies {
        // Past the MQL threshold at birth: the full path publishes and promotes.
        return scoring::rescore(conn, &model, row, None, "created", now, Some(trace));
    }
    diesel::insert_into(score_history::table)
        .values((
            score_history::lead_id.eq(row.id),
            score_history::fit.eq(card.fit),
            score_history::engagement.eq(card.engagement),
            score_history::grade.eq(card.grade.to_string()),
            score_history::model_version.eq(card.model_version),
            score_history::cause.eq("created"),
            score_history::at.eq(now),
        ))
        .execute(conn)?;
    Ok(row)
}

fn created_event(row: &LeadRow) -> contracts::leads::LeadCreated {
    contracts::leads::LeadCreated {
        lead_id: row.id,
        email: row.email.clone(),
        first_name: row.first_name.clone(),
        last_name: row.last_name.clone(),
        title: row.title.clone(),
        phone: row.phone.clone(),
        company: row.company.clone(),
        source: row.source.clone(),
        lifecycle_stage: row.lifecycle_stage.clone(),
        campaign_id: row.campaign_id.clone(),
        anonymous_id: row.anonymous_id.clone(),
        affiliate_id: row.affiliate_id.clone(),
        utm_source: row.utm_source.clone(),
        utm_medium: row.utm_medium.clone(),
        utm_campaign: row.utm_campaign.clone(),
        utm_term: row.utm_term.clone(),
        utm_content: row.utm_content.clone(),
        account_id: row.account_id,
        owner: row.owner.clone(),
        consent: row.consent,
        properties: row.properties.clone(),
        created_at: row.created_at,
    }
}

fn updated_event(row: &LeadRow, changed: Vec<String>) -> contracts::leads::LeadUpdated {
    contracts::leads::LeadUpdated {
        lead_id: row.id,
        version: row.version as u64,
        changed,
        email: row.email.clone(),
        first_name: row.first_name.clone(),
        last_name: row.last_name.clone(),
        title: row.title.clone(),
        phone: row.phone.clone(),
        company: row.company.clone(),
        source: row.source.clone(),
        campaign_id: row.campaign_id.clone(),
        anonymous_id: row.anonymous_id.clone(),
        affiliate_id: row.affiliate_id.clone(),
        utm_source: row.utm_source.clone(),
        utm_medium: row.utm_medium.clone(),
        utm_campaign: row.utm_campaign.clone(),
        utm_term: row.utm_term.clone(),
        utm_content: row.utm_content.clone(),
        account_id: row.account_id,
        owner: row.owner.clone(),
        consent: row.consent,
        properties: row.properties.clone(),
        updated_at: row.updated_at,
    }
}

/// The live lead that holds `email`: its owner, or the survivor the owner was merged into.
fn email_holder(conn: &mut PgConnection, email: &str) -> QueryResult<Option<Uuid>> {
    let holder: Option<(Uuid, Option<Uuid>)> = leads::table
        .filter(leads::email.eq(email))
        .select((leads::id, leads::merged_into))
        .first(conn)
        .optional()?;
    Ok(holder.map(|(id, merged_into)| merged_into.unwrap_or(id)))
}

/// The lead with this id, even if merged.
pub fn find_lead_raw(conn: &mut PgConnection, id: Uuid) -> Result<Option<LeadRow>, LeadsError> {
    Ok(leads::table
        .find(id)
        .select(LeadRow::as_select())
        .first(conn)
        .optional()?)
}

/// A live lead; a merged one is `Merged` (the API answers 308 to the survivor).
pub fn find_lead(conn: &mut PgConnection, id: Uuid) -> Result<Option<LeadRow>, LeadsError> {
    match find_lead_raw(conn, id)? {
        Some(row) => match row.merged_into {
            Some(survivor) => Err(LeadsError::Merged { id, survivor }),
            None => Ok(Some(row)),
        },
        None => Ok(None),
    }
}

fn lock_lead(conn: &mut PgConnection, id: Uuid) -> Result<LeadRow, LeadsError> {
    let row = leads::table
        .find(id)
        .select(LeadRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or(LeadsError::NotFound(id))?;
    if let Some(survivor) = row.merged_into {
        return Err(LeadsError::Merged { id, survivor });
    }
    Ok(row)
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
    /// Case-insensitive substring of first name, last name or email.
    pub q: Option<String>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

/// One page of live leads in id order (ids are UUIDv7, so this is creation order). The
/// score range applies to fit + engagement as stored.
pub fn list_leads(conn: &mut PgConnection, f: &LeadFilter) -> Result<Vec<LeadRow>, LeadsError> {
    let mut q = leads::table
        .select(LeadRow::as_select())
        .filter(leads::merged_into.is_null())
        .order(leads::id)
        .limit(f.limit)
        .into_boxed();
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
    if let Some(after) = f.after {
        q = q.filter(leads::id.gt(after));
    }
    Ok(q.load(conn)?)
}

/// Applies a validated full state (a PATCH merged onto the current lead) if `expected_version`
/// is current, publishes `lead.updated` with the changed fields, and re-scores.
pub fn update_lead(
    conn: &mut PgConnection,
    id: Uuid,
    expected_version: i32,
    lead: &NewLead,
    trace: &TraceContext,
) -> Result<LeadRow, LeadsError> {
    let before = lock_lead(conn, id)?;
    if before.version != expected_version {
        return Err(LeadsError::VersionMismatch {
            current: before.version,
        });
    }
    // The PATCH was merged onto the current lead, so a matched account stays unless the
    // client set `account_id` to null, which matches by domain again.
    let account_id = resolve_account(conn, lead)?;
    let mut row = before.clone();
    row.apply(lead, account_id);
    let changed = changed_fields(&before, &row);
    if changed.is_empty() {
        return Ok(before);
    }
    if row.email != before.email
        && let Some(existing) = email_holder(conn, &row.email)?
    {
        return Err(LeadsError::DuplicateEmail { existing });
    }
    let now = Utc::now().trunc_subsecs(6);
    row.version += 1;
    row.updated_at = now;
    diesel::update(leads::table.find(id))
        .set(&row)
        .execute(conn)?;
    platform::bus::outbox::enqueue(conn, &updated_event(&row, changed), Some(trace))?;
    let model = scoring::current_model(conn)?;
    let prior = (
        before.fit,
        scoring::lead_engagement(&before).value_at(now, model.1.half_life_days),
    );
    scoring::rescore(conn, &model, row, Some(prior), "updated", now, Some(trace))
}

fn changed_fields(a: &LeadRow, b: &LeadRow) -> Vec<String> {
    let pairs: [(&str, bool); 19] = [
        ("email", a.email == b.email),
        ("first_name", a.first_name == b.first_name),
        ("last_name", a.last_name == b.last_name),
        ("title", a.title == b.title),
        ("phone", a.phone == b.phone),
        ("company", a.company == b.company),
        ("source", a.source == b.source),
        ("campaign_id", a.campaign_id == b.campaign_id),
        ("anonymous_id", a.anonymous_id == b.anonymous_id),
        ("affiliate_id", a.affiliate_id == b.affiliate_id),
        ("utm_source", a.utm_source == b.utm_source),
        ("utm_medium", a.utm_medium == b.utm_medium),
        ("utm_campaign", a.utm_campaign == b.utm_campaign),
        ("utm_term", a.utm_term == b.utm_term),
        ("utm_content", a.utm_content == b.utm_content),
        ("account_id", a.account_id == b.account_id),
        ("owner", a.owner == b.owner),
        ("consent", a.consent == b.consent),
        ("properties", a.properties == b.properties),
    ];
    pairs
        .iter()
        .filter(|(_, same)| !same)
        .map(|(n, _)| n.to_string())
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn record_stage(
    conn: &mut PgConnection,
    lead_id: Uuid,
    from: Option<Stage>,
    to: Stage,
    cause: &str,
    reason: Option<&str>,
    deal_id: Option<Uuid>,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(lifecycle_history::table)
        .values((
            lifecycle_history::lead_id.eq(lead_id),
            lifecycle_history::from_stage.eq(from.map(|s| s.as_str())),
            lifecycle_history::to_stage.eq(to.as_str()),
            lifecycle_history::cause.eq(cause),
            lifecycle_history::reason.eq(reason),
            lifecycle_history::deal_id.eq(deal_id),
            lifecycle_history::at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Moves a lead to `to` if the lifecycle rules allow it (409 otherwise), records the change
/// with time and cause, keeps the first-reached times, and publishes `lead.lifecycle_changed`.
#[allow(clippy::too_many_arguments)]
pub fn change_stage(
    conn: &mut PgConnection,
    mut lead: LeadRow,
    to: Stage,
    reason: Option<&str>,
    cause: &str,
    deal_id: Option<Uuid>,
    at: DateTime<Utc>,
    trace: Option<&TraceContext>,
) -> Result<LeadRow, LeadsError> {
    let from = lead.stage();
    let kind = check_move(from, to, reason)?;
    let reached = |stage: Stage| to.rank().zip(stage.rank()).is_some_and(|(t, s)| t >= s);
    if reached(Stage::Mql) {
        lead.mql_at = lead.mql_at.or(Some(at));
    }
    if reached(Stage::Sql) {
        lead.sql_at = lead.sql_at.or(Some(at));
    }
    if reached(Stage::Customer) {
        lead.customer_at = lead.customer_at.or(Some(at));
    }
    lead.lifecycle_stage = to.as_str().to_string();
    lead.version += 1;
    lead.updated_at = Utc::now().trunc_subsecs(6);
    diesel::update(leads::table.find(lead.id))
        .set((
            leads::lifecycle_stage.eq(&lead.lifecycle_stage),
            leads::mql_at.eq(lead.mql_at),
            leads::sql_at.eq(lead.sql_at),
            leads::customer_at.eq(lead.customer_at),
            leads::version.eq(lead.version),
            leads::updated_at.eq(lead.updated_at),
        ))
        .execute(conn)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    record_stage(conn, lead.id, Some(from), to, cause, reason, deal_id, at)?;
    let cause = match kind {
        MoveKind::Recycle if cause == "manual" => "recycle",
        _ => cause,
    };
    let event = contracts::leads::LeadLifecycleChanged {
        lead_id: lead.id,
        from_stage: from.as_str().to_string(),
        to_stage: to.as_str().to_string(),
        cause: cause.to_string(),
        reason: reason.map(str::to_string),
        deal_id,
        changed_at: at,
    };
    platform::bus::outbox::enqueue(conn, &event, trace)?;
    Ok(lead)
}

/// `POST /v1/leads/{id}/lifecycle`: a manual move.
pub fn move_lead(
    conn: &mut PgConnection,
    id: Uuid,
    to: Stage,
    reason: Option<&str>,
    trace: &TraceContext,
) -> Result<LeadRow, LeadsError> {
    let lead = lock_lead(conn, id)?;
    change_stage(
        conn,
        lead,
        to,
        reason,
        "manual",
        None,
        Utc::now(),
        Some(trace),
    )
}

/// Lifecycle history of a lead, oldest first: (from, to, cause, reason, at).
pub type StageChange = (
    Option<String>,
    String,
    String,
    Option<String>,
    DateTime<Utc>,
);

pub fn lifecycle_history(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Vec<StageChange>, LeadsError> {
    Ok(lifecycle_history::table
        .filter(lifecycle_history::lead_id.eq(id))
        .order(lifecycle_history::id)
        .select((
            lifecycle_history::from_stage,
            lifecycle_history::to_stage,
            lifecycle_history::cause,
            lifecycle_history::reason,
            lifecycle_history::at,
        ))
        .load(conn)?)
}

/// Merges `from_id` into `survivor_id`: its lifecycle and score history and its engagement
/// move to the survivor, empty fields of the survivor are filled from it, it becomes a
/// redirect, and `lead.merged` is published.
pub fn merge_leads(
    conn: &mut PgConnection,
    survivor_id: Uuid,
    from_id: Uuid,
    trace: &TraceContext,
) -> Result<LeadRow, LeadsError> {
    if survivor_id == from_id {
        return Err(platform::Problem::field("from_id", "must name another lead").into());
    }
    // Lock in id order so that two opposite merges cannot deadlock.
    let (first, second) = if survivor_id < from_id {
        (survivor_id, from_id)
    } else {
        (from_id, survivor_id)
    };
    let a = lock_lead(conn, first);
    let b = lock_lead(conn, second);
    let (survivor, merged) = if first == survivor_id {
        (a?, b)
    } else {
        (b?, a)
    };
    let merged = match merged {
        Ok(m) => m,
        Err(LeadsError::NotFound(_)) => {
            return Err(
                platform::Problem::field("from_id", "does not name an existing lead").into(),
            );
        }
        Err(LeadsError::Merged { .. }) => {
            return Err(platform::Problem::field("from_id", "was already merged").into());
        }
        Err(e) => return Err(e),
    };
    let now = Utc::now().trunc_subsecs(6);
    diesel::update(lifecycle_history::table.filter(lifecycle_history::lead_id.eq(from_id)))
        .set(lifecycle_history::lead_id.eq(survivor_id))
        .execute(conn)?;
    diesel::update(score_history::table.filter(score_history::lead_id.eq(from_id)))
        .set(score_history::lead_id.eq(survivor_id))
        .execute(conn)?;
    diesel::update(engagement_touches::table.filter(engagement_touches::lead_id.eq(from_id)))
        .set(engagement_touches::lead_id.eq(survivor_id))
        .execute(conn)?;
    // The survivor keeps its own MEDDICC card; the duplicate's moves over only if it has none.
    diesel::sql_query(
        "UPDATE meddicc_cards SET lead_id = $1 WHERE lead_id = $2 \
         AND NOT EXISTS (SELECT 1 FROM meddicc_cards WHERE lead_id = $1)",
    )
    .bind::<diesel::sql_types::Uuid, _>(survivor_id)
    .bind::<diesel::sql_types::Uuid, _>(from_id)
    .execute(conn)?;
    diesel::update(schema::deals::table.filter(schema::deals::lead_id.eq(from_id)))
        .set(schema::deals::lead_id.eq(survivor_id))
        .execute(conn)?;
    let model = scoring::current_model(conn)?;
    let hl = model.1.half_life_days;
    let prior = (
        survivor.fit,
        scoring::lead_engagement(&survivor).value_at(now, hl),
    );
    let engagement = scoring::lead_engagement(&survivor).add(
        scoring::lead_engagement(&merged).value_at(now, hl),
        now,
        hl,
    );
    let mut row = survivor.clone();
    macro_rules! fill {
        ($($f:ident),*) => { $( if row.$f.is_none() { row.$f = merged.$f.clone(); } )* };
    }
    fill!(
        first_name,
        last_name,
        title,
        phone,
        company,
        campaign_id,
        anonymous_id,
        affiliate_id,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_term,
        utm_content,
        account_id,
        owner
    );
    row.mql_at = earliest(survivor.mql_at, merged.mql_at);
    row.sql_at = earliest(survivor.sql_at, merged.sql_at);
    row.customer_at = earliest(survivor.customer_at, merged.customer_at);
    row.consent = survivor.consent || merged.consent;
    row.engagement = engagement.value;
    row.engagement_as_of = Some(engagement.as_of);
    row.version += 1;
    row.updated_at = now;
    diesel::update(leads::table.find(survivor_id))
        .set(&row)
        .execute(conn)?;
    diesel::update(leads::table.find(from_id))
        .set((
            leads::merged_into.eq(survivor_id),
            leads::version.eq(merged.version + 1),
            leads::updated_at.eq(now),
        ))
        .execute(conn)?;
    // Anything already merged into the loser now points at the survivor.
    diesel::update(leads::table.filter(leads::merged_into.eq(from_id)))
        .set(leads::merged_into.eq(survivor_id))
        .execute(conn)?;
    let event = contracts::leads::LeadMerged {
        lead_id: survivor_id,
        merged_lead_id: from_id,
        merged_email: merged.email.clone(),
        merged_anonymous_id: merged.anonymous_id.clone(),
        merged_at: now,
    };
    platform::bus::outbox::enqueue(conn, &event, Some(trace))?;
    scoring::rescore(conn, &model, row, Some(prior), "merged", now, Some(trace))
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Stores a lead's MEDDICC scores, evaluates the rule, and when it passes for the first
/// time publishes `lead.qualified` and moves the lead forward to `sql`.
pub fn put_meddicc(
    conn: &mut PgConnection,
    id: Uuid,
    m: &Meddicc,
    rule: &QualificationRule,
    trace: &TraceContext,
) -> Result<(LeadRow, Evaluation), LeadsError> {
    let mut lead = lock_lead(conn, id)?;
    let previous: Option<Meddicc> = meddicc_card(conn, id)?;
    let was_passing = previous.as_ref().is_some_and(|p| evaluate(p, rule).passed);
    let evaluation = evaluate(m, rule);
    let json = serde_json::to_value(m).expect("MEDDICC serializes");
    diesel::insert_into(meddicc_cards::table)
        .values((
            meddicc_cards::lead_id.eq(id),
            meddicc_cards::card.eq(&json),
            meddicc_cards::updated_at.eq(Utc::now()),
        ))
        .on_conflict(meddicc_cards::lead_id)
        .do_update()
        .set((
            meddicc_cards::card.eq(&json),
            meddicc_cards::updated_at.eq(Utc::now()),
        ))
        .execute(conn)?;
    if evaluation.passed && !was_passing {
        let now = Utc::now();
        let event = contracts::leads::LeadQualified {
            lead_id: id,
            framework: evaluation.variant.to_lowercase(),
            scores: contracts::leads::MeddiccScores {
                metrics: m.metrics.score,
                economic_buyer: m.economic_buyer.score,
                decision_criteria: m.decision_criteria.score,
                decision_process: m.decision_process.score,
                identify_pain: m.identify_pain.score,
                champion: m.champion.score,
                competition: m.competition.score,
                paper_process: m.paper_process.as_ref().map(|e| e.score),
            },
            total: evaluation.total as u8,
            max_total: evaluation.max as u8,
            account_id: lead.account_id,
            qualified_at: now,
        };
        platform::bus::outbox::enqueue(conn, &event, Some(trace))?;
        let before_sql = lead
            .stage()
            .rank()
            .zip(Stage::Sql.rank())
            .is_some_and(|(s, q)| s < q);
        if before_sql {
            lead = change_stage(
                conn,
                lead,
                Stage::Sql,
                None,
                "qualified",
                None,
                now,
                Some(trace),
            )?;
        }
    }
    Ok((lead, evaluation))
}

/// A lead's MEDDICC card, if it has one.
pub fn meddicc_card(conn: &mut PgConnection, id: Uuid) -> Result<Option<Meddicc>, LeadsError> {
    let json: Option<serde_json::Value> = meddicc_cards::table
        .find(id)
        .select(meddicc_cards::card)
        .first(conn)
        .optional()?;
    Ok(json.and_then(|v| serde_json::from_value(v).ok()))
}
