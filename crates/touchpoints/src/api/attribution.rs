//! Attribution over stored journeys (`GET /v1/attribution`), over ad-hoc paths as JSON or
//! ChannelAttribution CSV (`POST /v1/attribution/compute`), and the model comparison report
//! with its chart.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use attribution::Model;
use futures::StreamExt;
use platform::http::query::Query;
use platform::reports::{Format, serve};
use platform::{Db, Problem};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::media_type;
use crate::config::TouchpointsConfig;
use crate::domain::attribution::{GroupBy, parse_models};
use crate::domain::valuation::{
    CurrencyAmount, ValuedCredit, ValuedEffect, ValuedReport, ValuedResult,
};
use crate::error::{TouchpointsError, unreadable_body};
use crate::reports::attribution::Comparison;
use crate::reports::credits;
use crate::usecases::attribution::{self as usecase, StoredJourneys};

/// Largest body of `POST /v1/attribution/compute`.
pub const COMPUTE_BODY_LIMIT: usize = 16 << 20;

/// The models' credits. Conversions (fractional credit) are numbers; values are decimal
/// strings per currency, and values in different currencies are never added together.
#[derive(Serialize, ToSchema)]
pub struct AttributionReport {
    /// Conversions the models distribute (won deals, or the paths' conversions).
    pub total_conversions: f64,
    /// Their value, one entry per currency, in currency order (none when no conversion has
    /// a value).
    pub total_values: Vec<CurrencyValue>,
    /// One entry per model, in the order asked.
    pub results: Vec<AttributionResult>,
}

#[derive(Serialize, ToSchema)]
pub struct AttributionResult {
    /// The model's name, e.g. `markov`, `linear`.
    pub model: String,
    /// The Markov chain's order; Markov only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<u8>,
    /// One entry per channel (or campaign), sorted by name.
    pub credits: Vec<AttributionCreditRow>,
    /// Markov only: `1 - P(conversion | channel removed) / P(conversion)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removal_effects: Option<Vec<RemovalEffectRow>>,
    /// Markov only: the chain's observed transitions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transition_matrix: Option<Vec<TransitionRow>>,
}

#[derive(Serialize, ToSchema)]
pub struct AttributionCreditRow {
    /// The channel, or the campaign id with `group_by=campaign` (`(none)` for touches
    /// without one).
    pub channel: String,
    pub conversions: f64,
    /// The channel's credit of each currency's value, as in `total_values`; the credits of a
    /// currency sum exactly to its total.
    pub values: Vec<CurrencyValue>,
}

#[derive(Serialize, ToSchema)]
pub struct RemovalEffectRow {
    pub channel: String,
    pub conversion: f64,
    /// The same for the value of each currency's conversions, as in `total_values`.
    pub values: Vec<CurrencyEffect>,
}

#[derive(Serialize, ToSchema)]
pub struct TransitionRow {
    pub from: String,
    pub to: String,
    pub probability: f64,
}

/// An amount of one currency.
#[derive(Serialize, ToSchema)]
pub struct CurrencyValue {
    /// ISO 4217 code; null for ad-hoc paths, whose values carry no currency.
    pub currency: Option<String>,
    /// Decimal string.
    #[schema(value_type = String, example = "1250.50")]
    pub amount: Decimal,
}

/// A value removal effect in one currency.
#[derive(Serialize, ToSchema)]
pub struct CurrencyEffect {
    /// ISO 4217 code; null for ad-hoc paths.
    pub currency: Option<String>,
    pub effect: f64,
}

impl From<ValuedReport> for AttributionReport {
    fn from(r: ValuedReport) -> Self {
        AttributionReport {
            total_conversions: r.total_conversions,
            total_values: r
                .total_values
                .into_iter()
                .map(CurrencyValue::from)
                .collect(),
            results: r.results.into_iter().map(AttributionResult::from).collect(),
        }
    }
}

impl From<ValuedResult> for AttributionResult {
    fn from(r: ValuedResult) -> Self {
        AttributionResult {
            model: r.model.to_string(),
            order: r.order,
            credits: r
                .credits
                .into_iter()
                .map(AttributionCreditRow::from)
                .collect(),
            removal_effects: r
                .removal_effects
                .map(|e| e.into_iter().map(RemovalEffectRow::from).collect()),
            transition_matrix: r.transition_matrix.map(|t| {
                t.into_iter()
                    .map(|t| TransitionRow {
                        from: t.from,
                        to: t.to,
                        probability: t.probability,
                    })
                    .collect()
            }),
        }
    }
}

impl From<ValuedCredit> for AttributionCreditRow {
    fn from(c: ValuedCredit) -> Self {
        AttributionCreditRow {
            channel: c.channel,
            conversions: c.conversions,
            values: c.values.into_iter().map(CurrencyValue::from).collect(),
        }
    }
}

