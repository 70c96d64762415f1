//! Reports (polars): campaign performance, affiliates, journey lengths and top paths. Each
//! takes `?from=&to=&format=json|csv|parquet`.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use platform::http::query::Query;
use platform::reports::{Format, serve};
use platform::{Db, Problem, Settings};

use super::int_param;
use crate::config::TouchpointsConfig;
use crate::error::TouchpointsError;
use crate::usecases::reports::{self as usecase, Report, Window};

/// What a report request asks for: its window and format, and the `limit` of a report that
/// takes one (1 to 500, default 20).
struct Asked {
    window: Window,
    format: Format,
    limit: u32,
}

fn read_query(query: &HashMap<String, String>, with_limit: bool) -> Result<Asked, Problem> {
    let allowed: &[&str] = if with_limit {
        &["from", "to", "format", "limit"]
    } else {
        &["from", "to", "format"]
    };
    let mut q = Query::new(query, allowed);
    let window = Window {
        from: q.time("from"),
        to: q.time("to"),
    };
    let format = q.format();
    let limit = if with_limit {
        int_param(&mut q, "limit", 1, 500).unwrap_or(20)
    } else {
        0
    };
    q.finish()?;
    Ok(Asked {
        window,
        format,
        limit,
    })
}

/// Reads `report`'s rows and serves it as `name` in the format asked.
async fn answer(
    name: &str,
    report: Report,
    asked: Asked,
    db: &Db,
    settings: &Settings,
    config: &TouchpointsConfig,
) -> Result<HttpResponse, TouchpointsError> {
    let lookback = config.lookback_days;
    let frame = usecase::frame(db, settings, report, asked.window, lookback).await?;
    Ok(serve(name, asked.format, frame).await?)
}

/// By campaign, channel and UTC day: impressions, viewable impressions, viewability %,
/// clicks, CTR, cost, CPM, vCPM, CPC, conversions, conversion value and CPA. A won
/// conversion counts for the campaign of the last touch with a campaign in its journey.
#[utoipa::path(
    get, path = "/v1/reports/campaign-performance", tag = "reports",
    params(
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Touches and conversions at or after (RFC 3339)"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "… and before (RFC 3339)"),
        ("format" = Option<platform::reports::Format>, Query, description = "json (default), ndjson (one row object per line), csv or parquet"),
    ),
    responses(
        (status = 200, description = "One row per (campaign_id, channel, day); money as decimal strings, rates as numbers, null when undefined", content(
            (platform::reports::JsonRows = "application/json"),
            (platform::reports::NdjsonRows = "application/x-ndjson"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
    )
)]
pub async fn campaign_performance(
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    config: web::Data<TouchpointsConfig>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    let asked = read_query(&query, false)?;
    let report = Report::CampaignPerformance;
    answer(
        "campaign-performance",
        report,
        asked,
        &db,
        &settings,
        &config,
    )
    .await
}

/// Per affiliate: leads referred, conversions in the cookie window, commission under the
/// affiliate's model, clawback of counted deals lost later, and net commission.
#[utoipa::path(
    get, path = "/v1/reports/affiliates", tag = "reports",
    params(
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Affiliate touches and conversions at or after (RFC 3339)"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query),
        ("format" = Option<platform::reports::Format>, Query, description = "json (default), ndjson (one row object per line), csv or parquet"),
    ),
    responses(
        (status = 200, description = "One row per affiliate with terms or activity", content(
            (platform::reports::JsonRows = "application/json"),
            (platform::reports::NdjsonRows = "application/x-ndjson"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
    )
)]
pub async fn affiliates(
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    config: web::Data<TouchpointsConfig>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    let asked = read_query(&query, false)?;
    let report = Report::Affiliates;
    answer("affiliates", report, asked, &db, &settings, &config).await
}

/// How many journeys (by kind: won, lost, micro) have each number of touches.
#[utoipa::path(
    get, path = "/v1/reports/journey-lengths", tag = "reports",
    params(
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Conversions at or after (RFC 3339)"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query),
        ("format" = Option<platform::reports::Format>, Query, description = "json (default), ndjson (one row object per line), csv or parquet"),
    ),
    responses(
        (status = 200, description = "Rows of kind, touches, journeys", content(
            (platform::reports::JsonRows = "application/json"),
            (platform::reports::NdjsonRows = "application/x-ndjson"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
    )
)]
pub async fn journey_lengths(
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    config: web::Data<TouchpointsConfig>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    let asked = read_query(&query, false)?;
    let report = Report::JourneyLengths;
    answer("journey-lengths", report, asked, &db, &settings, &config).await
}

/// The most converting channel paths, with their won and lost journeys.
#[utoipa::path(
    get, path = "/v1/reports/top-paths", tag = "reports",
    params(
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Conversions at or after (RFC 3339)"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query),
        ("format" = Option<platform::reports::Format>, Query, description = "json (default), ndjson (one row object per line), csv or parquet"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "Paths returned, 1 to 500 (default 20)"),
    ),
    responses(
        (status = 200, description = "Rows of path, touches, conversions, non_conversions, micro_conversions, conversion_rate, conversion_value", content(
            (platform::reports::JsonRows = "application/json"),
            (platform::reports::NdjsonRows = "application/x-ndjson"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
    )
)]
pub async fn top_paths(
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    config: web::Data<TouchpointsConfig>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, TouchpointsError> {
    let asked = read_query(&query, true)?;
    let report = Report::TopPaths { limit: asked.limit };
    answer("top-paths", report, asked, &db, &settings, &config).await
}
