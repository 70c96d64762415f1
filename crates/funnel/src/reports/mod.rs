//! The funnel report: per-stage conversion, drop-off and timing, by breakdown and by cohort,
//! plus win rate, deal size, cycle length, sales velocity and loss reasons.
//!
//! Pure: deals and their moves in, a `FunnelReport` out. Which steps a deal completed comes
//! from `domain::matching`; the per-stage aggregates (counts, mean, median, p90) are polars
//! group-bys; money is summed with rust_decimal.

pub mod chart;
mod frame;
mod model;
mod rows;
mod stages;
mod summary;

use chrono::{DateTime, Datelike, Duration, Utc};
use rust_decimal::Decimal;

use crate::domain::funnel::Span;
use crate::domain::log::Status;
use crate::domain::matching::Order;

pub use frame::{Part, frame};
pub use model::{FunnelReport, LossReason, MoneyFigure, Segment, StageStats, Summary, Timing};
pub use stages::compute;

/// What a report can break down by: the deal attributes, the deal's selling methodology, and
/// its stakeholder coverage.
pub const BREAKDOWNS: [&str; 7] = [
    "source",
    "campaign",
    "channel",
    "owner",
    "segment",
    "methodology",
    "stakeholder_coverage",
];

/// The values of the `stakeholder_coverage` breakdown: a deal is covered when its
/// stakeholders include a champion and an economic buyer (the two a deal most needs on its
/// side), not covered otherwise.
pub const COVERAGE: [&str; 2] = ["covered", "not_covered"];

/// Value of a breakdown for deals that lack the attribute.
pub const NONE_KEY: &str = "(none)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cohort {
    Week,
    Month,
}

impl Cohort {
    pub fn parse(s: &str) -> Result<Cohort, String> {
        match s {
            "week" => Ok(Cohort::Week),
            "month" => Ok(Cohort::Month),
            _ => Err("must be week or month".into()),
        }
    }

    /// The cohort a deal opened at `t` belongs to: the Monday of its ISO week, or its month.
    pub fn label(self, t: DateTime<Utc>) -> String {
        let d = t.date_naive();
        match self {
            Cohort::Week => {
                (d - Duration::days(d.weekday().num_days_from_monday() as i64)).to_string()
            }
            Cohort::Month => format!("{:04}-{:02}", d.year(), d.month()),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Cohort::Week => "week",
            Cohort::Month => "month",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Params {
    pub order: Order,
    pub window: Option<Span>,
    pub breakdown: Option<String>,
    pub cohort: Option<Cohort>,
}

/// One deal as the report sees it. `moves` are (stage, time) in effect order.
#[derive(Debug, Clone)]
pub struct DealFacts {
    pub key: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub status: Status,
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<String>,
    pub moves: Vec<(String, DateTime<Utc>)>,
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}
