//! `POST /v1/touchpoints` (one touch or an array, all or nothing) and `GET /v1/touchpoints/{id}`.

use std::collections::HashMap;

use actix_web::{HttpResponse, http::StatusCode, web};
use chrono::{DateTime, Utc};
use contracts::touchpoints::CHANNELS;
use platform::http::FieldError;
use platform::http::idempotency::{self, IdempotencyKey, StoredResponse};
use platform::http::json::{Json, parse};
use platform::http::query::{PageParams, Query, paginate, path_id};
use platform::{Db, Problem, TraceContext};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::config::TouchpointsConfig;
use crate::domain::{Touchpoint, TouchpointDraft};
use crate::error::TouchpointsError;
use crate::usecases::touchpoints::{self as usecase, TouchpointFilter};

/// Most touches in one JSON array.
pub const MAX_ARRAY: usize = 10_000;

/// One touchpoint in `POST /v1/touchpoints` or a line of `POST /v1/touchpoints/bulk`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TouchpointInput {
    /// Client-supplied id: sending the same id again has no second effect. Generated when absent.
    pub id: Option<Uuid>,
    #[serde(deserialize_with = "platform::time::datetime")]
    pub occurred_at: DateTime<Utc>,
    /// One of the 15 channels, e.g. `paid_search`, `display`, `affiliate`.
    pub channel: String,
    /// One of the 12 touch types, e.g. `impression`, `click`, `form_submit`.
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
    pub lead_id: Option<Uuid>,
    pub email: Option<String>,
    pub account_id: Option<Uuid>,
    /// Required when `channel` is `affiliate`.
    pub affiliate_id: Option<String>,
    /// Cost of a paid impression or click: a decimal string, never negative (a JSON number
    /// is refused with the string to send).
    #[schema(value_type = Option<String>, example = "0.0125")]
    #[serde(
        default,
        deserialize_with = "platform::validation::option_decimal_string"
    )]
    pub cost: Option<Decimal>,
    /// ISO 4217 code; required with `cost`.
    pub currency: Option<String>,
    /// Any JSON object.
    #[schema(value_type = Option<Object>)]
    pub properties: Option<serde_json::Value>,
}

impl From<TouchpointInput> for TouchpointDraft {
    fn from(i: TouchpointInput) -> Self {
        TouchpointDraft {
            id: i.id,
            occurred_at: i.occurred_at,
            channel: i.channel,
            touch_type: i.touch_type,
            campaign_id: i.campaign_id,
            creative_id: i.creative_id,
            content_id: i.content_id,
            utm_source: i.utm_source,
            utm_medium: i.utm_medium,
            utm_campaign: i.utm_campaign,
            utm_term: i.utm_term,
            utm_content: i.utm_content,
            anonymous_id: i.anonymous_id,
            lead_id: i.lead_id,
            email: i.email,
            account_id: i.account_id,
            affiliate_id: i.affiliate_id,
            cost: i.cost,
            currency: i.currency,
            properties: i.properties,
        }
    }
}

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

impl From<Touchpoint> for TouchpointResponse {
    fn from(t: Touchpoint) -> Self {
        let t = t.into_inner();
        TouchpointResponse {
            id: t.touchpoint_id,
            occurred_at: t.occurred_at,
            received_at: t.received_at,
            channel: t.channel,
            touch_type: t.touch_type,
            campaign_id: t.campaign_id,
            creative_id: t.creative_id,
            content_id: t.content_id,
            utm_source: t.utm_source,
            utm_medium: t.utm_medium,
            utm_campaign: t.utm_campaign,
            utm_term: t.utm_term,
            utm_content: t.utm_content,
            anonymous_id: t.anonymous_id,
            lead_id: t.lead_id,
            email: t.email,
            account_id: t.account_id,
            affiliate_id: t.affiliate_id,
            cost: t.cost,
            currency: t.currency.map(|c| c.as_str().to_string()),
            properties: (!t.properties.is_null()).then_some(t.properties),
        }
    }
}

