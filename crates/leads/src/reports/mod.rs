//! Lead reports: polars frames built from the store's CSV export, the report computations and their JSON/CSV/Parquet rendering.
//!
//! Everything here is pure: bytes in, `DataFrame` or bytes out. The store produces the CSV, the
//! API picks the window and the format.

mod abm;
mod frames;
mod lead_quality;
#[cfg(test)]
mod render;
mod score_distribution;

#[cfg(test)]
mod fixtures;

use chrono::{DateTime, Utc};
use polars::prelude::*;

pub use abm::{ABM_TIERS, abm_engagement};
pub use frames::{accounts_frame, leads_frame};
pub use lead_quality::lead_quality;
pub use platform::reports::{Format, render};
pub use score_distribution::score_distribution;

/// A half-open `[from, to)` window on a lead's `created_at`; an open end is unbounded.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Window {
    /// Keeps the rows whose `created_at` lies in the window.
    ///
    /// The comparison is on the physical epoch microseconds, so it works whether `created_at`
    /// is `Datetime(us, UTC)` (as `leads_frame` makes it) or a plain `i64`.
    fn apply(self, leads: &DataFrame) -> LazyFrame {
        let created_at = || col("created_at").cast(DataType::Int64);
        let mut frame = leads.clone().lazy();
        if let Some(from) = self.from {
            frame = frame.filter(created_at().gt_eq(lit(from.timestamp_micros())));
        }
        if let Some(to) = self.to {
            frame = frame.filter(created_at().lt(lit(to.timestamp_micros())));
        }
        frame
    }
}
