//! `/v1/products`: products, their price and variable cost per unit.

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

use crate::Tracking;
use crate::api::{IfMatch, created, idempotent};
use crate::domain::records::{Product, ProductDraft};
use crate::error::BreakevenError;
use crate::store::products::ProductRow;
use crate::usecases::products as usecase;

/// A product: price and variable cost per unit, in one currency.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    pub name: String,
    pub price: String,
    pub variable_cost: String,
    pub currency: String,
}

impl From<ProductInput> for ProductDraft {
    fn from(i: ProductInput) -> Self {
        ProductDraft {
            name: i.name,
            price: i.price,
            variable_cost: i.variable_cost,
            currency: i.currency,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductResponse {
    pub id: Uuid,
    pub name: String,
    pub price: Decimal,
    pub variable_cost: Decimal,
    pub currency: String,
    pub contribution_margin: Decimal,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ProductRow> for ProductResponse {
    fn from(r: ProductRow) -> Self {
        ProductResponse {
            id: r.id,
            name: r.name,
            contribution_margin: r.price - r.variable_cost,
            price: r.price,
            variable_cost: r.variable_cost,
            currency: r.currency,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

platform::page!(
    /// A page of products in id order.
    ProductPage,
    ProductResponse
);

/// Creates a product (version 1).
#[utoipa::path(
    post, path = "/v1/products", tag = "records", request_body = ProductInput,
    responses(
        (status = 201, body = ProductResponse, headers(("etag" = String, description = "The version, for If-Match"), ("location" = String))),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn create_product(
    db: web::Data<Db>,
    key: IdempotencyKey,
    body: Json<ProductInput>,
) -> Result<HttpResponse, BreakevenError> {
    let raw = body.raw.clone();
    let product = Product::try_from(&ProductDraft::from(body.into_inner()))?;
    idempotent(&db, "POST /v1/products", key, raw, move |tx| {
        let row = usecase::create(tx, &product)?;
        Ok(created(
            format!("/v1/products/{}", row.id),
            row.version,
            &ProductResponse::from(row),
        ))
    })
    .await
}

#[utoipa::path(
    get, path = "/v1/products/{id}", tag = "records", params(("id" = Uuid, Path)),
    responses((status = 200, body = ProductResponse, headers(("etag" = String, description = "The version, for If-Match"))), (status = 404, body = platform::http::Problem, content_type = "application/problem+json"))
)]
pub async fn get_product(
    req: HttpRequest,
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, BreakevenError> {
    platform::http::query::no_query(&req)?;
    let row = usecase::get(&db, path_id(&id)?).await?;
    Ok(versioning::read(
        &req,
        row.version,
        &ProductResponse::from(row),
    ))
}

/// Products in id order, a page at a time.
#[utoipa::path(
    get, path = "/v1/products", tag = "records", params(PageParams),
    responses((status = 200, body = ProductPage))
)]
pub async fn list_products(
    db: web::Data<Db>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, BreakevenError> {
    let (items, next_cursor) =
        crate::api::page_by_id(&query, |after, n| usecase::page(&db, after, n), |r| r.id).await?;
    Ok(HttpResponse::Ok().json(ProductPage { items, next_cursor }))
}

/// Replaces a product (the version in `If-Match`); the campaigns selling it are
/// re-evaluated.
#[utoipa::path(
    put, path = "/v1/products/{id}", tag = "records", request_body = ProductInput, params(("id" = Uuid, Path)),
    responses((status = 200, body = ProductResponse, headers(("etag" = String, description = "The new version"))), (status = 404, body = platform::http::Problem, content_type = "application/problem+json"), (status = 422, body = platform::http::Problem, content_type = "application/problem+json"))
)]
#[tracing::instrument(skip_all)]
pub async fn put_product(
    IfMatch(expected): IfMatch,
    db: web::Data<Db>,
    tracking: web::Data<Tracking>,
    trace: TraceContext,
    id: web::Path<String>,
    body: Json<ProductInput>,
) -> Result<HttpResponse, BreakevenError> {
    let id = path_id(&id)?;
    let product = Product::try_from(&ProductDraft::from(body.into_inner()))?;
    let row = usecase::replace(&db, &tracking, trace, id, expected, product).await?;
    Ok(versioning::versioned(
        StatusCode::OK,
        row.version,
        &ProductResponse::from(row),
    ))
}
