//! Affiliate terms: `PUT /v1/affiliates/{id}` (create with `If-None-Match: *`, replace with
//! `If-Match`), `GET /v1/affiliates/{id}` (ETag, 304) and the `GET /v1/affiliates` page.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use platform::http::json::Json;
use platform::http::query::{PageParams, Query, paginate_by_key};
use platform::http::versioning;
use platform::{Db, Problem};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::affiliate::{AffiliateDraft, affiliate_id};
use crate::domain::precondition::Precondition;
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
    /// The version, also sent as the ETag (`"3"`): send it in `If-Match` to replace.
    pub version: i32,
}

platform::page!(
    /// A page of affiliates.
    AffiliatePage,
    AffiliateResponse
);

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
            version: r.version,
        }
    }
}

/// Creates or replaces an affiliate's terms: its commission model and cookie window.
///
/// Every PUT is conditional (RFC 9110), so that no write is lost:
/// - to **create** an affiliate, send `If-None-Match: *`: 201 with ETag `"1"`, or 412 (with
///   `current_etag`) when the id exists already;
/// - to **replace** one, send its ETag in `If-Match` (from a GET or the last PUT): 200 with
///   the next ETag, or 412 (with `current_etag`) when it changed since, or when it does not
///   exist;
/// - without either header: 428, whether the affiliate exists (send `If-Match`) or not
///   (send `If-None-Match: *`).
#[utoipa::path(
    put, path = "/v1/affiliates/{id}", tag = "affiliates",
    params(
        ("id" = String, Path, description = "The affiliate id touches carry in `affiliate_id`: 1 to 512 characters"),
        ("If-Match" = String, Header, description = "The ETag of your last read: required to replace an existing affiliate. To create a new one, send `If-None-Match: *` instead"),
        ("If-None-Match" = Option<String>, Header, description = "`*` (the only value taken): create only. Required to create a new affiliate, in place of If-Match"),
    ),
    request_body = AffiliateInput,
    responses(
        (status = 201, description = "Created (`If-None-Match: *`)", body = AffiliateResponse,
            headers(("etag" = String, description = "The new version: send it in If-Match to replace"))),
        (status = 200, description = "Replaced (`If-Match`)", body = AffiliateResponse,
            headers(("etag" = String, description = "The new version"))),
        (status = 412, description = "If-Match is not the current ETag (`current_etag` names it) or the affiliate does not exist; or If-None-Match: * and it exists", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 428, description = "Neither If-Match (to replace) nor If-None-Match: * (to create) was sent", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip(db, req, body))]
pub async fn put_affiliate(
    req: HttpRequest,
    db: web::Data<Db>,
    id: web::Path<String>,
    body: Json<AffiliateInput>,
) -> Result<HttpResponse, TouchpointsError> {
    let id = affiliate_id(&id)?;
    let sent = precondition(&req)?;
    let (row, created) = usecase::put(&db, id, body.into_inner().into(), sent).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(versioning::versioned(
        status,
        row.version,
        &AffiliateResponse::from(row),
    ))
}

/// The precondition of a PUT: `If-Match` (its ETag), else `If-None-Match: *`, else none.
fn precondition(req: &HttpRequest) -> Result<Precondition, Problem> {
    if req.headers().contains_key("if-match") {
        return versioning::if_match(req).map(Precondition::IfMatch);
    }
    match req.headers().get("if-none-match") {
        None => Ok(Precondition::Missing),
        Some(v) if v.to_str().is_ok_and(|v| v.trim() == "*") => Ok(Precondition::CreateOnly),
        Some(_) => Err(Problem::field(
            "header:if-none-match",
            "must be * on a PUT (create only); send If-Match to replace",
        )),
    }
}

#[utoipa::path(
    get, path = "/v1/affiliates/{id}", tag = "affiliates",
    params(("id" = String, Path, description = "The affiliate id: 1 to 512 characters")),
    responses(
        (status = 200, body = AffiliateResponse,
            headers(("etag" = String, description = "The version: send it in If-Match to replace"))),
        (status = 404, description = "No affiliate has this id", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The id is empty, too long or holds U+0000, or a query parameter was sent (none is taken)", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip(db, req, query))]
pub async fn get_affiliate(
    req: HttpRequest,
    db: web::Data<Db>,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    Query::new(&query, &[]).finish()?;
    let row = usecase::get(&db, affiliate_id(&id)?).await?;
    Ok(versioning::read(
        &req,
        row.version,
        &AffiliateResponse::from(row),
    ))
}

/// Every affiliate with terms, in id order (keyset-paged on the id).
#[utoipa::path(
    get, path = "/v1/affiliates", tag = "affiliates",
    params(PageParams),
    responses(
        (status = 200, description = "A page of affiliates in id order", body = AffiliatePage),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn list_affiliates(
    db: web::Data<Db>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    let mut q = Query::new(&query, &["limit", "cursor"]);
    let (limit, after) = q.page_by_key();
    q.finish()?;
    let rows = usecase::page(&db, after, limit + 1).await?;
    let (rows, next_cursor) = paginate_by_key(rows, limit, |r| r.id.clone());
    Ok(HttpResponse::Ok().json(AffiliatePage {
        items: rows.into_iter().map(AffiliateResponse::from).collect(),
        next_cursor,
    }))
}
