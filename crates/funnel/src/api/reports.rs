//! `GET /v1/funnels/{id}/report` (JSON, CSV or Parquet) and `report.svg`, the chart of the
//! same report. Both take the same parameters.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use platform::Db;
use platform::reports::Format;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{Query, path_id, version};
use crate::domain::funnel::Span;
use crate::domain::matching::Order;
use crate::error::FunnelError;
use crate::reports::{self, BREAKDOWNS, Cohort, FunnelReport, Params, Part};
use crate::usecases::reports::{ReportRequest, funnel_report as report_of};

/// Query of the funnel report.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ReportParams {
    /// Deals opened at or after (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Deals opened before (RFC 3339).
    to: Option<DateTime<Utc>>,
    /// How deals must pass the stages; `ordered` by default.
    #[param(inline)]
    order: Option<OrderParam>,
    /// Conversion window from the first to the last matched step, e.g. `30d`.
    window: Option<String>,
    /// What to break the report down by, each value with its stage table and its summary
    /// (win rate, cycle, average deal size per currency): a deal attribute, the deal's
    /// `methodology`, or its `stakeholder_coverage` (`covered` when its stakeholders include
    /// a champion and an economic buyer, else `not_covered`).
    #[param(inline)]
    breakdown: Option<BreakdownParam>,
    /// Conversion trends by the deals' open date, by week or month.
    #[param(inline)]
    cohort: Option<CohortParam>,
    /// Funnel version to report on; the current one by default.
    #[param(minimum = 1)]
    version: Option<i32>,
    /// json (default), ndjson (one row object per line), csv or parquet.
    format: Option<Format>,
    /// The table a file (ndjson, csv, parquet) holds: `stages` (default; a row per segment
    /// and stage), `summary` (a row per currency: counts, win rate, cycle, average deal
    /// size, sales velocity), `loss_reasons`, or `segment_summary` (the summary of each
    /// breakdown value and cohort, a row per segment, value and currency; needs `breakdown`
    /// or `cohort`). JSON holds them all.
    #[param(inline)]
    part: Option<PartParam>,
}

/// `part`: stages, summary, loss_reasons or segment_summary.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum PartParam {
    Stages,
    Summary,
    LossReasons,
    SegmentSummary,
}

/// `order`: ordered (matched stages in time order), strict (and each immediately after the
/// previous in the deal's history) or any (in any order).
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum OrderParam {
    Strict,
    Ordered,
    Any,
}

/// `breakdown`: one of `reports::BREAKDOWNS`.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum BreakdownParam {
    Source,
    Campaign,
    Channel,
    Owner,
    Segment,
    Methodology,
    StakeholderCoverage,
}

/// `cohort`: week or month.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum CohortParam {
    Week,
    Month,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportResponse {
    pub funnel_id: Uuid,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub report: FunnelReport,
}

/// The report's request, the format to answer in and, for a file, its part.
fn parse(
    id: &str,
    raw: &HashMap<String, String>,
) -> Result<(ReportRequest, Format, Part), FunnelError> {
    let funnel_id = path_id(id)?;
    let mut q = Query::new(
        raw,
        &[
            "from",
            "to",
            "order",
            "window",
            "breakdown",
            "cohort",
            "version",
            "format",
            "part",
        ],
    );
    let from = q.time("from");
    let to = q.time("to");
    let order = q
        .text("order")
        .and_then(|o| q.errors.take("order", o.parse::<Order>()))
        .unwrap_or(Order::Ordered);
    let window = q
        .text("window")
        .and_then(|w| q.errors.take("window", Span::parse(&w)));
    let breakdown = q.text("breakdown");
    if let Some(b) = &breakdown
        && !BREAKDOWNS.contains(&b.as_str())
    {
        q.errors.add(
            "breakdown",
            format!("must be one of {}", BREAKDOWNS.join(", ")),
        );
    }
    let cohort = q
        .text("cohort")
        .and_then(|c| q.errors.take("cohort", Cohort::parse(&c)));
    let version = version(&mut q);
    let format = q.format();
    let part = q.parse(
        "part",
        "one of stages, summary, loss_reasons, segment_summary",
        Part::parse,
    );
    if part.is_some() && format == Format::Json {
        q.errors.add(
            "part",
            "applies to ndjson, csv and parquet: the JSON report holds every part",
        );
    } else if part == Some(Part::SegmentSummary) && breakdown.is_none() && cohort.is_none() {
        q.errors.add(
            "part",
            "segment_summary needs breakdown or cohort: it summarises their segments",
        );
    }
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        q.errors.add("to", "must be after from");
    }
    q.finish()?;
    let request = ReportRequest {
        funnel_id,
        from,
        to,
        version,
        params: Params {
            order,
            window,
            breakdown,
            cohort,
        },
    };
    Ok((request, format, part.unwrap_or_default()))
}

/// Per-stage conversion, drop-off and timing; breakdowns, cohort trends and the summary.
#[utoipa::path(
    get, path = "/v1/funnels/{id}/report", tag = "reports",
    params(("id" = Uuid, Path), ReportParams),
    responses(
        (status = 200, description = "The report: JSON by default, or one of its tables (`part`: stages by default, summary, loss_reasons, segment_summary) as NDJSON, CSV or Parquet with `format`", content(
            (ReportResponse = "application/json"),
            (platform::reports::NdjsonRows = "application/x-ndjson"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn funnel_report(
    db: web::Data<Db>,
    id: web::Path<String>,
    raw: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, FunnelError> {
    let (r, format, part) = parse(&id, &raw)?;
    let (_, report) = report_of(&db, &r).await?;
    if format == Format::Json {
        return Ok(HttpResponse::Ok().json(ReportResponse {
            funnel_id: r.funnel_id,
            from: r.from,
            to: r.to,
            report,
        }));
    }
    let frame = move || part.frame(&report);
    Ok(platform::reports::serve("funnel-report", format, frame).await?)
}

/// The funnel report as an SVG chart: a bar per stage with its conversion.
#[utoipa::path(
    get, path = "/v1/funnels/{id}/report.svg", tag = "reports",
    params(("id" = Uuid, Path), ReportParams),
    responses(
        (status = 200, content_type = "image/svg+xml", body = String),
    )
)]
pub async fn funnel_chart(
    db: web::Data<Db>,
    id: web::Path<String>,
    raw: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, FunnelError> {
    let (r, _, _) = parse(&id, &raw)?;
    let (name, report) = report_of(&db, &r).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .body(reports::chart::svg(&name, &report)))
}
