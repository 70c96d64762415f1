//! Affiliate terms: `PUT /v1/affiliates/{id}` and `GET /v1/affiliates/{id}`.

use actix_web::{HttpResponse, web};
use platform::Db;
use platform::http::json::Json;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::affiliate::{AffiliateDraft, affiliate_id};
use crate::error::TouchpointsError;
use crate::store::affiliates::AffiliateRow;
use crate::usecases::affiliates as usecase;

/// Body of `PUT /v1/affiliates/{id}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AffiliateInput {
    pub name: Option<String>,
    /// `flat_cpa`, `flat_cpl` or `revenue_share`.
    pub model: String,
    /// Commission per conversion (`flat_cpa`) or per lead (`flat_cpl`), as a decimal string.
    #[schema(value_type = Option<String>, example = "150.00")]
    pub amount: Option<Decimal>,
    /// Share of conversion value for `revenue_share`, 0 to 100.
    #[schema(value_type = Option<String>, example = "10")]
    pub revenue_share_percent: Option<Decimal>,
    /// Currency of the commission.
    pub currency: String,
    /// Days after an affiliate touch in which a conversion counts (default 30).
    pub cookie_window_days: Option<i32>,
}

impl From<AffiliateInput> for AffiliateDraft {
    fn from(i: AffiliateInput) -> Self {
        AffiliateDraft {
            name: i.name,
            model: i.model,
            amount: i.amount,
            revenue_share_percent: i.revenue_share_percent,
            currency: i.currency,
            cookie_window_days: i.cookie_window_days,
        }
    }
}

/// Terms as stored and returned.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AffiliateResponse {
    pub id: String,
    pub name: Option<String>,
    pub model: String,
    #[schema(value_type = Option<String>)]
    pub amount: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub revenue_share_percent: Option<Decimal>,
    pub currency: String,
    pub cookie_window_days: i32,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<AffiliateRow> for AffiliateResponse {
    fn from(r: AffiliateRow) -> Self {
        AffiliateResponse {
            id: r.id,
            name: r.name,
            model: r.model,
            amount: r.amount,
            revenue_share_percent: r.revenue_share_percent,
            currency: r.currency,
            cookie_window_days: r.cookie_window_days,
            updated_at: r.updated_at,
        }
    }
}

/// Creates or replaces an affiliate's terms: its commission model and cookie window.
#[utoipa::path(
    put, path = "/v1/affiliates/{id}", tag = "affiliates",
    params(("id" = String, Path, description = "The affiliate id touches carry in `affiliate_id`: 1 to 512 characters")),
    request_body = AffiliateInput,
    responses(
        (status = 201, description = "Created", body = AffiliateResponse),
        (status = 200, description = "Replaced", body = AffiliateResponse),
    )
)]
#[tracing::instrument(skip(db, body))]
pub async fn put_affiliate(
    db: web::Data<Db>,
    id: web::Path<String>,
    body: Json<AffiliateInput>,
) -> Result<HttpResponse, TouchpointsError> {
    let id = affiliate_id(&id)?;
    let (row, created) = usecase::put(&db, id, body.into_inner().into()).await?;
    let mut r = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(r.json(AffiliateResponse::from(row)))
}

#[utoipa::path(
    get, path = "/v1/affiliates/{id}", tag = "affiliates",
    params(("id" = String, Path, description = "The affiliate id: 1 to 512 characters")),
    responses(
        (status = 200, body = AffiliateResponse),
        (status = 404, description = "No affiliate has this id", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The id is empty, too long or holds U+0000", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip(db))]
pub async fn get_affiliate(
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, TouchpointsError> {
    let row = usecase::get(&db, affiliate_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(AffiliateResponse::from(row)))
}