platform::page!(
    /// A page of touchpoints.
    TouchpointPage,
    TouchpointResponse
);

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
            match Touchpoint::parse(input.into(), now) {
                Ok(t) => touches.push(t),
                Err(invalid) => errors.extend(invalid.0.into_iter().map(|e| FieldError {
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
        Ok((vec![Touchpoint::parse(input.into(), now)?], false))
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
///
/// The answer depends on the body's shape: an object answers the stored touch
/// (`TouchpointResponse`, with `Location`), an array answers the counts (`IngestResponse`).
/// The status says whether anything was new: 201 when at least one touch was stored now,
/// 200 when every touch was already stored (by id). With `Idempotency-Key`, a retry of the
/// same body replays the first answer (status included) with `idempotent-replayed: true`.
#[utoipa::path(
    post, path = "/v1/touchpoints", tag = "touchpoints",
    request_body(content = TouchpointsBody, description = "One touchpoint object, or a JSON array of 1 to 10,000 (all or nothing)"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response to the same key and body for 24 h; another body with the same key is a 422")),
    responses(
        (status = 201, description = "At least one touch stored now: the stored touch for an object body (with `Location`), the counts for an array body", body = IngestOutcome,
            headers(("location" = String, description = "The touch, for an object body"))),
        (status = 200, description = "Nothing new (every id was already stored): the stored touch for an object body, the counts for an array body", body = IngestOutcome),
        (status = 413, description = "The body is larger than 16 MiB; use POST /v1/touchpoints/bulk", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 415, body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, named like `[3].cost`, or Idempotency-Key reused with another body", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(touches))]
pub async fn post_touchpoints(
    db: web::Data<Db>,
    config: web::Data<TouchpointsConfig>,
    trace: TraceContext,
    key: IdempotencyKey,
    body: Json<serde::de::IgnoredAny>,
) -> Result<HttpResponse, TouchpointsError> {
    let (touches, is_array) = validate(&body.raw)?;
    tracing::Span::current().record("touches", touches.len());
    let raw = body.raw.clone();
    let config = config.into_inner();
    let (response, replayed) = db
        .run(move |conn| {
            idempotency::run(conn, "POST /v1/touchpoints", &key, &raw, |tx| {
                let (written, stored) = usecase::record_in_tx(tx, &touches, &config, &trace)?;
                let status = if written.inserted.is_empty() {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                };
                let answer = match stored {
                    Some(stored) if !is_array => {
                        let id = stored.get().touchpoint_id;
                        StoredResponse::json(status, &TouchpointResponse::from(stored))
                            .header("location", format!("/v1/touchpoints/{id}"))
                    }
                    _ => StoredResponse::json(
                        status,
                        &IngestResponse {
                            accepted: touches.len(),
                            inserted: written.inserted.len(),
                            duplicates: written.duplicates,
                            ids: touches.iter().map(|t| t.get().touchpoint_id).collect(),
                        },
                    ),
                };
                Ok::<_, TouchpointsError>(answer)
            })
        })
        .await?;
    Ok(response.into_response(replayed))
}

#[utoipa::path(
    get, path = "/v1/touchpoints/{id}", tag = "touchpoints",
    params(("id" = Uuid, Path, description = "Touchpoint id")),
    responses(
        (status = 200, body = TouchpointResponse),
    )
)]
#[tracing::instrument(skip(db, query))]
pub async fn get_touchpoint(
    db: web::Data<Db>,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    let id = path_id(&id)?;
    Query::new(&query, &[]).finish()?;
    let stored = usecase::find(&db, id)
        .await?
        .ok_or_else(|| TouchpointsError::NotFound(format!("touchpoint {id}")))?;
    Ok(HttpResponse::Ok().json(TouchpointResponse::from(stored)))
}

/// Touchpoints matching every filter given, in id order (keyset-paged on the id). Ids the
/// service generates are UUIDv7, so they follow the order of ingest; a client-supplied id
/// sorts where its bytes put it.
#[utoipa::path(
    get, path = "/v1/touchpoints", tag = "touchpoints",
    params(
        ("lead_id" = Option<Uuid>, Query, description = "Touches of this lead (as given at ingest or stitched since)"),
        ("anonymous_id" = Option<String>, Query, description = "Touches carrying this anonymous id"),
        ("campaign_id" = Option<String>, Query, description = "Touches of this campaign"),
        ("channel" = Option<String>, Query, description = "Touches on this channel"),
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Touches that occurred at or after (RFC 3339, e.g. `2026-01-01T00:00:00Z`)"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "… and before (RFC 3339)"),
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of touchpoints in id order", body = TouchpointPage),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn list_touchpoints(
    db: web::Data<Db>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    let mut q = Query::new(&query, LIST_PARAMS);
    let lead_id = q.uuid("lead_id");
    let anonymous_id = q.text("anonymous_id");
    let campaign_id = q.text("campaign_id");
    let channel = q.parse("channel", &format!("one of {}", CHANNELS.join(", ")), |s| {
        CHANNELS.contains(&s).then(|| s.to_string())
    });
    let (from, to) = (q.time("from"), q.time("to"));
    let (limit, after) = q.page();
    q.finish()?;
    let filter = TouchpointFilter {
        lead_id,
        anonymous_id,
        campaign_id,
        channel,
        from,
        to,
    };
    let rows = usecase::list(&db, filter, after, limit + 1).await?;
    let (rows, next_cursor) = paginate(rows, limit, |t| t.get().touchpoint_id);
    Ok(HttpResponse::Ok().json(TouchpointPage {
        items: rows.into_iter().map(TouchpointResponse::from).collect(),
        next_cursor,
    }))
}

/// The query parameters of `GET /v1/touchpoints`.
const LIST_PARAMS: &[&str] = &[
    "lead_id",
    "anonymous_id",
    "campaign_id",
    "channel",
    "from",
    "to",
    "limit",
    "cursor",
];