impl From<ValuedEffect> for RemovalEffectRow {
    fn from(e: ValuedEffect) -> Self {
        RemovalEffectRow {
            channel: e.channel,
            conversion: e.conversion,
            values: e
                .values
                .into_iter()
                .map(|v| CurrencyEffect {
                    currency: v.currency,
                    effect: v.effect,
                })
                .collect(),
        }
    }
}

impl From<CurrencyAmount> for CurrencyValue {
    fn from(a: CurrencyAmount) -> Self {
        CurrencyValue {
            currency: a.currency,
            amount: a.amount,
        }
    }
}

/// An ad-hoc path set (the JSON form of `POST /v1/attribution/compute`).
#[derive(Serialize, ToSchema)]
pub struct PathsBody {
    pub paths: Vec<PathBody>,
}

#[derive(Serialize, ToSchema)]
pub struct PathBody {
    /// Channels in the order touched.
    pub path: Vec<String>,
    /// Journeys along the path that converted (a number or decimal string).
    #[schema(value_type = String)]
    pub conversions: f64,
    /// Their total value (a number or decimal string; default 0).
    #[schema(value_type = Option<String>)]
    pub value: f64,
    /// Journeys along the path that did not convert (default 0).
    #[schema(value_type = Option<String>)]
    pub nulls: f64,
}

fn group_by_of(q: &mut Query<'_>) -> GroupBy {
    let raw = q.params.get("group_by").map(|s| s.trim().to_string());
    q.errors
        .take("group_by", GroupBy::parse(raw.as_deref()))
        .unwrap_or(GroupBy::Channel)
}

fn models_of(q: &mut Query<'_>, models: Option<&str>, paths_only: bool) -> Vec<Model> {
    let order = q.params.get("order").cloned();
    match parse_models(models, order.as_deref(), paths_only) {
        Ok(m) => m,
        Err(e) => {
            q.errors.add(e.field, e.message);
            Vec::new()
        }
    }
}

/// A report as JSON, or its credits as rows.
async fn report_response(
    format: Format,
    report: ValuedReport,
) -> Result<HttpResponse, TouchpointsError> {
    if format == Format::Json {
        return Ok(HttpResponse::Ok().json(AttributionReport::from(report)));
    }
    Ok(serve("attribution", format, move || credits::frame(&report)).await?)
}

/// The stored journeys ending in `[from, to)`, grouped by `group_by`.
fn stored_scope(
    config: &TouchpointsConfig,
    mut q: Query<'_>,
    group_by: GroupBy,
) -> Result<StoredJourneys, Problem> {
    let (from, to) = (q.time("from"), q.time("to"));
    q.finish()?;
    Ok(StoredJourneys {
        from,
        to,
        lookback_days: config.lookback_days,
        group_by,
    })
}

