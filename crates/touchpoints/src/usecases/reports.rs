//! Report inputs: each report's rows exported from PostgreSQL, and the frame built from them
//! (off the async workers, by `platform::reports::serve`).

use platform::{Db, Settings};
use polars::prelude::{DataFrame, PolarsResult};

use crate::domain::affiliate::DEFAULT_COOKIE_WINDOW_DAYS;
use crate::error::TouchpointsError;
use crate::reports;
use crate::store::affiliates as terms;
use crate::store::reports as source;

pub use crate::store::reports::Window;

async fn export(settings: &Settings, sql: &str) -> Result<Vec<u8>, TouchpointsError> {
    Ok(platform::db::copy_csv(&settings.database, sql).await?)
}

pub async fn campaign_performance(
    settings: &Settings,
    window: Window,
    lookback_days: u32,
) -> Result<impl FnOnce() -> PolarsResult<DataFrame> + Send + 'static, TouchpointsError> {
    let csv = export(settings, &source::campaign_sql(window, lookback_days)).await?;
    Ok(move || reports::campaign_performance(&csv))
}

/// The affiliates' figures in the window, with the terms of every affiliate that has some.
pub async fn affiliates(
    db: &Db,
    settings: &Settings,
    window: Window,
) -> Result<impl FnOnce() -> PolarsResult<DataFrame> + Send + 'static, TouchpointsError> {
    let sql = source::affiliates_sql(window, DEFAULT_COOKIE_WINDOW_DAYS);
    let csv = export(settings, &sql).await?;
    let rows = db
        .run(|conn| terms::all(conn).map_err(TouchpointsError::from))
        .await?;
    let terms: Vec<_> = rows
        .iter()
        .filter_map(|r| r.terms().map(|t| (r.id.clone(), t)))
        .collect();
    Ok(move || reports::affiliates_report(&reports::affiliate_figures(&csv)?, &terms))
}

pub async fn journey_lengths(
    settings: &Settings,
    window: Window,
    lookback_days: u32,
) -> Result<impl FnOnce() -> PolarsResult<DataFrame> + Send + 'static, TouchpointsError> {
    let csv = export(settings, &source::journeys_sql(window, lookback_days)).await?;
    Ok(move || reports::journey_lengths(&csv))
}

pub async fn top_paths(
    settings: &Settings,
    window: Window,
    lookback_days: u32,
    limit: u32,
) -> Result<impl FnOnce() -> PolarsResult<DataFrame> + Send + 'static, TouchpointsError> {
    let csv = export(settings, &source::journeys_sql(window, lookback_days)).await?;
    Ok(move || reports::top_paths(&csv, limit))
}
