//! Lead endpoints: create (idempotent), read, search, optimistic update, lifecycle moves,
//! merge, and the score breakdown.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use chrono::{DateTime, Utc};
use platform::http::idempotency::{self, IdempotencyKey, StoredResponse};
use platform::http::json::Json;
use platform::{Db, TraceContext};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    PageParams, Query, Sort, apply_patch, keyset_key, no_query, paginate_by_key, path_id,
    sorted_page, versioning,
};
use crate::domain::NewLead;
use crate::domain::lead::{LeadDraft, LeadProfile, Utm};
use crate::domain::lifecycle::Stage;
use crate::domain::scoring::FiredRule;
use crate::error::LeadsError;
use crate::store::lifecycle::StageChange;
use crate::store::scoring::ScoreEntry;
use crate::store::{LeadFilter, LeadRow};
use crate::usecases::{self, scoring::ScoreView};

/// A lead as a client sends it. Only `email` and `source` are required.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadInput {
    #[schema(example = "ada@example.com")]
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    /// One of organic_search, content, webinar, referral, direct (inbound), sdr, event
    /// (outbound), affiliate, paid_search, paid_social, programmatic_display (paid).
    #[schema(example = "webinar")]
    pub source: Option<String>,
    pub campaign_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// Required when source is `affiliate`.
    pub affiliate_id: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    /// An existing account; when absent the account is matched by email domain
    /// (never for free-mail domains).
    pub account_id: Option<Uuid>,
    pub owner: Option<String>,
    /// Marketing consent given.
    pub consent: Option<bool>,
    /// Custom properties: a JSON object.
    #[schema(value_type = Option<Object>)]
    pub properties: Option<serde_json::Value>,
    /// Initial stage, `subscriber` or `lead` (default). Later changes go through
    /// `POST /v1/leads/{id}/lifecycle`.
    pub lifecycle_stage: Option<String>,
}

impl From<LeadInput> for LeadDraft {
    fn from(i: LeadInput) -> Self {
        LeadDraft {
            email: i.email,
            first_name: i.first_name,
            last_name: i.last_name,
            title: i.title,
            phone: i.phone,
            company: i.company,
            source: i.source,
            campaign_id: i.campaign_id,
            anonymous_id: i.anonymous_id,
            affiliate_id: i.affiliate_id,
            utm: Utm {
                utm_source: i.utm_source,
                utm_medium: i.utm_medium,
                utm_campaign: i.utm_campaign,
                utm_term: i.utm_term,
                utm_content: i.utm_content,
            },
            account_id: i.account_id,
            owner: i.owner,
            consent: i.consent,
            properties: i.properties,
            lifecycle_stage: i.lifecycle_stage,
        }
    }
}

