//! Lead endpoints: create (idempotent), read, and list with cursor pagination.

use std::collections::HashMap;

use actix_web::{HttpResponse, http::StatusCode, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use platform::http::FieldErrors;
use platform::http::idempotency::{self, IdempotencyKey, StoredResponse};
use platform::http::json::Json;
use platform::{Db, TraceContext};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::NewLead;
use crate::domain::lead::LeadInput;
use crate::error::LeadsError;
use crate::store::{self, LeadRow};

/// A new lead. Only `email` and `source` are required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLeadRequest {
    #[schema(example = "ada@example.com")]
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub company: Option<String>,
    /// One of organic_search, content, webinar, referral, direct, sdr, event, affiliate,
    /// paid_search, paid_social, programmatic_display.
    #[schema(example = "webinar")]
    pub source: Option<String>,
    pub campaign_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// Required when source is `affiliate`.
    pub affiliate_id: Option<String>,
}

impl From<CreateLeadRequest> for LeadInput {
    fn from(r: CreateLeadRequest) -> Self {
        LeadInput {
            email: r.email,
            first_name: r.first_name,
            last_name: r.last_name,
            title: r.title,
            company: r.company,
            source: r.source,
            campaign_id: r.campaign_id,
            anonymous_id: r.anonymous_id,
            affiliate_id: r.affiliate_id,
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
    pub company: Option<String>,
    pub source: String,
    pub campaign_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub affiliate_id: Option<String>,
    pub lifecycle_stage: String,
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
            company: r.company,
            source: r.source,
            campaign_id: r.campaign_id,
            anonymous_id: r.anonymous_id,
            affiliate_id: r.affiliate_id,
            lifecycle_stage: r.lifecycle_stage,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LeadPage {
    pub items: Vec<LeadResponse>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Query of `GET /v1/leads`.
#[derive(Debug, IntoParams)]
#[allow(dead_code)]
pub struct ListParams {
    /// Page size, 1 to 500 (default 50).
    limit: Option<u32>,
    /// Opaque cursor from the previous page's `next_cursor`.
    cursor: Option<String>,
}

/// Creates a lead and publishes `lead.created` in the same transaction.
#[utoipa::path(
    post, path = "/v1/leads", tag = "leads",
    request_body = CreateLeadRequest,
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
    key: IdempotencyKey,
    body: Json<CreateLeadRequest>,
) -> Result<HttpResponse, LeadsError> {
    let raw = body.raw.clone();
    let lead = NewLead::parse(body.into_inner().into())?;
    let (response, replayed) = db
        .run(move |conn| {
            idempotency::run(conn, "POST /v1/leads", &key, &raw, |tx| {
                let row = store::create_lead(tx, &lead, &trace)?;
                let location = format!("/v1/leads/{}", row.id);
                Ok::<_, LeadsError>(
                    StoredResponse::json(StatusCode::CREATED, &LeadResponse::from(row))
                        .header("location", location),
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
        (status = 200, body = LeadResponse),
        (status = 404, body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The id is not a UUID", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip(db))]
pub async fn get_lead(
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, LeadsError> {
    let id = Uuid::parse_str(&id).map_err(|_| platform::Problem::field("id", "must be a UUID"))?;
    let row = db
        .run(move |conn| store::find_lead(conn, id))
        .await?
        .ok_or(LeadsError::NotFound(id))?;
    Ok(HttpResponse::Ok()
        .insert_header(("etag", format!("\"{}\"", row.version)))
        .json(LeadResponse::from(row)))
}

#[utoipa::path(
    get, path = "/v1/leads", tag = "leads",
    params(ListParams),
    responses(
        (status = 200, body = LeadPage),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip(db))]
pub async fn list_leads(
    db: web::Data<Db>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, LeadsError> {
    let mut errors = FieldErrors::new();
    for k in query.keys() {
        if k != "limit" && k != "cursor" {
            errors.add(k, "unknown query parameter");
        }
    }
    let limit = match query.get("limit") {
        None => 50,
        Some(s) => errors
            .take(
                "limit",
                s.parse::<i64>()
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or_else(|| "must be an integer from 1 to 500".to_string()),
            )
            .unwrap_or(50),
    };
    let after = query
        .get("cursor")
        .and_then(|c| errors.take("cursor", decode_cursor(c)));
    errors.finish()?;
    let mut rows = db
        .run(move |conn| store::list_leads(conn, after, limit + 1))
        .await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| encode_cursor(r.id))
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(LeadPage {
        items: rows.into_iter().map(LeadResponse::from).collect(),
        next_cursor,
    }))
}

fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode_cursor(s: &str) -> Result<Uuid, String> {
    URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| Uuid::from_slice(&b).ok())
        .ok_or_else(|| "is not a cursor returned by this endpoint".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)), Ok(id));
        assert!(decode_cursor("!!").is_err());
        assert!(decode_cursor("abc").is_err());
    }
}
