//! Lead reports (polars): lead quality by source and campaign, score distribution, ABM
//! engagement. Each takes `?from=&to=&format=json|csv|parquet`.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use platform::{Db, Settings};
use polars::prelude::DataFrame;

use platform::reports::respond;

use super::Query;
use crate::domain::account::AbmTier;
use crate::error::LeadsError;
use crate::reports::{self, Format, Window};
use crate::store::{reports as source, scoring};

/// Window and format shared by every report, plus the report's own parameters.
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

async fn load(db: &Db, settings: &Settings, accounts: bool) -> Result<Vec<u8>, LeadsError> {
    let (_, model) = db.run(scoring::current_model).await?;
    let sql = if accounts {
        source::accounts_csv_sql(model.half_life_days)
    } else {
        source::leads_csv_sql(model.half_life_days)
    };
    Ok(platform::db::copy_csv(&settings.database, &sql).await?)
}

/// Runs CPU-bound polars work off the async workers.
async fn compute<F>(f: F) -> Result<Vec<u8>, LeadsError>
where
    F: FnOnce() -> polars::prelude::PolarsResult<Vec<u8>> + Send + 'static,
{
    Ok(platform::reports::compute(f).await?)
}

fn render(mut df: DataFrame, format: Format) -> polars::prelude::PolarsResult<Vec<u8>> {
    reports::render(&mut df, format)
}

/// Lead count, mean fit and engagement, MQL/SQL/customer rates and median days from lead
/// to MQL, by source and by campaign.
#[utoipa::path(
    get, path = "/v1/reports/lead-quality", tag = "reports",
    params(
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Leads created at or after (RFC 3339)"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Leads created before (RFC 3339)"),
        ("format" = Option<platform::reports::Format>, Query, description = "json (default), csv or parquet"),
    ),
    responses(
        (status = 200, description = "One row per (dimension, value)", content(
            (platform::reports::JsonRows = "application/json"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn lead_quality(
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, LeadsError> {
    let mut q = Query::new(&query, &["from", "to", "format"]);
    let c = common(&mut q);
    q.finish()?;
    let csv = load(&db, &settings, false).await?;
    let body = compute(move || {
        let leads = reports::leads_frame(&csv)?;
        render(reports::lead_quality(&leads, c.window)?, c.format)
    })
    .await?;
    Ok(respond("lead-quality", c.format, body))
}

/// Histograms of fit and engagement scores (`part=histogram`) and the A1–C3 grade matrix
/// (`part=grades`). JSON without `part` returns both.
#[utoipa::path(
    get, path = "/v1/reports/score-distribution", tag = "reports",
    params(
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query), ("to" = Option<chrono::DateTime<chrono::Utc>>, Query),
        ("format" = Option<platform::reports::Format>, Query, description = "json (default), csv or parquet"),
        ("part" = Option<String>, Query, description = "histogram or grades; required for csv and parquet"),
        ("bucket_width" = Option<f64>, Query, exclusive_minimum = 0, description = "Histogram bucket width (default 10)"),
    ),
    responses(
        (status = 200, description = "Histogram and grade matrix", content(
            (serde_json::Value = "application/json"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn score_distribution(
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, LeadsError> {
    let mut q = Query::new(&query, &["from", "to", "format", "part", "bucket_width"]);
    let c = common(&mut q);
    let width = q
        .parse("bucket_width", "a positive number", |s| {
            s.parse::<f64>().ok().filter(|w| w.is_finite() && *w > 0.0)
        })
        .unwrap_or(10.0);
    let part = q.parse("part", "histogram or grades", |s| {
        matches!(s, "histogram" | "grades").then(|| s.to_string())
    });
    if part.is_none() && c.format != Format::Json && !q.errors.has("part") {
        q.errors.add(
            "part",
            "is required for csv and parquet: histogram or grades",
        );
    }
    q.finish()?;
    let csv = load(&db, &settings, false).await?;
    let body = compute(move || {
        let leads = reports::leads_frame(&csv)?;
        let (histogram, grades) = reports::score_distribution(&leads, c.window, width)?;
        match part.as_deref() {
            Some("histogram") => render(histogram, c.format),
            Some(_) => render(grades, c.format),
            None => {
                let h = render(histogram, Format::Json)?;
                let g = render(grades, Format::Json)?;
                let mut out = b"{\"histogram\":".to_vec();
                out.extend_from_slice(&h);
                out.extend_from_slice(b",\"grade_matrix\":");
                out.extend_from_slice(&g);
                out.push(b'}');
                Ok(out)
            }
        }
    })
    .await?;
    Ok(respond("score-distribution", c.format, body))
}

/// One row per target account: engaged leads, engagement score 0–100, 30-day trend, buying stage.
#[utoipa::path(
    get, path = "/v1/reports/abm-engagement", tag = "reports",
    params(
        ("tier" = Option<AbmTier>, Query, description = "Only this ABM tier"),
        ("format" = Option<platform::reports::Format>, Query, description = "json (default), csv or parquet"),
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Accepted for symmetry; engagement is as of now"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query),
    ),
    responses(
        (status = 200, description = "One row per target account", content(
            (platform::reports::JsonRows = "application/json"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn abm_engagement(
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, LeadsError> {
    let mut q = Query::new(&query, &["from", "to", "format", "tier"]);
    let c = common(&mut q);
    let tier = q.parse(
        "tier",
        "one of one_to_one, one_to_few, one_to_many, none",
        |s| s.parse::<AbmTier>().ok().map(|t| t.as_str().to_string()),
    );
    q.finish()?;
    let csv = load(&db, &settings, true).await?;
    let body = compute(move || {
        let accounts = reports::accounts_frame(&csv)?;
        render(
            reports::abm_engagement(&accounts, tier.as_deref())?,
            c.format,
        )
    })
    .await?;
    Ok(respond("abm-engagement", c.format, body))
}
