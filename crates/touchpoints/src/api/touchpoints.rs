//! `POST /v1/touchpoints` (one touch or an array, all or nothing) and `GET /v1/touchpoints/{id}`.

use actix_web::{HttpResponse, http::StatusCode, web};
use chrono::{DateTime, Utc};
use diesel::Connection;
use platform::http::FieldError;
use platform::http::json::{Json, parse};
use platform::{Db, Problem, TraceContext};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::config::TouchpointsConfig;
use crate::domain::{Touchpoint, TouchpointInput};
use crate::error::TouchpointsError;
use crate::store::touchpoints::{self as store, TouchpointRow};
use platform::http::query::path_id;

/// Most touches in one JSON array.
pub const MAX_ARRAY: usize = 10_000;

/// A stored touchpoint.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TouchpointResponse {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub channel: String,
    #[serde(rename = "type")]
    pub touch_type: String,
    pub campaign_id: Option<String>,
    pub creative_id: Option<String>,
    pub content_id: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    pub anonymous_id: Option<String>,
    /// The lead, given at ingest or stitched (by anonymous id or email) since.
    pub lead_id: Option<Uuid>,
    pub email: Option<String>,
    pub account_id: Option<Uuid>,
    pub affiliate_id: Option<String>,
    #[schema(value_type = Option<String>)]
    pub cost: Option<Decimal>,
    pub currency: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub properties: Option<serde_json::Value>,
}

impl From<TouchpointRow> for TouchpointResponse {
    fn from(r: TouchpointRow) -> Self {
        TouchpointResponse {
            id: r.id,
            occurred_at: r.occurred_at,
            received_at: r.received_at,
            channel: r.channel,
            touch_type: r.touch_type,
            campaign_id: r.campaign_id,
            creative_id: r.creative_id,
            content_id: r.content_id,
            utm_source: r.utm_source,
            utm_medium: r.utm_medium,
            utm_campaign: r.utm_campaign,
            utm_term: r.utm_term,
            utm_content: r.utm_content,
            anonymous_id: r.anonymous_id,
            lead_id: r.lead_id,
            email: r.email,
            account_id: r.account_id,
            affiliate_id: r.affiliate_id,
            cost: r.cost,
            currency: r.currency,
            properties: r.properties,
        }
    }
}

/// The outcome of an array ingest.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IngestResponse {
    /// Touches in the request.
    pub accepted: usize,
    /// Stored now.
    pub inserted: usize,
    /// Already stored (same id): no second effect.
    pub duplicates: usize,
    /// The ids of the touches, in request order (generated where none was sent).
    pub ids: Vec<Uuid>,
}

/// Validates every touch; on any error nothing is stored and each error names its field
/// (`[3].cost` in an array).
fn validate(raw: &[u8]) -> Result<(Vec<Touchpoint>, bool), TouchpointsError> {
    let now = Utc::now();
    let first = raw.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        let inputs: Vec<TouchpointInput> = parse(raw)?;
        if inputs.is_empty() {
            return Err(Problem::field("body", "must hold at least one touchpoint").into());
        }
        if inputs.len() > MAX_ARRAY {
            return Err(Problem::field(
                "body",
                format!("holds more than {MAX_ARRAY} touchpoints; use POST /v1/touchpoints/bulk"),
            )
            .into());
        }
        let mut errors = Vec::new();
        let mut touches = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.into_iter().enumerate() {
            match Touchpoint::parse(input, now) {
                Ok(t) => touches.push(t),
                Err(es) => errors.extend(es.into_iter().map(|e| FieldError {
                    field: format!("[{i}].{}", e.field),
                    message: e.message,
                })),
            }
        }
        if !errors.is_empty() {
            return Err(Problem::validation(errors).into());
        }
        Ok((touches, true))
    } else {
        let input: TouchpointInput = parse(raw)?;
        let t = Touchpoint::parse(input, now).map_err(Problem::validation)?;
        Ok((vec![t], false))
    }
}

/// The body of `POST /v1/touchpoints`: one touchpoint, or an array of 1 to 10,000
/// (documentation only: the raw JSON is read by `validate`).
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum TouchpointsBody {
    One(Box<TouchpointInput>),
    Many(Vec<TouchpointInput>),
}

/// What `POST /v1/touchpoints` answers: the stored touch for an object body, the counts
/// for an array body (documentation only).
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum IngestOutcome {
    One(Box<TouchpointResponse>),
    Many(IngestResponse),
}

/// Records one touchpoint (a JSON object) or many (a JSON array, up to 10,000). Touches whose
/// id is already stored are left as they are; each new one is stitched to its lead when its
/// identity is known and published as `touchpoint.recorded` in the same transaction.
#[utoipa::path(
    post, path = "/v1/touchpoints", tag = "touchpoints",
    request_body(content = TouchpointsBody, description = "One touchpoint, or a JSON array of 1 to 10,000 (all or nothing)"),
    responses(
        (status = 201, description = "At least one new touch: the touch (object body) or the counts (array body)", body = IngestOutcome),
        (status = 200, description = "Nothing new: the touch (or every touch of the array) was already stored", body = IngestOutcome),
        (status = 413, body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 415, body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, named like `[3].cost`", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(touches))]
pub async fn post_touchpoints(
    db: web::Data<Db>,
    config: web::Data<TouchpointsConfig>,
    trace: TraceContext,
    body: Json<serde::de::IgnoredAny>,
) -> Result<HttpResponse, TouchpointsError> {
    let (touches, is_array) = validate(&body.raw)?;
    tracing::Span::current().record("touches", touches.len());
    let ids: Vec<Uuid> = touches.iter().map(|t| t.get().touchpoint_id).collect();
    let config = config.into_inner();
    let written = db
        .run(move |conn| {
            conn.transaction(|tx| {
                store::insert(
                    tx,
                    &touches,
                    &config.micro_conversion_types,
                    config.events_per_message,
                    Some(&trace),
                )
            })
            .map_err(TouchpointsError::from)
        })
        .await?;
    let status = if written.inserted.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    if is_array {
        return Ok(HttpResponse::build(status).json(IngestResponse {
            accepted: ids.len(),
            inserted: written.inserted.len(),
            duplicates: written.duplicates,
            ids,
        }));
    }
    let id = ids[0];
    let row = db
        .run(move |conn| store::find(conn, id).map_err(TouchpointsError::from))
        .await?
        .ok_or_else(|| anyhow::anyhow!("touchpoint {id} vanished after insert"))?;
    Ok(HttpResponse::build(status)
        .insert_header(("location", format!("/v1/touchpoints/{id}")))
        .json(TouchpointResponse::from(row)))
}

#[utoipa::path(
    get, path = "/v1/touchpoints/{id}", tag = "touchpoints",
    params(("id" = Uuid, Path, description = "Touchpoint id")),
    responses(
        (status = 200, body = TouchpointResponse),
        (status = 404, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip(db))]
pub async fn get_touchpoint(
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, TouchpointsError> {
    let id = path_id(&id)?;
    let row = db
        .run(move |conn| store::find(conn, id).map_err(TouchpointsError::from))
        .await?
        .ok_or_else(|| TouchpointsError::NotFound(format!("touchpoint {id}")))?;
    Ok(HttpResponse::Ok().json(TouchpointResponse::from(row)))
}