/// The lead as a client would send it: the base a PATCH is merged onto.
impl From<LeadProfile> for LeadInput {
    fn from(p: LeadProfile) -> Self {
        LeadInput {
            email: Some(p.email),
            first_name: p.first_name,
            last_name: p.last_name,
            title: p.title,
            phone: p.phone,
            company: p.company,
            source: Some(p.source),
            campaign_id: p.campaign_id,
            anonymous_id: p.anonymous_id,
            affiliate_id: p.affiliate_id,
            utm_source: p.utm.utm_source,
            utm_medium: p.utm.utm_medium,
            utm_campaign: p.utm.utm_campaign,
            utm_term: p.utm.utm_term,
            utm_content: p.utm.utm_content,
            account_id: p.account_id,
            owner: p.owner,
            consent: Some(p.consent),
            properties: Some(p.properties),
            lifecycle_stage: None,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LeadResponse {
    pub id: Uuid,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub source: String,
    pub campaign_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub affiliate_id: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    pub account_id: Option<Uuid>,
    pub owner: Option<String>,
    pub consent: bool,
    #[schema(value_type = Object)]
    pub properties: serde_json::Value,
    pub lifecycle_stage: String,
    /// Fit score from the scoring model's rules.
    pub fit_score: f64,
    /// Engagement as stored (decayed to its last change); `GET /v1/leads/{id}/score` decays it to now.
    pub engagement_score: f64,
    /// HubSpot-style grade, fit band A–C × engagement band 1–3.
    pub grade: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<LeadRow> for LeadResponse {
    fn from(r: LeadRow) -> Self {
        LeadResponse {
            id: r.id,
            email: r.email,
            first_name: r.first_name,
            last_name: r.last_name,
            title: r.title,
            phone: r.phone,
            company: r.company,
            source: r.source,
            campaign_id: r.campaign_id,
            anonymous_id: r.anonymous_id,
            affiliate_id: r.affiliate_id,
            utm_source: r.utm_source,
            utm_medium: r.utm_medium,
            utm_campaign: r.utm_campaign,
            utm_term: r.utm_term,
            utm_content: r.utm_content,
            account_id: r.account_id,
            owner: r.owner,
            consent: r.consent,
            properties: r.properties,
            lifecycle_stage: r.lifecycle_stage,
            fit_score: r.fit,
            engagement_score: r.engagement,
            grade: r.grade,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

fn lead_ok(status: StatusCode, row: LeadRow) -> HttpResponse {
    versioning::versioned(status, row.version, &LeadResponse::from(row))
}

platform::page!(
    /// A page of leads.
    LeadPage,
    LeadResponse
);

/// Query of `GET /v1/leads`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// Lifecycle stage.
    stage: Option<String>,
    source: Option<String>,
    campaign_id: Option<String>,
    account_id: Option<Uuid>,
    /// Grade such as `A1`.
    grade: Option<String>,
    /// Minimum fit + engagement score.
    min_score: Option<f64>,
    max_score: Option<f64>,
    /// Created at or after (RFC 3339).
    created_from: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    created_to: Option<DateTime<Utc>>,
    /// Updated at or after (RFC 3339).
    updated_since: Option<DateTime<Utc>>,
    /// Case-insensitive text match on first name, last name and email.
    q: Option<String>,
    /// `created_at` (default), `-created_at`, `updated_at` or `-updated_at`; see the
    /// operation's description.
    sort: Option<String>,
}

/// Creates a lead, matches its account, scores it, and publishes `lead.created` in the same
/// transaction.
#[utoipa::path(
    post, path = "/v1/leads", tag = "leads",
    request_body = LeadInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for 24 h")),
    responses(
        (status = 201, description = "Created", body = LeadResponse),
        (status = 409, description = "Email already used; `existing_id` names the lead", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or Idempotency-Key reused with another body", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(lead_id))]
pub async fn create_lead(
    db: web::Data<Db>,
    trace: TraceContext,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<LeadInput>,
) -> Result<HttpResponse, LeadsError> {
    no_query(&req)?;
    let raw = body.raw.clone();
    let lead = NewLead::parse(body.into_inner().into())?;
    let (response, replayed) = db
        .run(move |conn| {
            idempotency::run(conn, "POST /v1/leads", &key, &raw, |tx| {
                let row = usecases::leads::create(tx, &lead, &trace)?;
                let location = format!("/v1/leads/{}", row.id);
                let version = row.version;
                Ok::<_, LeadsError>(
                    StoredResponse::json(StatusCode::CREATED, &LeadResponse::from(row))
                        .header("location", location)
                        .header("etag", versioning::etag(version).1),
                )
            })
        })
        .await?;
    Ok(response.into_response(replayed))
}

#[utoipa::path(
    get, path = "/v1/leads/{id}", tag = "leads",
    params(("id" = Uuid, Path, description = "Lead id")),
    responses(
        (status = 200, body = LeadResponse, headers(("etag" = String, description = "Send in If-Match to update"))),
        (status = 308, description = "The lead was merged; `Location` names the survivor", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The id is not a UUID", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip(db, req))]
pub async fn get_lead(
    db: web::Data<Db>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, LeadsError> {
    no_query(&req)?;
    let id = path_id(&id)?;
    let row = db.run(move |conn| usecases::leads::find(conn, id)).await?;
    Ok(versioning::read(
        &req,
        row.version,
        &LeadResponse::from(row),
    ))
}

/// Live leads matching every filter given, a page at a time.
///
/// `sort`: `created_at` (the default), `updated_at`, or either with a leading `-` for newest
/// first; ties are ordered by id in the same direction. The cursor remembers the order:
/// pass it back with the same `sort`. To sync, page with
/// `sort=updated_at&updated_since=<the largest updated_at you hold>`: a lead changed while
/// you page moves to the end of that order, so it is seen again rather than missed.
#[utoipa::path(
    get, path = "/v1/leads", tag = "leads",
    params(ListParams, PageParams),
    responses(
        (status = 200, body = LeadPage),
    )
)]
#[tracing::instrument(skip(db))]
pub async fn list_leads(
    db: web::Data<Db>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, LeadsError> {
    let mut q = Query::new(
        &query,
        &[
            "stage",
            "source",
            "campaign_id",
            "account_id",
            "grade",
            "min_score",
            "max_score",
            "created_from",
            "created_to",
            "updated_since",
            "q",
            "sort",
            "limit",
            "cursor",
        ],
    );
    let (sort, limit, after) = sorted_page(&mut q, Sort::default());
    let stage = q.parse("stage", "a lifecycle stage", |s| {
        Stage::parse(s).map(|s| s.as_str().to_string())
    });
    let source = q.parse("source", "a lead source", |s| {
        crate::domain::LeadSource::parse(s)
            .ok()
            .map(|s| s.as_str().to_string())
    });
    let filter = LeadFilter {
        stage,
        source,
        campaign_id: q.text("campaign_id"),
        account_id: q.uuid("account_id"),
        grade: q.parse("grade", "a grade such as A1", |s| {
            s.parse::<crate::domain::scoring::Grade>()
                .ok()
                .map(|g| g.to_string())
        }),
        min_score: q.number("min_score"),
        max_score: q.number("max_score"),
        created_from: q.time("created_from"),
        created_to: q.time("created_to"),
        updated_since: q.time("updated_since"),
        q: q.text("q"),
        sort,
        after,
        limit: limit + 1,
    };
    q.finish()?;
    let rows = db
        .run(move |conn| usecases::leads::list(conn, &filter))
        .await?;
    let (rows, next_cursor) = paginate_by_key(rows, limit, |r| {
        keyset_key(sort, r.created_at, r.updated_at, r.id)
    });
    Ok(HttpResponse::Ok().json(LeadPage {
        items: rows.into_iter().map(LeadResponse::from).collect(),
        next_cursor,
    }))
}

/// Updates a lead with a JSON merge patch. `If-Match` must carry the ETag of the last read.
#[utoipa::path(
    patch, path = "/v1/leads/{id}", tag = "leads",
    request_body(content = LeadInput, description = "Any subset of the lead's fields; null clears one", content_type = "application/merge-patch+json"),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag from the last read")),
    responses(
        (status = 200, body = LeadResponse),
        (status = 308, description = "The lead was merged", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email taken by another lead", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn patch_lead(
    db: web::Data<Db>,
    trace: TraceContext,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<serde_json::Value>,
) -> Result<HttpResponse, LeadsError> {
    no_query(&req)?;
    let id = path_id(&id)?;
    let version = versioning::if_match(&req)?;
    let patch = body.into_inner();
    let row = db
        .run(move |conn| {
            let patch = |current: LeadProfile| {
                let read_only = [(
                    "lifecycle_stage",
                    "is changed with POST /v1/leads/{id}/lifecycle",
                )];
                apply_patch(LeadInput::from(current), &patch, &read_only, NewLead::parse)
            };
            usecases::leads::update(conn, id, version, patch, &trace)
        })
        .await?;
    Ok(lead_ok(StatusCode::OK, row))
}

/// A lifecycle move.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    /// `subscriber`, `lead`, `mql`, `sql`, `opportunity`, `customer`, `evangelist` or `disqualified`.
    pub to_stage: String,
    /// Required to recycle a lead back to `lead`.
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StageChangeResponse {
    pub from_stage: Option<String>,
    pub to_stage: String,
    pub cause: String,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<StageChange> for StageChangeResponse {
    fn from(c: StageChange) -> Self {
        StageChangeResponse {
            from_stage: c.from_stage,
            to_stage: c.to_stage,
            cause: c.cause,
            reason: c.reason,
            at: c.at,
        }
    }
}

/// Moves a lead: forward (skipping is allowed), to `disqualified`, or back to `lead` with a
/// reason. Anything else is a 409. Publishes `lead.lifecycle_changed`.
#[utoipa::path(
    post, path = "/v1/leads/{id}/lifecycle", tag = "leads",
    request_body = MoveRequest,
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = LeadResponse),
        (status = 409, description = "Illegal move", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn move_lead(
    db: web::Data<Db>,
    trace: TraceContext,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<MoveRequest>,
) -> Result<HttpResponse, LeadsError> {
    no_query(&req)?;
    let id = path_id(&id)?;
    let body = body.into_inner();
    let to = Stage::parse(body.to_stage.trim()).ok_or_else(|| {
        platform::Problem::field(
            "to_stage",
            "must be one of subscriber, lead, mql, sql, opportunity, customer, evangelist, disqualified",
        )
    })?;
    let row = db
        .run(move |conn| {
            usecases::lifecycle::move_lead(conn, id, to, body.reason.as_deref(), &trace)
        })
        .await?;
    Ok(lead_ok(StatusCode::OK, row))
}

platform::page!(
    /// A page of a lead's lifecycle history, oldest change first.
    StageChangePage,
    StageChangeResponse
);

/// The lead's lifecycle history, oldest change first, paged.
#[utoipa::path(
    get, path = "/v1/leads/{id}/lifecycle", tag = "leads",
    params(("id" = Uuid, Path), PageParams),
    responses((status = 200, body = StageChangePage), (status = 404, body = platform::http::Problem, content_type = "application/problem+json"))
)]
pub async fn lifecycle_history(
    db: web::Data<Db>,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, LeadsError> {
    let mut q = Query::new(&query, &["limit", "cursor"]);
    let (limit, after) = q.page_by_key();
    // The key is the change's sequence number; a cursor naming anything else is refused.
    let after = match after {
        Some(key) => q.errors.take(
            "cursor",
            key.parse::<i64>()
                .map_err(|_| "is not a cursor returned by this endpoint".to_string()),
        ),
        None => None,
    };
    q.finish()?;
    let id = path_id(&id)?;
    let history = db
        .run(move |conn| usecases::lifecycle::history(conn, id, after, limit + 1))
        .await?;
    let (history, next_cursor) = paginate_by_key(history, limit, |c| c.seq.to_string());
    Ok(HttpResponse::Ok().json(StageChangePage {
        items: history.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The duplicate lead to merge into this one.
    pub from_id: Uuid,
}

/// Merges another lead into this one: history and engagement move here, the other id then
/// redirects (308) here, and `lead.merged` is published.
#[utoipa::path(
    post, path = "/v1/leads/{id}/merge", tag = "leads",
    request_body = MergeRequest,
    params(("id" = Uuid, Path, description = "The surviving lead")),
    responses(
        (status = 200, body = LeadResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn merge_lead(
    db: web::Data<Db>,
    trace: TraceContext,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<MergeRequest>,
) -> Result<HttpResponse, LeadsError> {
    no_query(&req)?;
    let id = path_id(&id)?;
    let from = body.into_inner().from_id;
    let row = db
        .run(move |conn| usecases::merge::merge(conn, id, from, &trace))
        .await?;
    Ok(lead_ok(StatusCode::OK, row))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScoreResponse {
    pub lead_id: Uuid,
    pub model_version: i32,
    pub fit_score: f64,
    /// The fit rules that matched, with their points.
    pub fit_rules: Vec<FiredRuleResponse>,
    /// Engagement decayed to now.
    pub engagement_score: f64,
    pub half_life_days: f64,
    pub grade: String,
    pub qualifies_for_mql: bool,
    pub history: Vec<ScorePoint>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FiredRuleResponse {
    pub name: String,
    pub points: f64,
}

impl From<FiredRule> for FiredRuleResponse {
    fn from(r: FiredRule) -> Self {
        FiredRuleResponse {
            name: r.name,
            points: r.points,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScorePoint {
    pub fit_score: f64,
    pub engagement_score: f64,
    pub grade: String,
    pub model_version: i32,
    pub cause: String,
    pub at: DateTime<Utc>,
}

impl From<ScoreEntry> for ScorePoint {
    fn from(e: ScoreEntry) -> Self {
        ScorePoint {
            fit_score: e.fit,
            engagement_score: e.engagement,
            grade: e.grade,
            model_version: e.model_version,
            cause: e.cause,
            at: e.at,
        }
    }
}

impl ScoreResponse {
    fn new(lead_id: Uuid, view: ScoreView) -> Self {
        let card = view.card;
        ScoreResponse {
            lead_id,
            model_version: card.model_version,
            fit_score: card.fit,
            fit_rules: card.fired.into_iter().map(Into::into).collect(),
            engagement_score: card.engagement,
            half_life_days: view.half_life_days,
            grade: card.grade.to_string(),
            qualifies_for_mql: card.qualifies_for_mql,
            history: view.history.into_iter().map(Into::into).collect(),
        }
    }
}

/// The parts of a lead's score, the rules that fired, and its score history.
#[utoipa::path(
    get, path = "/v1/leads/{id}/score", tag = "leads",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ScoreResponse), (status = 404, body = platform::http::Problem, content_type = "application/problem+json"))
)]
pub async fn get_score(
    db: web::Data<Db>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, LeadsError> {
    no_query(&req)?;
    let id = path_id(&id)?;
    let view = db
        .run(move |conn| usecases::scoring::score(conn, id))
        .await?;
    Ok(HttpResponse::Ok().json(ScoreResponse::new(id, view)))
}
