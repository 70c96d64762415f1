//! Attribution over stored journeys (`GET /v1/attribution`), over ad-hoc paths as JSON or
//! ChannelAttribution CSV (`POST /v1/attribution/compute`), and the model comparison report
//! with its chart.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use attribution::{Model, Report};
use futures::StreamExt;
use platform::http::query::Query;
use platform::reports::{Format, serve};
use platform::{Db, Problem};
use serde::Serialize;
use utoipa::ToSchema;

use super::media_type;
use crate::config::TouchpointsConfig;
use crate::domain::attribution::{GroupBy, parse_models};
use crate::error::{TouchpointsError, unreadable_body};
use crate::reports::attribution::{Comparison, credits_frame};
use crate::usecases::attribution::{self as usecase, StoredJourneys};

/// Largest body of `POST /v1/attribution/compute`.
pub const COMPUTE_BODY_LIMIT: usize = 16 << 20;

/// The engine's report (documentation only: the body is the engine's serialisation).
#[derive(Serialize, ToSchema)]
pub struct AttributionReport {
    /// Conversions the models distribute (won deals, or the paths' conversions).
    pub total_conversions: f64,
    /// Their value: the sum of the conversions' values, whatever their currencies.
    pub total_value: f64,
    /// One entry per model, in the order asked.
    pub results: Vec<AttributionResult>,
}

#[derive(Serialize, ToSchema)]
pub struct AttributionResult {
    /// The model's name, e.g. `markov`, `linear`.
    pub model: String,
    /// The Markov chain's order; Markov only.
    pub order: Option<u8>,
    /// One entry per channel (or campaign), sorted by name.
    pub credits: Vec<AttributionCreditRow>,
    /// Markov only: `1 - P(conversion | channel removed) / P(conversion)`.
    pub removal_effects: Option<Vec<RemovalEffectRow>>,
    /// Markov only: the chain's observed transitions.
    pub transition_matrix: Option<Vec<TransitionRow>>,
}

#[derive(Serialize, ToSchema)]
pub struct AttributionCreditRow {
    /// The channel, or the campaign id with `group_by=campaign` (`(none)` for touches
    /// without one).
    pub channel: String,
    pub conversions: f64,
    pub value: f64,
}

#[derive(Serialize, ToSchema)]
pub struct RemovalEffectRow {
    pub channel: String,
    pub conversion: f64,
    pub value: f64,
}

#[derive(Serialize, ToSchema)]
pub struct TransitionRow {
    pub from: String,
    pub to: String,
    pub probability: f64,
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

/// A report as JSON (the engine's shape) or its credits as rows.
async fn report_response(format: Format, report: Report) -> Result<HttpResponse, TouchpointsError> {
    if format == Format::Json {
        return Ok(HttpResponse::Ok().json(report));
    }
    Ok(serve("attribution", format, move || credits_frame(&report)).await?)
}

/// Attributes the stored journeys ending in `[from, to)` with `models`.
async fn stored_report(
    db: &Db,
    config: &TouchpointsConfig,
    mut q: Query<'_>,
    models: Vec<Model>,
    group_by: GroupBy,
) -> Result<Report, TouchpointsError> {
    let (from, to) = (q.time("from"), q.time("to"));
    q.finish()?;
    let scope = StoredJourneys {
        from,
        to,
        lookback_days: config.lookback_days,
        group_by,
    };
    usecase::stored_report(db, scope, models).await
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
        ("format" = Option<platform::reports::Format>, Query, description = "json (default: the report), csv or parquet (rows of model, order, channel, conversions, value)"),
    ),
    responses(
        (status = 200, description = "The report as JSON, or its credits as rows (model, order, channel, conversions, value) in CSV or Parquet with `format`", content(
            (AttributionReport = "application/json"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
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
    let report = stored_report(&db, &config, q, models, group_by).await?;
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
        ("format" = Option<platform::reports::Format>, Query, description = "json (default), csv or parquet"),
    ),
    request_body(
        content(
            (PathsBody = "application/json"),
            (String = "text/csv"),
        ),
    ),
    responses(
        (status = 200, description = "The report as JSON, or its credits as rows (model, order, channel, conversions, value) in CSV or Parquet with `format`", content(
            (AttributionReport = "application/json"),
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
        ("format" = Option<platform::reports::Format>, Query, description = "json (default), csv or parquet"),
    ),
    responses(
        (status = 200, description = "One row per channel: channel, <model>_conversions and <model>_share for each model, spread", content(
            (platform::reports::JsonRows = "application/json"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
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
    let report = stored_report(&db, &config, q, models, group_by).await?;
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
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn comparison_svg(
    db: web::Data<Db>,
    config: web::Data<TouchpointsConfig>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    let (q, models, group_by) = comparison_query(&query, &["from", "to", "order", "group_by"]);
    let report = stored_report(&db, &config, q, models, group_by).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .body(Comparison::new(&report).svg()))
}
