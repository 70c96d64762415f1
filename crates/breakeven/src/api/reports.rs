//! The campaign profitability report (`?format=json|csv|parquet`).

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use platform::Db;

use super::Query;
use super::records::CampaignBreakeven;
use crate::Tracking;
use crate::error::BreakevenError;
use crate::reports::{self, ProfitabilityRow};
use crate::usecases::progress;

/// Per campaign id (defined, or only named by events): spend, attributed revenue,
/// contribution, profit, ROAS against break-even ROAS, progress, alerts and the projected
/// break-even date.
#[utoipa::path(
    get, path = "/v1/reports/campaign-profitability", tag = "reports",
    params(("format" = Option<platform::reports::Format>, Query, description = "json (default), csv or parquet")),
    responses(
        (status = 200, description = "One row per campaign", content(
            (platform::reports::JsonRows = "application/json"),
            (platform::reports::CsvFile = "text/csv"),
            (platform::reports::ParquetFile = "application/vnd.apache.parquet"),
        )),
    )
)]
pub async fn campaign_profitability(
    db: web::Data<Db>,
    tracking: web::Data<Tracking>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, BreakevenError> {
    let mut q = Query::new(&query, &["format"]);
    let format = q.format();
    q.finish()?;
    let rows: Vec<ProfitabilityRow> = progress::all(&db, &tracking)
        .await?
        .into_iter()
        .map(|status| {
            let name = status.campaign.as_ref().map(|c| c.name.clone());
            row(name, CampaignBreakeven::from(status))
        })
        .collect();
    Ok(
        platform::reports::serve("campaign-profitability", format, move || {
            reports::campaign_profitability(&rows)
        })
        .await?,
    )
}

fn row(name: Option<String>, b: CampaignBreakeven) -> ProfitabilityRow {
    let text = |d: Option<rust_decimal::Decimal>| d.map(|d| d.to_string());
    ProfitabilityRow {
        profit: b.contribution.map(|c| (c - b.spend).to_string()),
        campaign_id: b.campaign_id,
        name,
        defined: b.defined,
        currency: b.currency,
        budget: text(b.budget),
        spend: b.spend.to_string(),
        attributed_revenue: b.attributed_revenue.to_string(),
        contribution: text(b.contribution),
        roas: text(b.roas),
        breakeven_roas: text(b.breakeven_roas),
        progress_percent: text(b.progress_percent),
        breakeven_reached: b.breakeven_reached,
        at_risk: b.at_risk,
        projected_breakeven_date: b.projected_breakeven_date.map(|d| d.to_string()),
    }
}
