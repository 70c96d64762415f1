//! Affiliate terms: `PUT /v1/affiliates/{id}` and `GET /v1/affiliates/{id}`.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use platform::Db;
use platform::http::json::Json;

use crate::domain::affiliate::{AffiliateInput, AffiliateResponse, AffiliateTerms};
use crate::error::TouchpointsError;
use crate::store::affiliates::{self as store, AffiliateRow};

fn affiliate_id(raw: &str) -> Result<String, TouchpointsError> {
    let id = raw.trim();
    // PostgreSQL's text cannot hold U+0000.
    if id.is_empty() || id.chars().count() > 512 || id.contains('\0') {
        return Err(platform::Problem::field(
            "id",
            "must be 1 to 512 characters, without the NUL character (U+0000)",
        )
        .into());
    }
    Ok(id.to_string())
}

/// Creates or replaces an affiliate's terms: its commission model and cookie window.
#[utoipa::path(
    put, path = "/v1/affiliates/{id}", tag = "affiliates",
    params(("id" = String, Path, description = "The affiliate id touches carry in `affiliate_id`: 1 to 512 characters")),
    request_body = AffiliateInput,
    responses(
        (status = 201, description = "Created", body = AffiliateResponse),
        (status = 200, description = "Replaced", body = AffiliateResponse),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip(db, body))]
pub async fn put_affiliate(
    db: web::Data<Db>,
    id: web::Path<String>,
    body: Json<AffiliateInput>,
) -> Result<HttpResponse, TouchpointsError> {
    let id = affiliate_id(&id)?;
    let terms = AffiliateTerms::parse(body.into_inner())?;
    let row = AffiliateRow::new(&id, &terms, Utc::now());
    let stored = row.clone();
    let created = db
        .run(move |conn| store::put(conn, &stored).map_err(TouchpointsError::from))
        .await?;
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
        (status = 404, body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The id is empty, too long or holds U+0000", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip(db))]
pub async fn get_affiliate(
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, TouchpointsError> {
    let id = affiliate_id(&id)?;
    let lookup = id.clone();
    let row = db
        .run(move |conn| store::get(conn, &lookup).map_err(TouchpointsError::from))
        .await?
        .ok_or_else(|| TouchpointsError::NotFound(format!("affiliate {id}")))?;
    Ok(HttpResponse::Ok().json(AffiliateResponse::from(row)))
}
