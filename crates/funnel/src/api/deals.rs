//! Deals: open, read with their projections, list, revise their terms (PATCH), move between
//! stages, read the log. A deal's ETag is its `version`, which every change of it bumps.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use contracts::funnel::{ProductLine, Stakeholder};
use platform::http::idempotency::{self, IdempotencyKey, StoredResponse};
use platform::http::json::{Json, merge_patch};
use platform::http::query::{PageParams, paginate_by_key};
use platform::http::sort::{SORT_DOC_NEWEST_FIRST, Sort, keyset_key, sorted_page};
use platform::http::versioning;
use platform::validation::{FieldErrors, Invalid};
use platform::{Db, TraceContext};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{Query, path_id};
use crate::domain::deal::{self, NewDeal, TermsInput};
use crate::domain::log::Move;
use crate::error::FunnelError;
use crate::usecases::deals::{self as usecase, DealFilter, DealRow, TransitionRow};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StakeholderInput {
    pub person: Option<String>,
    /// champion, economic_buyer, mobilizer, talker or blocker.
    pub role: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProductInput {
    pub product_id: Option<String>,
    pub units: Option<u64>,
    /// Decimal string in the deal's currency.
    pub amount: Option<String>,
}

/// A deal as clients send it to `POST /v1/deals`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealInput {
    pub funnel_id: Option<Uuid>,
    pub external_id: Option<String>,
    pub lead_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub campaign_id: Option<String>,
    /// Decimal string, e.g. "12500.00"; needs `currency`.
    pub amount: Option<String>,
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "platform::time::option_date")]
    pub expected_close: Option<NaiveDate>,
    pub owner: Option<String>,
    /// challenger, solution, spin, meddicc or none (default).
    pub methodology: Option<String>,
    pub stakeholders: Option<Vec<StakeholderInput>>,
    pub products: Option<Vec<ProductInput>>,
    /// Breakdown attributes: source, campaign, channel, owner, segment.
    pub attributes: Option<BTreeMap<String, String>>,
    /// The stage the deal opens in; the funnel's first stage by default.
    pub stage: Option<String>,
    /// When the deal opened (RFC 3339); now by default.
    #[serde(default, deserialize_with = "platform::time::option_datetime")]
    pub opened_at: Option<DateTime<Utc>>,
}

impl From<StakeholderInput> for deal::StakeholderInput {
    fn from(s: StakeholderInput) -> Self {
        deal::StakeholderInput {
            person: s.person,
            role: s.role,
        }
    }
}

impl From<ProductInput> for deal::ProductInput {
    fn from(p: ProductInput) -> Self {
        deal::ProductInput {
            product_id: p.product_id,
            units: p.units,
            amount: p.amount,
        }
    }
}

fn into_all<T: Into<U>, U>(items: Option<Vec<T>>) -> Option<Vec<U>> {
    items.map(|v| v.into_iter().map(Into::into).collect())
}

