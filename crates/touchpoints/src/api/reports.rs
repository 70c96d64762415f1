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
use crate::usecases::reports::{self as usecase, Window};

/// The window and format every report takes, and the `limit` of those that take one
/// (1 to 1000, default 20).
fn params(
    query: &HashMap<String, String>,
    with_limit: bool,
) -> Result<(Window, Format, u32), Problem> {
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
        int_param(&mut q, "limit", 1, 1000).unwrap_or(20)
    } else {
        0
    };
    q.finish()?;
    Ok((window, format, limit))
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
    let (window, format, _) = params(&query, false)?;
    let frame = usecase::campaign_performance(&settings, window, config.lookback_days).await?;
    Ok(serve("campaign-performance", format, frame).await?)
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
    let (window, format, _) = params(&query, false)?;
    let frame = usecase::affiliates(&db, &settings, window).await?;
    Ok(serve("affiliates", format, frame).await?)
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
    let (window, format, _) = params(&query, false)?;
    let frame = usecase::journey_lengths(&settings, window, config.lookback_days).await?;
    Ok(serve("journey-lengths", format, frame).await?)
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
    let (window, format, limit) = params(&query, true)?;
    let frame = usecase::top_paths(&settings, window, config.lookback_days, limit).await?;
    Ok(serve("top-paths", format, frame).await?)
}
