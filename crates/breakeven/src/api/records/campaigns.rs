//! `/v1/campaigns`: campaigns, a budget over dates selling a mix of products.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use platform::http::idempotency::IdempotencyKey;
use platform::http::json::Json;
use platform::http::query::{PageParams, Query, paginate_by_key};
use platform::http::sort::{SORT_DOC, Sort, keyset_key, sorted_page};
use platform::http::versioning;
use platform::validation::Invalid;
use platform::{Db, TraceContext};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{CampaignPath, path_campaign};
use crate::Tracking;
use crate::api::{IfMatch, created, idempotent};
use crate::domain::records::{Campaign, CampaignDraft};
use crate::error::BreakevenError;
use crate::store::campaigns::CampaignRow;
use crate::usecases::campaigns::{self as usecase, CampaignFilter};

/// A campaign: a budget over dates, selling a mix of products.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignInput {
    /// The campaign id the other services use (`campaign_id` in events); generated when
    /// absent. Letters, digits, `-`, `_`, `.`, at most 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    pub budget: String,
    pub currency: String,
    #[serde(deserialize_with = "platform::time::date")]
    pub starts_on: NaiveDate,
    #[serde(deserialize_with = "platform::time::date")]
    pub ends_on: NaiveDate,
    pub product_mix: Vec<MixShareInput>,
    /// Share of budget spent that arms `campaign.at_risk` (default: the service's, 0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_threshold: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MixShareInput {
    pub product_id: Uuid,
    /// Share of units sold, 0 to 1; the shares sum to 1.
    pub share: String,
}

impl From<CampaignInput> for CampaignDraft {
    fn from(i: CampaignInput) -> Self {
        CampaignDraft {
            id: i.id,
            name: i.name,
            budget: i.budget,
            currency: i.currency,
            starts_on: i.starts_on,
            ends_on: i.ends_on,
            product_mix: i
                .product_mix
                .into_iter()
                .map(|m| (m.product_id, m.share))
                .collect(),
            risk_threshold: i.risk_threshold,
        }
    }
}

/// One entry of `campaigns.product_mix`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MixShare {
    pub product_id: Uuid,
    pub share: Decimal,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CampaignResponse {
    pub id: String,
    pub name: String,
    pub budget: Decimal,
    pub currency: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub product_mix: Vec<MixShare>,
    pub risk_threshold: Decimal,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<CampaignRow> for CampaignResponse {
    fn from(r: CampaignRow) -> Self {
        CampaignResponse {
            product_mix: r
                .mix()
                .into_iter()
                .map(|(product_id, share)| MixShare { product_id, share })
                .collect(),
            id: r.id,
            name: r.name,
            budget: r.budget,
            currency: r.currency,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            risk_threshold: r.risk_threshold,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

platform::page!(
    /// A page of campaigns, in the order of `sort` (oldest first by default).
    CampaignPage,
    CampaignResponse
);

/// Creates a campaign (version 1). Costs and revenue already received for its id count at
/// once, and its alerts are evaluated. An id that is taken is a 409 naming it in
/// `existing_id`.
#[utoipa::path(
    post, path = "/v1/campaigns", tag = "records", request_body = CampaignInput,
    responses(
        (status = 201, body = CampaignResponse, headers(("etag" = String, description = "The version, for If-Match"), ("location" = String))),
        (status = 409, description = "A campaign has this id; `existing_id` names it", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn create_campaign(
    db: web::Data<Db>,
    tracking: web::Data<Tracking>,
    trace: TraceContext,
    key: IdempotencyKey,
    body: Json<CampaignInput>,
) -> Result<HttpResponse, BreakevenError> {
    let raw = body.raw.clone();
    let campaign = Campaign::parse(&body.into_inner().into(), tracking.risk_threshold)?;
    let tracking = tracking.get_ref().clone();
    idempotent(&db, "POST /v1/campaigns", key, raw, move |tx| {
        let row = usecase::create(tx, &tracking, &trace, &campaign)?;
        Ok(created(
            format!("/v1/campaigns/{}", row.id),
            row.version,
            &CampaignResponse::from(row),
        ))
    })
    .await
}

#[utoipa::path(
    get, path = "/v1/campaigns/{id}", tag = "records", params(CampaignPath),
    responses(
        (status = 200, body = CampaignResponse, headers(("etag" = String, description = "The version, for If-Match"))),
        (status = 404, description = "No campaign has this id", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The id is not a campaign id", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_campaign(
    req: HttpRequest,
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, BreakevenError> {
    platform::http::query::no_query(&req)?;
    let row = usecase::get(&db, path_campaign(&id)?).await?;
    Ok(versioning::read(
        &req,
        row.version,
        &CampaignResponse::from(row),
    ))
}

/// Campaigns, a page at a time, oldest first unless `sort` says otherwise.
///
/// `sort`: `created_at` (the default), `updated_at`, or either with a leading `-` for newest
/// first; ties are ordered by id in the same direction. The cursor remembers the order:
/// pass it back with the same `sort`. To sync, page with
/// `sort=updated_at&updated_since=<the largest updated_at you hold>`: a campaign replaced
/// while you page moves to the end of that order, so it is seen again rather than missed.
#[utoipa::path(
    get, path = "/v1/campaigns", tag = "records",
    params(
        ("updated_since" = Option<DateTime<Utc>>, Query, description = "Updated at or after (RFC 3339)."),
        ("sort" = Option<String>, Query, description = SORT_DOC),
        PageParams,
    ),
    responses((status = 200, body = CampaignPage))
)]
pub async fn list_campaigns(
    db: web::Data<Db>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, BreakevenError> {
    let mut q = Query::new(&query, &["updated_since", "sort", "limit", "cursor"]);
    let (sort, limit, after) = sorted_page(&mut q, Sort::default());
    let filter = CampaignFilter {
        updated_since: q.time("updated_since"),
        sort,
        after,
        limit: limit + 1,
    };
    q.finish()?;
    let rows = usecase::list(&db, filter).await?;
    let (rows, next_cursor) = paginate_by_key(rows, limit, |r| {
        keyset_key(sort, r.created_at, r.updated_at, &r.id)
    });
    Ok(HttpResponse::Ok().json(CampaignPage {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Replaces a campaign (the version in `If-Match`; the body's `id`, if any, must match
/// the path) and re-evaluates its alerts.
#[utoipa::path(
    put, path = "/v1/campaigns/{id}", tag = "records", request_body = CampaignInput, params(CampaignPath),
    responses(
        (status = 200, body = CampaignResponse, headers(("etag" = String, description = "The new version"))),
        (status = 404, description = "No campaign has this id", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn put_campaign(
    IfMatch(expected): IfMatch,
    db: web::Data<Db>,
    tracking: web::Data<Tracking>,
    trace: TraceContext,
    id: web::Path<String>,
    body: Json<CampaignInput>,
) -> Result<HttpResponse, BreakevenError> {
    let id = path_campaign(&id)?;
    let mut input = body.into_inner();
    if input.id.as_ref().is_some_and(|b| *b != id) {
        return Err(Invalid::field("id", "must match the id in the path").into());
    }
    input.id = Some(id);
    let campaign = Campaign::parse(&input.into(), tracking.risk_threshold)?;
    let row = usecase::replace(&db, &tracking, trace, expected, campaign).await?;
    Ok(versioning::versioned(
        StatusCode::OK,
        row.version,
        &CampaignResponse::from(row),
    ))
}