impl From<DealInput> for deal::DealInput {
    fn from(d: DealInput) -> Self {
        deal::DealInput {
            funnel_id: d.funnel_id,
            external_id: d.external_id,
            lead_id: d.lead_id,
            account_id: d.account_id,
            campaign_id: d.campaign_id,
            amount: d.amount,
            currency: d.currency,
            expected_close: d.expected_close,
            owner: d.owner,
            methodology: d.methodology,
            stakeholders: into_all(d.stakeholders),
            products: into_all(d.products),
            attributes: d.attributes,
            stage: d.stage,
            opened_at: d.opened_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DealResponse {
    pub id: Uuid,
    pub funnel_id: Uuid,
    pub funnel_version: i32,
    pub external_id: Option<String>,
    pub lead_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub campaign_id: Option<String>,
    /// Decimal string.
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub expected_close: Option<NaiveDate>,
    pub owner: Option<String>,
    pub methodology: String,
    #[schema(value_type = Vec<Object>)]
    pub stakeholders: Vec<Stakeholder>,
    #[schema(value_type = Vec<Object>)]
    pub products: Vec<ProductLine>,
    #[schema(value_type = Object)]
    pub attributes: serde_json::Value,
    /// Projections of the transition log.
    pub stage: String,
    pub status: String,
    pub stage_entered_at: DateTime<Utc>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<String>,
    pub time_in_stage_secs: i64,
    pub cycle_time_secs: i64,
    pub transition_count: i32,
    pub created_at: DateTime<Utc>,
    /// When the deal last changed: opened, moved, patched, or its projections rebuilt.
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change of the deal (moves too): its ETag (`"<version>"`), to send in
    /// `If-Match` to PATCH it.
    pub version: i32,
}

impl From<DealRow> for DealResponse {
    fn from(d: DealRow) -> Self {
        let now = Utc::now();
        let p = d.projection();
        DealResponse {
            id: d.id,
            funnel_id: d.funnel_id,
            funnel_version: d.funnel_version,
            amount: d.amount.map(|a| a.to_string()),
            stakeholders: d.stakeholders(),
            products: d.product_lines(),
            external_id: d.external_id,
            lead_id: d.lead_id,
            account_id: d.account_id,
            campaign_id: d.campaign_id,
            currency: d.currency,
            expected_close: d.expected_close,
            owner: d.owner,
            methodology: d.methodology,
            attributes: d.attributes,
            stage: d.stage,
            status: d.status,
            stage_entered_at: d.stage_entered_at,
            opened_at: d.opened_at,
            closed_at: d.closed_at,
            close_reason: d.close_reason,
            time_in_stage_secs: p.time_in_stage(now).num_seconds(),
            cycle_time_secs: p.cycle_time(now).num_seconds(),
            transition_count: d.transition_count,
            created_at: d.created_at,
            updated_at: d.updated_at,
            version: d.version,
        }
    }
}

platform::page!(
    /// A page of deals, in the order of `sort` (newest first by default).
    DealPage,
    DealResponse
);

/// Opens a deal in its funnel's first stage (or `stage`) and publishes `deal.created`.
#[utoipa::path(
    post, path = "/v1/deals", tag = "deals",
    request_body = DealInput,
    responses(
        (status = 201, body = DealResponse, headers(
            ("etag" = String, description = "The deal's version: send it in If-Match to PATCH it"),
            ("location" = String, description = "The new deal"),
        )),
        (status = 409, description = "external_id taken in this funnel; `existing_id` names the deal that has it", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or Idempotency-Key reused with another body", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(deal_id))]
pub async fn create_deal(
    db: web::Data<Db>,
    trace: TraceContext,
    key: IdempotencyKey,
    body: Json<DealInput>,
) -> Result<HttpResponse, FunnelError> {
    let raw = body.raw.clone();
    let deal = NewDeal::parse(body.into_inner().into())?;
    let (response, replayed) = db
        .run(move |conn| {
            idempotency::run(conn, "POST /v1/deals", &key, &raw, |tx| {
                let row = usecase::open(tx, &deal, &trace)?;
                tracing::Span::current().record("deal_id", tracing::field::display(row.id));
                let location = format!("/v1/deals/{}", row.id);
                let (etag, value) = versioning::etag(row.version);
                Ok::<_, FunnelError>(
                    StoredResponse::json(StatusCode::CREATED, &DealResponse::from(row))
                        .header("location", location)
                        .header(etag, value),
                )
            })
        })
        .await?;
    Ok(response.into_response(replayed))
}

#[utoipa::path(
    get, path = "/v1/deals/{id}", tag = "deals",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = DealResponse, headers(("etag" = String, description = "The deal's version: send it in If-Match to PATCH it"))),
        (status = 422, description = "The id is not a UUID, or an unknown query parameter", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_deal(
    req: HttpRequest,
    db: web::Data<Db>,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, FunnelError> {
    let id = path_id(&id)?;
    Query::new(&query, &[]).finish()?;
    let d = usecase::find(&db, id).await?;
    let version = d.version;
    Ok(versioning::read(&req, version, &DealResponse::from(d)))
}

/// The terms of a deal a PATCH may change, as a JSON merge patch of them: a field sent
/// replaces the deal's, `null` clears it, a field left out stays. `amount` and `currency`
/// are sent together.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealPatch {
    /// Decimal string, e.g. "12500.00"; sent with `currency` (both null clears the value).
    /// A won deal's value is fixed.
    pub amount: Option<String>,
    /// ISO 4217, sent with `amount`.
    pub currency: Option<String>,
    pub owner: Option<String>,
    #[serde(default, deserialize_with = "platform::time::option_date")]
    pub expected_close: Option<NaiveDate>,
    /// challenger, solution, spin, meddicc or none.
    pub methodology: Option<String>,
    /// The whole buying group: replaces the deal's.
    pub stakeholders: Option<Vec<StakeholderInput>>,
}

impl From<&DealRow> for DealPatch {
    fn from(d: &DealRow) -> Self {
        DealPatch {
            amount: d.amount.map(|a| a.to_string()),
            currency: d.currency.clone(),
            owner: d.owner.clone(),
            expected_close: d.expected_close,
            methodology: Some(d.methodology.clone()),
            stakeholders: Some(
                d.stakeholders()
                    .into_iter()
                    .map(|s| StakeholderInput {
                        person: Some(s.person),
                        role: Some(s.role),
                    })
                    .collect(),
            ),
        }
    }
}

impl From<DealPatch> for TermsInput {
    fn from(p: DealPatch) -> Self {
        TermsInput {
            amount: p.amount,
            currency: p.currency,
            owner: p.owner,
            expected_close: p.expected_close,
            methodology: p.methodology,
            stakeholders: into_all(p.stakeholders),
        }
    }
}

/// Fields of a deal a PATCH cannot change, and why; any other field it does not know is
/// named as unknown.
const READ_ONLY: [(&str, &str); 4] = [
    (
        "stage",
        "is changed by a move: POST /v1/deals/{id}/transitions",
    ),
    (
        "status",
        "is changed by a move: POST /v1/deals/{id}/transitions",
    ),
    (
        "products",
        "is set by a move: POST /v1/deals/{id}/transitions",
    ),
    ("funnel_id", "is fixed when the deal opens"),
];

/// Revises a deal's terms with a JSON merge patch, if `If-Match` names its current version,
/// and publishes `deal.updated` with the whole deal. A patch that changes nothing answers
/// the deal as it is, with no new version and no event.
#[utoipa::path(
    patch, path = "/v1/deals/{id}", tag = "deals",
    request_body(content = DealPatch, description = "Any subset of the deal's terms; null clears one", content_type = "application/merge-patch+json"),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = DealResponse, headers(("etag" = String, description = "The deal's new version"))),
        (status = 404, description = "No such deal", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid or unknown fields, amount without currency (or the reverse), or a won deal's value", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(deal_id = %id))]
pub async fn patch_deal(
    req: HttpRequest,
    db: web::Data<Db>,
    trace: TraceContext,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
    body: Json<serde_json::Value>,
) -> Result<HttpResponse, FunnelError> {
    let id = path_id(&id)?;
    Query::new(&query, &[]).finish()?;
    let expected = versioning::if_match(&req)?;
    let patch = body.into_inner();
    let sent: Vec<String> = patch
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let merge = move |current: &DealRow| -> Result<TermsInput, FunnelError> {
        let merged = merge_patch(&DealPatch::from(current), &patch, &READ_ONLY)?;
        Ok(TermsInput::from(merged))
    };
    let d = usecase::revise(&db, id, expected, sent, merge, trace).await?;
    let version = d.version;
    Ok(versioning::versioned(
        StatusCode::OK,
        version,
        &DealResponse::from(d),
    ))
}

/// Query of `GET /v1/deals`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DealParams {
    funnel_id: Option<Uuid>,
    #[param(inline)]
    status: Option<DealStatus>,
    stage: Option<String>,
    lead_id: Option<Uuid>,
    account_id: Option<Uuid>,
    campaign_id: Option<String>,
    /// The deal's id in the client's system; unique within a funnel.
    external_id: Option<String>,
    /// Updated at or after (RFC 3339).
    updated_since: Option<DateTime<Utc>>,
}

/// A deal's status, as `GET /v1/deals` filters on it.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum DealStatus {
    Open,
    Won,
    Lost,
}

/// Deals matching every filter given, a page at a time, newest first unless `sort` says
/// otherwise.
///
/// `sort`: `-created_at` (the default), `created_at`, `updated_at` or `-updated_at`; ties
/// are ordered by id in the same direction. The cursor remembers the order: pass it back
/// with the same `sort`. To sync, page with
/// `sort=updated_at&updated_since=<the largest updated_at you hold>`: a deal changed while
/// you page moves to the end of that order, so it is seen again rather than missed.
#[utoipa::path(
    get, path = "/v1/deals", tag = "deals",
    params(
        DealParams,
        ("sort" = Option<String>, Query, description = SORT_DOC_NEWEST_FIRST),
        PageParams,
    ),
    responses((status = 200, body = DealPage), (status = 422, description = "A bad filter, `limit` or `cursor`, or an unknown query parameter", body = platform::http::Problem, content_type = "application/problem+json"))
)]
pub async fn list_deals(
    db: web::Data<Db>,
    params: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, FunnelError> {
    let mut q = Query::new(
        &params,
        &[
            "funnel_id",
            "status",
            "stage",
            "lead_id",
            "account_id",
            "campaign_id",
            "external_id",
            "updated_since",
            "sort",
            "limit",
            "cursor",
        ],
    );
    let (sort, limit, after) = sorted_page(&mut q, Sort::NEWEST_FIRST);
    let funnel_id = q.uuid("funnel_id");
    let lead_id = q.uuid("lead_id");
    let account_id = q.uuid("account_id");
    let campaign_id = q.text("campaign_id");
    let external_id = q.text("external_id");
    let status = q.text("status");
    if let Some(s) = &status
        && !["open", "won", "lost"].contains(&s.as_str())
    {
        q.errors.add("status", "must be open, won or lost");
    }
    let stage = q.text("stage");
    let updated_since = q.time("updated_since");
    q.finish()?;
    let filter = DealFilter {
        funnel_id,
        status,
        stage,
        lead_id,
        account_id,
        campaign_id,
        external_id,
        updated_since,
        sort,
        after,
        limit: limit + 1,
    };
    let rows = usecase::list(&db, filter).await?;
    let (rows, next_cursor) = paginate_by_key(rows, limit, |d| {
        keyset_key(sort, d.created_at, d.updated_at, d.id)
    });
    Ok(HttpResponse::Ok().json(DealPage {
        items: rows.into_iter().map(DealResponse::from).collect(),
        next_cursor,
    }))
}

/// Body of `POST /v1/deals/{id}/transitions`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    pub to_stage: Option<String>,
    /// When the move took effect (RFC 3339); now by default. Past times backdate the move.
    #[serde(default, deserialize_with = "platform::time::option_datetime")]
    pub at: Option<DateTime<Utc>>,
    /// Required for `lost`.
    pub reason: Option<String>,
    /// The deal's value, e.g. as it is won.
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub products: Option<Vec<ProductInput>>,
}

impl TransitionInput {
    pub fn parse(self) -> Result<Move, Invalid> {
        let mut errors = FieldErrors::new();
        let to_stage = errors.require("to_stage", self.to_stage.map(|s| s.trim().to_string()));
        let amount = deal::money(&mut errors, "amount", self.amount, self.currency);
        let products = deal::products(&mut errors, into_all(self.products).unwrap_or_default());
        if self
            .reason
            .as_ref()
            .is_some_and(|r| r.chars().count() > 500)
        {
            errors.add("reason", "must be at most 500 characters");
        }
        errors.check()?;
        Ok(Move {
            to_stage: to_stage.unwrap_or_default(),
            at: self.at,
            reason: self.reason,
            amount,
            products,
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TransitionResponse {
    pub deal_id: Uuid,
    pub seq: i32,
    pub from_stage: Option<String>,
    pub to_stage: String,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
    /// api, import or lead_event.
    pub origin: String,
    pub recorded_at: DateTime<Utc>,
}

impl From<TransitionRow> for TransitionResponse {
    fn from(t: TransitionRow) -> Self {
        TransitionResponse {
            deal_id: t.deal_id,
            seq: t.seq,
            from_stage: t.from_stage,
            to_stage: t.to_stage,
            at: t.at,
            reason: t.reason,
            origin: t.origin,
            recorded_at: t.recorded_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MovedResponse {
    pub transition: TransitionResponse,
    pub deal: DealResponse,
}

/// Moves a deal. Skips and backward moves are allowed and logged; `won` (the funnel's last
/// stage) and `lost` are terminal; a past `at` backdates the move and the projections come
/// out as a replay of the whole log would make them.
#[utoipa::path(
    post, path = "/v1/deals/{id}/transitions", tag = "deals",
    request_body = TransitionInput,
    params(("id" = Uuid, Path)),
    responses(
        (status = 201, body = MovedResponse),
        (status = 409, description = "From a terminal stage, to the current stage, or a terminal move that is not the last", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(deal_id = %id))]
pub async fn post_transition(
    req: HttpRequest,
    db: web::Data<Db>,
    trace: TraceContext,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: Json<TransitionInput>,
) -> Result<HttpResponse, FunnelError> {
    let id = path_id(&id)?;
    let raw = body.raw.clone();
    let m = body.into_inner().parse()?;
    // The concrete path, so that one key used on two deals never collides.
    let scope = format!("POST {}", req.path());
    let (response, replayed) = db
        .run(move |conn| {
            idempotency::run(conn, &scope, &key, &raw, |tx| {
                let moved = usecase::record_move(tx, id, &m, &trace)?;
                Ok::<_, FunnelError>(StoredResponse::json(
                    StatusCode::CREATED,
                    &MovedResponse {
                        transition: moved.transition.into(),
                        deal: moved.deal.into(),
                    },
                ))
            })
        })
        .await?;
    Ok(response.into_response(replayed))
}

platform::page!(
    /// A page of a deal's log, in recording order (`seq`); `at` orders the moves in time.
    TransitionPage,
    TransitionResponse
);

/// The deal's transition log, in recording order, paged by `seq`.
#[utoipa::path(
    get, path = "/v1/deals/{id}/transitions", tag = "deals",
    params(("id" = Uuid, Path), PageParams),
    responses(
        (status = 200, body = TransitionPage),
        (status = 422, description = "The id is not a UUID, a bad `limit` or `cursor`, or an unknown query parameter", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_transitions(
    db: web::Data<Db>,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, FunnelError> {
    let id = path_id(&id)?;
    let mut q = Query::new(&query, &["limit", "cursor"]);
    let (limit, after) = q.page_by_key();
    let after = after.and_then(|k| {
        let seq = k.parse::<i32>().ok().filter(|s| *s > 0);
        if seq.is_none() {
            q.errors
                .add("cursor", "is not a cursor returned by this endpoint");
        }
        seq
    });
    q.finish()?;
    let rows = usecase::transitions(&db, id, after, limit + 1).await?;
    let (rows, next_cursor) = paginate_by_key(rows, limit, |t| t.seq.to_string());
    Ok(HttpResponse::Ok().json(TransitionPage {
        items: rows.into_iter().map(TransitionResponse::from).collect(),
        next_cursor,
    }))
}
