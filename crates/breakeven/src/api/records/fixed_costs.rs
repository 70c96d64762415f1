//! `/v1/fixed-costs`: fixed-cost items, an amount per month, quarter or year.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use platform::http::idempotency::IdempotencyKey;
use platform::http::json::Json;
use platform::http::query::{PageParams, path_id};
use platform::http::versioning;
use platform::{Db, TraceContext};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::{IfMatch, created, idempotent};
use crate::domain::cvp::present;
use crate::domain::records::{FixedCost, FixedCostDraft, Period};
use crate::error::BreakevenError;
use crate::store::fixed_costs::FixedCostRow;
use crate::usecases::fixed_costs as usecase;

/// A fixed-cost item: rent, salaries, tools; an amount per period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FixedCostInput {
    pub name: String,
    pub amount: String,
    /// `month`, `quarter` or `year`.
    pub period: String,
    pub currency: String,
}

impl From<FixedCostInput> for FixedCostDraft {
    fn from(i: FixedCostInput) -> Self {
        FixedCostDraft {
            name: i.name,
            amount: i.amount,
            period: i.period,
            currency: i.currency,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FixedCostResponse {
    pub id: Uuid,
    pub name: String,
    pub amount: Decimal,
    pub period: String,
    pub currency: String,
    /// The amount per month (company periods are months).
    pub monthly_amount: Decimal,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<FixedCostRow> for FixedCostResponse {
    fn from(r: FixedCostRow) -> Self {
        let monthly = Period::parse(&r.period).map_or(r.amount, |p| p.monthly(r.amount));
        FixedCostResponse {
            id: r.id,
            name: r.name,
            amount: r.amount,
            period: r.period,
            currency: r.currency,
            monthly_amount: present::money(monthly),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

platform::page!(
    /// A page of fixed-cost items in id order.
    FixedCostPage,
    FixedCostResponse
);

/// Creates a fixed-cost item (version 1); the company months of its currency are
/// re-evaluated.
#[utoipa::path(
    post, path = "/v1/fixed-costs", tag = "records", request_body = FixedCostInput,
    responses(
        (status = 201, body = FixedCostResponse, headers(("etag" = String, description = "The version, for If-Match"), ("location" = String))),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn create_fixed_cost(
    db: web::Data<Db>,
    trace: TraceContext,
    key: IdempotencyKey,
    body: Json<FixedCostInput>,
) -> Result<HttpResponse, BreakevenError> {
    let raw = body.raw.clone();
    let cost = FixedCost::try_from(&FixedCostDraft::from(body.into_inner()))?;
    idempotent(&db, "POST /v1/fixed-costs", key, raw, move |tx| {
        let row = usecase::create(tx, &trace, &cost)?;
        Ok(created(
            format!("/v1/fixed-costs/{}", row.id),
            row.version,
            &FixedCostResponse::from(row),
        ))
    })
    .await
}

#[utoipa::path(
    get, path = "/v1/fixed-costs/{id}", tag = "records", params(("id" = Uuid, Path)),
    responses((status = 200, body = FixedCostResponse, headers(("etag" = String, description = "The version, for If-Match"))), (status = 404, body = platform::http::Problem, content_type = "application/problem+json"))
)]
pub async fn get_fixed_cost(
    req: HttpRequest,
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, BreakevenError> {
    platform::http::query::no_query(&req)?;
    let row = usecase::get(&db, path_id(&id)?).await?;
    Ok(versioning::read(
        &req,
        row.version,
        &FixedCostResponse::from(row),
    ))
}

/// Fixed-cost items in id order, a page at a time.
#[utoipa::path(
    get, path = "/v1/fixed-costs", tag = "records", params(PageParams),
    responses((status = 200, body = FixedCostPage))
)]
pub async fn list_fixed_costs(
    db: web::Data<Db>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, BreakevenError> {
    let (items, next_cursor) =
        crate::api::page_by_id(&query, |after, n| usecase::page(&db, after, n), |r| r.id).await?;
    Ok(HttpResponse::Ok().json(FixedCostPage { items, next_cursor }))
}

/// Replaces a fixed-cost item (the version in `If-Match`); the company months of its
/// currency are re-evaluated.
#[utoipa::path(
    put, path = "/v1/fixed-costs/{id}", tag = "records", request_body = FixedCostInput, params(("id" = Uuid, Path)),
    responses((status = 200, body = FixedCostResponse, headers(("etag" = String, description = "The new version"))), (status = 404, body = platform::http::Problem, content_type = "application/problem+json"), (status = 422, body = platform::http::Problem, content_type = "application/problem+json"))
)]
#[tracing::instrument(skip_all)]
pub async fn put_fixed_cost(
    IfMatch(expected): IfMatch,
    db: web::Data<Db>,
    trace: TraceContext,
    id: web::Path<String>,
    body: Json<FixedCostInput>,
) -> Result<HttpResponse, BreakevenError> {
    let id = path_id(&id)?;
    let cost = FixedCost::try_from(&FixedCostDraft::from(body.into_inner()))?;
    let row = usecase::replace(&db, trace, id, expected, cost).await?;
    Ok(versioning::versioned(
        StatusCode::OK,
        row.version,
        &FixedCostResponse::from(row),
    ))
}
