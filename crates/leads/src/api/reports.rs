//! Lead reports (polars): lead quality by source and campaign, score distribution, ABM
//! engagement. Each takes `?from=&to=&format=json|csv|parquet`.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use platform::reports::{compute, respond, serve};
use platform::{Db, Settings};
use polars::prelude::{DataFrame, PolarsResult};

use super::Query;
use super::accounts::AbmTier;
use crate::domain::account;
use crate::error::LeadsError;
use crate::reports::{self, Format, Window};
use crate::usecases::reports::{Export, export};

/// The window and format every report takes; the report's own parameters follow.
fn common(q: &mut Query<'_>) -> (Window, Format) {
    let window = Window {
        from: q.time("from"),
        to: q.time("to"),
    };
    (window, q.format())
}

/// The frame of an export's CSV.
fn frame(what: Export, csv: &[u8]) -> PolarsResult<DataFrame> {
    match what {
        Export::Leads => reports::leads_frame(csv),
        Export::Accounts => reports::accounts_frame(csv),
    }
}

/// Serves the report `name` in `format`: `build` makes it from the frame of the export.
async fn report<F>(
    db: &Db,
    settings: &Settings,
    what: Export,
    name: &str,
    format: Format,
    build: F,
) -> Result<HttpResponse, LeadsError>
where
    F: FnOnce(DataFrame) -> PolarsResult<DataFrame> + Send + 'static,
{
    let csv = export(db, settings, what).await?;
    Ok(serve(name, format, move || build(frame(what, &csv)?)).await?)
}

/// Lead count, mean fit and engagement, MQL/SQL/customer rates and median days from lead
/// to MQL, by source and by campaign.
#[utoipa::path(
    get, path = "/v1/reports/lead-quality", tag = "reports",
    params(
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Leads created at or after (RFC 3339)"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Leads created before (RFC 3339)"),
        ("format" = Option<platform::reports::Format>, Query, description = "json (default), ndjson (one row object per line), csv or parquet"),
    ),
    responses(
        (status = 200, description = "One row per (dimension, value)", content(
            (platform::reports::JsonRows = "application/json"),
            (platform::reports::NdjsonRows = "application/x-ndjson"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
    )
)]
pub async fn lead_quality(
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, LeadsError> {
    let mut q = Query::new(&query, &["from", "to", "format"]);
    let (window, format) = common(&mut q);
    q.finish()?;
    report(
        &db,
        &settings,
        Export::Leads,
        "lead-quality",
        format,
        move |leads| reports::lead_quality(&leads, window),
    )
    .await
}

/// Histograms of fit and engagement scores (`part=histogram`) and the A1–C3 grade matrix
/// (`part=grades`). JSON without `part` returns both.
#[utoipa::path(
    get, path = "/v1/reports/score-distribution", tag = "reports",
    params(
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query), ("to" = Option<chrono::DateTime<chrono::Utc>>, Query),
        ("format" = Option<platform::reports::Format>, Query, description = "json (default), ndjson (one row object per line), csv or parquet"),
        ("part" = Option<String>, Query, description = "histogram or grades; required for csv and parquet"),
        ("bucket_width" = Option<f64>, Query, exclusive_minimum = 0, description = "Histogram bucket width (default 10)"),
    ),
    responses(
        (status = 200, description = "Histogram and grade matrix", content(
            (serde_json::Value = "application/json"),
            (platform::reports::NdjsonRows = "application/x-ndjson"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
    )
)]
pub async fn score_distribution(
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, LeadsError> {
    let mut q = Query::new(&query, &["from", "to", "format", "part", "bucket_width"]);
    let (window, format) = common(&mut q);
    let width = q
        .parse("bucket_width", "a positive number", |s| {
            s.parse::<f64>().ok().filter(|w| w.is_finite() && *w > 0.0)
        })
        .unwrap_or(10.0);
    let part = q.parse("part", "histogram or grades", |s| {
        matches!(s, "histogram" | "grades").then(|| s.to_string())
    });
    if part.is_none() && format != Format::Json && !q.errors.has("part") {
        q.errors.add(
            "part",
            "is required for ndjson, csv and parquet: histogram or grades",
        );
    }
    q.finish()?;
    let parts = move |leads: DataFrame| reports::score_distribution(&leads, window, width);
    let Some(part) = part else {
        // JSON without a part: both parts in one object.
        let csv = export(&db, &settings, Export::Leads).await?;
        let body = compute(move || {
            let (mut histogram, mut grades) = parts(frame(Export::Leads, &csv)?)?;
            let mut out = b"{\"histogram\":".to_vec();
            out.extend(reports::render(&mut histogram, Format::Json)?);
            out.extend_from_slice(b",\"grade_matrix\":");
            out.extend(reports::render(&mut grades, Format::Json)?);
            out.push(b'}');
            Ok(out)
        })
        .await?;
        return Ok(respond("score-distribution", format, body));
    };
    report(
        &db,
        &settings,
        Export::Leads,
        "score-distribution",
        format,
        move |leads| {
            let (histogram, grades) = parts(leads)?;
            Ok(if part == "histogram" {
                histogram
            } else {
                grades
            })
        },
    )
    .await
}

/// One row per target account: engaged leads, engagement score 0–100, 30-day trend, buying stage.
#[utoipa::path(
    get, path = "/v1/reports/abm-engagement", tag = "reports",
    params(
        ("tier" = Option<AbmTier>, Query, description = "Only this ABM tier"),
        ("format" = Option<platform::reports::Format>, Query, description = "json (default), ndjson (one row object per line), csv or parquet"),
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Accepted for symmetry; engagement is as of now"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query),
    ),
    responses(
        (status = 200, description = "One row per target account", content(
            (platform::reports::JsonRows = "application/json"),
            (platform::reports::NdjsonRows = "application/x-ndjson"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
    )
)]
pub async fn abm_engagement(
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, LeadsError> {
    let mut q = Query::new(&query, &["from", "to", "format", "tier"]);
    let (_, format) = common(&mut q);
    let tier = q.parse(
        "tier",
        "one of one_to_one, one_to_few, one_to_many, none",
        |s| {
            s.parse::<account::AbmTier>()
                .ok()
                .map(|t| t.as_str().to_string())
        },
    );
    q.finish()?;
    report(
        &db,
        &settings,
        Export::Accounts,
        "abm-engagement",
        format,
        move |accounts| reports::abm_engagement(&accounts, tier.as_deref()),
    )
    .await
}
