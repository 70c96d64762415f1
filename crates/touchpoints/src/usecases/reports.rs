//! Report inputs: each report's rows exported from PostgreSQL, and how its frame is built from
//! them (off the async workers, by `platform::reports::serve`).

use platform::{Db, Settings};
use polars::prelude::{DataFrame, PolarsResult};

use crate::domain::affiliate::DEFAULT_COOKIE_WINDOW_DAYS;
use crate::error::TouchpointsError;
use crate::reports;
use crate::store::affiliates as terms;
use crate::store::reports as source;

pub use crate::store::reports::Window;

/// The reports over touches, journeys and affiliates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    CampaignPerformance,
    Affiliates,
    JourneyLengths,
    TopPaths { limit: u32 },
}

/// Builds a report's frame from the rows read for it.
pub type Frame = Box<dyn FnOnce() -> PolarsResult<DataFrame> + Send>;

/// Reads the rows of `report` over `window` (journeys reach `lookback_days` back from their
/// conversions) and returns how to build its frame.
pub async fn frame(
    db: &Db,
    settings: &Settings,
    report: Report,
    window: Window,
    lookback_days: u32,
) -> Result<Frame, TouchpointsError> {
    let export = |sql: String| async move {
        platform::db::copy_csv(&settings.database, &sql)
            .await
            .map_err(TouchpointsError::from)
    };
    Ok(match report {
        Report::CampaignPerformance => {
            let csv = export(source::campaign_sql(window, lookback_days)).await?;
            Box::new(move || reports::campaign_performance(&csv))
        }
        Report::Affiliates => {
            let csv = export(source::affiliates_sql(window, DEFAULT_COOKIE_WINDOW_DAYS)).await?;
            let rows = db
                .run(|conn| terms::all(conn).map_err(TouchpointsError::from))
                .await?;
            // Every affiliate that has terms, with them.
            let terms: Vec<_> = rows
                .iter()
                .filter_map(|r| r.terms().map(|t| (r.id.clone(), t)))
                .collect();
            Box::new(move || reports::affiliates_report(&reports::affiliate_figures(&csv)?, &terms))
        }
        Report::JourneyLengths => {
            let csv = export(source::journeys_sql(window, lookback_days)).await?;
            Box::new(move || reports::journey_lengths(&csv))
        }
        Report::TopPaths { limit } => {
            let csv = export(source::journeys_sql(window, lookback_days)).await?;
            Box::new(move || reports::top_paths(&csv, limit))
        }
    })
}
