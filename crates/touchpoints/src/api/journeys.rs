//! `GET /v1/leads/{id}/journey`: a page of a lead's touches in time order and its
//! conversions, each with the touches of its journey (the lookback window before it).

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use platform::Db;
use platform::http::query::{PageParams, Query, paginate_by_key, path_id};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::int_param;
use super::touchpoints::{TouchpointPage, TouchpointResponse};
use crate::config::TouchpointsConfig;
use crate::error::TouchpointsError;
use crate::store::conversions::ConversionRow;
use crate::usecases::journeys as usecase;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JourneyResponse {
    /// The live lead: the one asked for, or the lead it was merged into.
    pub lead_id: Uuid,
    /// Set when the lead asked for was merged into `lead_id`.
    pub merged_from: Option<Uuid>,
    pub lookback_days: u32,
    /// A page of the lead's touches, oldest first (by time, then id): `limit` and `cursor`
    /// page through them; `next_cursor` is null on the last page.
    pub touches: TouchpointPage,
    /// Every conversion of the lead (not paged), each with the ids of all the touches of its
    /// journey, whatever page of `touches` was asked for.
    pub conversions: Vec<ConversionResponse>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConversionResponse {
    pub id: Uuid,
    /// `won` (a won deal), `lost` (a lost deal: a non-converting path) or `micro` (a
    /// configured touch type such as `form_submit`).
    pub kind: String,
    pub deal_id: Option<Uuid>,
    /// The touch that is the micro-conversion.
    pub touchpoint_id: Option<Uuid>,
    #[schema(value_type = Option<String>)]
    pub value: Option<Decimal>,
    pub currency: Option<String>,
    pub campaign_id: Option<String>,
    pub converted_at: DateTime<Utc>,
    /// Ids of the touches in the lookback window up to `converted_at`, oldest first.
    pub journey: Vec<Uuid>,
}

impl From<(ConversionRow, Vec<Uuid>)> for ConversionResponse {
    fn from((c, journey): (ConversionRow, Vec<Uuid>)) -> Self {
        ConversionResponse {
            id: c.id,
            kind: c.kind,
            deal_id: c.deal_id,
            touchpoint_id: c.touchpoint_id,
            value: c.value,
            currency: c.currency,
            campaign_id: c.campaign_id,
            converted_at: c.converted_at,
            journey,
        }
    }
}

#[utoipa::path(
    get, path = "/v1/leads/{id}/journey", tag = "journeys",
    params(
        ("id" = Uuid, Path, description = "Lead id"),
        ("lookback_days" = Option<u32>, Query, minimum = 1, maximum = 3650, description = "Journey window before each conversion (default: the configured one, 90 days)"),
        PageParams,
    ),
    responses(
        (status = 200, description = "The lead's summary and conversions, with a page of its touches in `touches` (`items` and `next_cursor`)", body = JourneyResponse),
    )
)]
#[tracing::instrument(skip(db, config, query))]
pub async fn get_journey(
    db: web::Data<Db>,
    config: web::Data<TouchpointsConfig>,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    let asked = path_id(&id)?;
    let mut q = Query::new(&query, &["lookback_days", "limit", "cursor"]);
    let lookback_days = int_param(&mut q, "lookback_days", 1, 3650).unwrap_or(config.lookback_days);
    let (limit, after) = q.page_by_key();
    let after = after.and_then(|key| {
        let parsed = decode_touch_key(&key)
            .ok_or_else(|| "is not a cursor returned by this endpoint".to_string());
        q.errors.take("cursor", parsed)
    });
    q.finish()?;
    let j = usecase::of_lead(&db, asked, lookback_days, limit, after).await?;
    let (touches, next_cursor) = paginate_by_key(j.touches, limit, |t| {
        let t = t.get();
        encode_touch_key(t.occurred_at, t.touchpoint_id)
    });
    Ok(HttpResponse::Ok().json(JourneyResponse {
        lead_id: j.lead,
        merged_from: (j.lead != asked).then_some(asked),
        lookback_days,
        touches: TouchpointPage {
            items: touches.into_iter().map(TouchpointResponse::from).collect(),
            next_cursor,
        },
        conversions: j
            .conversions
            .into_iter()
            .map(ConversionResponse::from)
            .collect(),
    }))
}

/// The keyset of a journey's touches: the time and id of the last touch of a page.
fn encode_touch_key(at: DateTime<Utc>, id: Uuid) -> String {
    format!(
        "{}|{id}",
        at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    )
}

fn decode_touch_key(key: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (at, id) = key.split_once('|')?;
    let at = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
    Some((at, Uuid::parse_str(id).ok()?))
}
