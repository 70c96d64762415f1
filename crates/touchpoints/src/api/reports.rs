//! Reports (polars): campaign performance, affiliates, journey lengths and top paths. Each
//! takes `?from=&to=&format=json|csv|parquet`.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use platform::{Db, Settings};
use polars::prelude::DataFrame;

use platform::http::query::Query;
use platform::reports::{Format, render, respond};

use super::int_param;
use crate::config::TouchpointsConfig;
use crate::domain::affiliate::DEFAULT_COOKIE_WINDOW_DAYS;
use crate::error::TouchpointsError;
use crate::reports;
use crate::store::affiliates as terms_store;
use crate::store::reports::{self as source, Window};

struct Common {
    window: Window,
    format: Format,
}

fn common(q: &mut Query<'_>) -> Common {
    let window = Window {
        from: q.time("from"),
        to: q.time("to"),
    };
    let format = q.format();
    Common { window, format }
}

/// Runs CPU-bound polars work (and rendering) off the async workers.
async fn run<F>(format: Format, f: F) -> Result<Vec<u8>, TouchpointsError>
where
    F: FnOnce() -> polars::prelude::PolarsResult<DataFrame> + Send + 'static,
{
    Ok(platform::reports::compute(move || f().and_then(|mut df| render(&mut df, format))).await?)
}

async fn export(settings: &Settings, sql: &str) -> Result<Vec<u8>, TouchpointsError> {
    Ok(platform::db::copy_csv(&settings.database, sql).await?)
}

/// By campaign, channel and UTC day: impressions, viewable impressions, viewability %,
/// clicks, CTR, cost, CPM, vCPM, CPC, conversions, conversion value and CPA. A won
/// conversion counts for the campaign of the last touch with a campaign in its journey.
#[utoipa::path(
    get, path = "/v1/reports/campaign-performance", tag = "reports",
    params(
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Touches and conversions at or after (RFC 3339)"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "… and before (RFC 3339)"),
        ("format" = Option<platform::reports::Format>, Query, description = "json (default), csv or parquet"),
    ),
    responses(
        (status = 200, description = "One row per (campaign_id, channel, day); money as decimal strings, rates as numbers, null when undefined", content(
            (platform::reports::JsonRows = "application/json"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn campaign_performance(
    settings: web::Data<Settings>,
    config: web::Data<TouchpointsConfig>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    let mut q = Query::new(&query, &["from", "to", "format"]);
    let c = common(&mut q);
    q.finish()?;
    let csv = export(
        &settings,
        &source::campaign_sql(c.window, config.lookback_days),
    )
    .await?;
    let body = run(c.format, move || reports::campaign_performance(&csv)).await?;
    Ok(respond("campaign-performance", c.format, body))
}

/// Per affiliate: leads referred, conversions in the cookie window, commission under the
/// affiliate's model, clawback of counted deals lost later, and net commission.
#[utoipa::path(
    get, path = "/v1/reports/affiliates", tag = "reports",
    params(
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Affiliate touches and conversions at or after (RFC 3339)"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query),
        ("format" = Option<platform::reports::Format>, Query, description = "json (default), csv or parquet"),
    ),
    responses(
        (status = 200, description = "One row per affiliate with terms or activity", content(
            (platform::reports::JsonRows = "application/json"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn affiliates(
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    let mut q = Query::new(&query, &["from", "to", "format"]);
    let c = common(&mut q);
    q.finish()?;
    let csv = export(
        &settings,
        &source::affiliates_sql(c.window, DEFAULT_COOKIE_WINDOW_DAYS),
    )
    .await?;
    let rows = db
        .run(|conn| terms_store::all(conn).map_err(TouchpointsError::from))
        .await?;
    let terms: Vec<_> = rows
        .iter()
        .filter_map(|r| r.terms().map(|t| (r.id.clone(), t)))
        .collect();
    let body = run(c.format, move || {
        let figures = reports::affiliate_figures(&csv)?;
        reports::affiliates_report(&figures, &terms)
    })
    .await?;
    Ok(respond("affiliates", c.format, body))
}

/// How many journeys (by kind: won, lost, micro) have each number of touches.
#[utoipa::path(
    get, path = "/v1/reports/journey-lengths", tag = "reports",
    params(
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Conversions at or after (RFC 3339)"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query),
        ("format" = Option<platform::reports::Format>, Query, description = "json (default), csv or parquet"),
    ),
    responses(
        (status = 200, description = "Rows of kind, touches, journeys", content(
            (platform::reports::JsonRows = "application/json"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn journey_lengths(
    settings: web::Data<Settings>,
    config: web::Data<TouchpointsConfig>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    let mut q = Query::new(&query, &["from", "to", "format"]);
    let c = common(&mut q);
    q.finish()?;
    let csv = export(
        &settings,
        &source::journeys_sql(c.window, config.lookback_days),
    )
    .await?;
    let body = run(c.format, move || reports::journey_lengths(&csv)).await?;
    Ok(respond("journey-lengths", c.format, body))
}

/// The most converting channel paths, with their won and lost journeys.
#[utoipa::path(
    get, path = "/v1/reports/top-paths", tag = "reports",
    params(
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Conversions at or after (RFC 3339)"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query),
        ("format" = Option<platform::reports::Format>, Query, description = "json (default), csv or parquet"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Paths returned, 1 to 1000 (default 20)"),
    ),
    responses(
        (status = 200, description = "Rows of path, touches, conversions, non_conversions, micro_conversions, conversion_rate, conversion_value", content(
            (platform::reports::JsonRows = "application/json"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn top_paths(
    settings: web::Data<Settings>,
    config: web::Data<TouchpointsConfig>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    let mut q = Query::new(&query, &["from", "to", "format", "limit"]);
    let c = common(&mut q);
    let limit = int_param(&mut q, "limit", 1, 1000).unwrap_or(20);
    q.finish()?;
    let csv = export(
        &settings,
        &source::journeys_sql(c.window, config.lookback_days),
    )
    .await?;
    let body = run(c.format, move || reports::top_paths(&csv, limit)).await?;
    Ok(respond("top-paths", c.format, body))
}