/// Every requested model's credits over the stored journeys: won deals (one conversion worth
/// the deal's value) and lost deals (null paths), each with its lead's touches in the lookback
/// window before it. Deals with no touch in the window are left out.
#[utoipa::path(
    get, path = "/v1/attribution", tag = "attribution",
    params(
        ("models" = Option<String>, Query, description = "Comma-separated models (first_touch, last_touch, last_non_direct, linear, time_decay, position_based, w_shaped, full_path, markov, shapley); default all"),
        ("order" = Option<u8>, Query, minimum = 1, maximum = 4, description = "Markov order, 1 to 4 (default 1)"),
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Conversions at or after (RFC 3339)"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "… and before (RFC 3339)"),
        ("group_by" = Option<String>, Query, description = "channel (default) or campaign: credits by the touches' campaign ids, `(none)` for touches without one"),
        ("format" = Option<platform::reports::Format>, Query, description = "json (default: the report), csv or parquet (rows of model, markov_order, channel, conversions and a value_<CURRENCY> column per currency)"),
    ),
    responses(
        (status = 200, description = "The report as JSON, or its credits as rows (model, markov_order, channel, conversions and a value_<CURRENCY> decimal column per currency) in CSV or Parquet with `format`", content(
            (AttributionReport = "application/json"),
            (platform::reports::NdjsonRows = "application/x-ndjson"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn get_attribution(
    db: web::Data<Db>,
    config: web::Data<TouchpointsConfig>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    let mut q = Query::new(
        &query,
        &["models", "order", "from", "to", "group_by", "format"],
    );
    let models = q.params.get("models").cloned();
    let models = models_of(&mut q, models.as_deref(), false);
    let group_by = group_by_of(&mut q);
    let format = q.format();
    let scope = stored_scope(&config, q, group_by)?;
    let report = usecase::stored_report(&db, scope, models).await?;
    report_response(format, report).await
}

/// Attributes ad-hoc aggregated paths: JSON (`{"paths": [{"path": ["email", "paid_search"],
/// "conversions": 3, "value": "120.50", "nulls": 10}]}`) or ChannelAttribution's CSV
/// (`text/csv`, header `path;total_conversions;total_conversion_value;total_null`, channels
/// joined by ` > `). Models that need touch times (time_decay, w_shaped, full_path) are
/// refused; by default every other model runs.
#[utoipa::path(
    post, path = "/v1/attribution/compute", tag = "attribution",
    params(
        ("models" = Option<String>, Query, description = "Comma-separated models; default every model that reads only paths"),
        ("order" = Option<u8>, Query, minimum = 1, maximum = 4, description = "Markov order, 1 to 4 (default 1)"),
        ("format" = Option<platform::reports::Format>, Query, description = "json (default), ndjson (one row object per line), csv or parquet"),
    ),
    request_body(
        content(
            (PathsBody = "application/json"),
            (String = "text/csv"),
        ),
    ),
    responses(
        (status = 200, description = "The report as JSON, or its credits as rows (model, markov_order, channel, conversions, and value: a decimal column, the paths' values carrying no currency) in CSV or Parquet with `format`", content(
            (AttributionReport = "application/json"),
            (platform::reports::NdjsonRows = "application/x-ndjson"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
        (status = 400, body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 413, body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 415, body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad query field, or the path or CSV line at fault (e.g. `paths[2].value`, `line 7`)", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn compute_paths(
    req: HttpRequest,
    mut payload: web::Payload,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    let mut q = Query::new(&query, &["models", "order", "format"]);
    let models = q.params.get("models").cloned();
    let models = models_of(&mut q, models.as_deref(), true);
    let format = q.format();
    q.finish()?;
    let (content_type, essence) = media_type(&req);
    let csv = match essence.as_str() {
        "text/csv" => true,
        "application/json" => false,
        _ => {
            return Err(Problem::unsupported_media_type(
                &content_type,
                "application/json or text/csv",
            )
            .into());
        }
    };
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| unreadable_body(e.to_string()))?;
        if body.len() + chunk.len() > COMPUTE_BODY_LIMIT {
            return Err(Problem::payload_too_large(COMPUTE_BODY_LIMIT).into());
        }
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(body.to_vec())
        .map_err(|e| unreadable_body(format!("the body is not UTF-8: {e}")))?;
    let report = usecase::adhoc_report(text, csv, models).await?;
    report_response(format, report).await
}

fn comparison_query<'a>(
    query: &'a HashMap<String, String>,
    allowed: &[&str],
) -> (Query<'a>, Vec<Model>, GroupBy) {
    let mut q = Query::new(query, allowed);
    let models = models_of(&mut q, None, false);
    let group_by = group_by_of(&mut q);
    (q, models, group_by)
}

/// Every model's credits per channel over the stored journeys, side by side: per model its
/// conversions (`<model>_conversions`) and their share of all conversions (`<model>_share`),
/// and per channel the `spread` (largest minus smallest share across models).
#[utoipa::path(
    get, path = "/v1/reports/attribution-comparison", tag = "reports",
    params(
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Conversions at or after (RFC 3339)"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query),
        ("order" = Option<u8>, Query, minimum = 1, maximum = 4, description = "Markov order, 1 to 4 (default 1)"),
        ("group_by" = Option<String>, Query, description = "channel (default) or campaign"),
        ("format" = Option<platform::reports::Format>, Query, description = "json (default), ndjson (one row object per line), csv or parquet"),
    ),
    responses(
        (status = 200, description = "One row per channel: channel, <model>_conversions and <model>_share for each model, spread", content(
            (platform::reports::JsonRows = "application/json"),
            (platform::reports::NdjsonRows = "application/x-ndjson"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn comparison(
    db: web::Data<Db>,
    config: web::Data<TouchpointsConfig>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    let (mut q, models, group_by) =
        comparison_query(&query, &["from", "to", "order", "group_by", "format"]);
    let format = q.format();
    let scope = stored_scope(&config, q, group_by)?;
    let report = usecase::stored_conversions(&db, scope, models).await?;
    let frame = move || Comparison::new(&report).frame();
    Ok(serve("attribution-comparison", format, frame).await?)
}

/// The comparison as a grouped bar chart: one group per channel, one bar per model (its
/// share of the conversions).
#[utoipa::path(
    get, path = "/v1/reports/attribution-comparison.svg", tag = "reports",
    params(
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Conversions at or after (RFC 3339)"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query),
        ("order" = Option<u8>, Query, minimum = 1, maximum = 4, description = "Markov order, 1 to 4 (default 1)"),
        ("group_by" = Option<String>, Query, description = "channel (default) or campaign"),
    ),
    responses(
        (status = 200, description = "An SVG image", content_type = "image/svg+xml"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn comparison_svg(
    db: web::Data<Db>,
    config: web::Data<TouchpointsConfig>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    let (q, models, group_by) = comparison_query(&query, &["from", "to", "order", "group_by"]);
    let scope = stored_scope(&config, q, group_by)?;
    let report = usecase::stored_conversions(&db, scope, models).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .body(Comparison::new(&report).svg()))
}
