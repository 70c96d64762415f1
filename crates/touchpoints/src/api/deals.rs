//! `GET /v1/deals/{id}/attribution`: a won deal's credits, as each model run for its
//! conversion published them in `conversion.attributed`.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use platform::Db;
use platform::http::query::{Query, path_id};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::TouchpointsError;
use crate::store::deal_attributions::DealAttributionRow;
use crate::usecases::attribution as usecase;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DealAttributionResponse {
    pub deal_id: Uuid,
    /// The conversion the won deal is.
    pub conversion_id: Uuid,
    /// The live lead the deal's journey is of.
    pub lead_id: Option<Uuid>,
    /// The deal's value, a decimal string.
    #[schema(value_type = Option<String>, example = "1200.50")]
    pub value: Option<Decimal>,
    pub currency: Option<String>,
    /// When the deal was won.
    pub converted_at: DateTime<Utc>,
    /// One entry per model run for the conversion (by name); empty when the lead had no
    /// touch in the lookback window, so nothing was attributed.
    pub results: Vec<DealModelCredits>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DealModelCredits {
    /// The model that ran, e.g. `linear`, `markov`.
    pub model: String,
    /// The Markov chain's order; Markov only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<u8>,
    /// Touches of the journey in the lookback window.
    pub touch_count: u32,
    /// The credits: each conversion share is 0 to 1 and they sum to 1; the values sum to the
    /// deal's value.
    pub credits: Vec<DealCredit>,
    pub attributed_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DealCredit {
    pub channel: String,
    /// Set when the credit is for one campaign within the channel.
    pub campaign_id: Option<String>,
    /// Share of the conversion, a decimal string from 0 to 1.
    #[schema(value_type = String, example = "0.5")]
    pub conversions: Decimal,
    /// Share of the deal's value, a decimal string in its currency.
    #[schema(value_type = String, example = "600.25")]
    pub value: Decimal,
}

impl From<DealAttributionRow> for DealModelCredits {
    fn from(r: DealAttributionRow) -> Self {
        DealModelCredits {
            model: r.model,
            order: r.order,
            touch_count: r.touch_count,
            credits: r
                .credits
                .into_iter()
                .map(|c| DealCredit {
                    channel: c.channel,
                    campaign_id: c.campaign_id,
                    conversions: c.conversions,
                    value: c.value,
                })
                .collect(),
            attributed_at: r.attributed_at,
        }
    }
}

/// The per-deal credits of the models run for a won deal's conversion, as published in
/// `conversion.attributed` when the deal was won (not recomputed: later touches and deals
/// do not change them).
#[utoipa::path(
    get, path = "/v1/deals/{id}/attribution", tag = "attribution",
    params(("id" = Uuid, Path, description = "Deal id")),
    responses(
        (status = 200, body = DealAttributionResponse),
        (status = 404, description = "No won deal has this id (a deal is known here once its `deal.won` event arrived)", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip(db, query))]
pub async fn get_deal_attribution(
    db: web::Data<Db>,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    let deal = path_id(&id)?;
    Query::new(&query, &[]).finish()?;
    let a = usecase::of_deal(&db, deal)
        .await?
        .ok_or_else(|| TouchpointsError::NotFound(format!("won deal {deal}")))?;
    let c = a.conversion;
    Ok(HttpResponse::Ok().json(DealAttributionResponse {
        deal_id: deal,
        conversion_id: c.id,
        lead_id: c.lead_id,
        value: c.value,
        currency: c.currency,
        converted_at: c.converted_at,
        results: a.results.into_iter().map(DealModelCredits::from).collect(),
    }))
}
