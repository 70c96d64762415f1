//! The campaign profitability report: JSON a page at a time; CSV and Parquet whole files
//! (`?format=json|csv|parquet`).

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use platform::Db;
use platform::http::query::{PageParams, encode_key_cursor};
use platform::reports::Format;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Query;
use super::records::CampaignBreakeven;
use crate::Tracking;
use crate::error::BreakevenError;
use crate::reports::{self, ProfitabilityRow};
use crate::store::campaigns::KnownId;
use crate::usecases::progress::{self, CampaignStatus};

/// One campaign's row of the report: the columns of the CSV and Parquet files, in their
/// order. Amounts and ratios are decimal strings; null where unknown.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProfitabilityItem {
    pub campaign_id: String,
    pub name: Option<String>,
    /// Whether the campaign is defined here (else only events have named it).
    pub defined: bool,
    pub currency: Option<String>,
    pub budget: Option<String>,
    pub spend: String,
    pub attributed_revenue: String,
    pub contribution: Option<String>,
    /// Contribution − spend.
    pub profit: Option<String>,
    pub roas: Option<String>,
    pub breakeven_roas: Option<String>,
    pub progress_percent: Option<String>,
    pub breakeven_reached: bool,
    pub at_risk: bool,
    #[schema(format = Date)]
    pub projected_breakeven_date: Option<String>,
}

impl From<ProfitabilityRow> for ProfitabilityItem {
    fn from(r: ProfitabilityRow) -> Self {
        ProfitabilityItem {
            campaign_id: r.campaign_id,
            name: r.name,
            defined: r.defined,
            currency: r.currency,
            budget: r.budget,
            spend: r.spend,
            attributed_revenue: r.attributed_revenue,
            contribution: r.contribution,
            profit: r.profit,
            roas: r.roas,
            breakeven_roas: r.breakeven_roas,
            progress_percent: r.progress_percent,
            breakeven_reached: r.breakeven_reached,
            at_risk: r.at_risk,
            projected_breakeven_date: r.projected_breakeven_date,
        }
    }
}

platform::page!(
    /// A page of the report: defined campaigns first, then by id, as in the files.
    ProfitabilityPage,
    ProfitabilityItem
);

/// Per campaign id (defined, or only named by events): spend, attributed revenue,
/// contribution, profit, ROAS against break-even ROAS, progress, alerts and the projected
/// break-even date. Defined campaigns come first, then by id (byte order).
///
/// JSON comes a page at a time (`limit`, `cursor`); CSV and Parquet are whole files, so
/// `limit` and `cursor` are refused with them.
#[utoipa::path(
    get, path = "/v1/reports/campaign-profitability", tag = "reports",
    params(
        ("format" = Option<platform::reports::Format>, Query, description = "json (default, paged), csv or parquet (whole files)"),
        PageParams,
    ),
    responses(
        (status = 200, description = "One row per campaign", content(
            (ProfitabilityPage = "application/json"),
            (platform::reports::NdjsonRows = "application/x-ndjson"),
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
    let mut q = Query::new(&query, &["format", "limit", "cursor"]);
    let format = q.format();
    if format != Format::Json {
        for p in ["limit", "cursor"] {
            if query.contains_key(p) {
                q.errors.add(
                    p,
                    "pages the JSON report only: NDJSON, CSV and Parquet are whole files",
                );
            }
        }
        q.finish()?;
        let rows: Vec<ProfitabilityRow> = progress::all(&db, &tracking)
            .await?
            .into_iter()
            .map(row)
            .collect();
        return Ok(
            platform::reports::serve("campaign-profitability", format, move || {
                reports::campaign_profitability(&rows)
            })
            .await?,
        );
    }
    let (limit, after) = q.page_by_key();
    let after = after.and_then(|key| {
        let position = position(&key);
        if position.is_none() {
            q.errors
                .add("cursor", "is not a cursor returned by this endpoint");
        }
        position
    });
    q.finish()?;
    let (statuses, next) = progress::page(&db, &tracking, after, limit).await?;
    Ok(HttpResponse::Ok().json(ProfitabilityPage {
        items: statuses.into_iter().map(|s| row(s).into()).collect(),
        next_cursor: next.map(|k| encode_key_cursor(&cursor_key(&k))),
    }))
}

/// A position in the report's order as a cursor key: `d:` (defined) or `u:`, then the id.
fn cursor_key(k: &KnownId) -> String {
    format!("{}:{}", if k.defined { "d" } else { "u" }, k.campaign_id)
}

fn position(key: &str) -> Option<KnownId> {
    let (flag, id) = key.split_once(':')?;
    let defined = match flag {
        "d" => true,
        "u" => false,
        _ => return None,
    };
    Some(KnownId {
        campaign_id: id.to_string(),
        defined,
    })
}

fn row(status: CampaignStatus) -> ProfitabilityRow {
    let name = status.campaign.as_ref().map(|c| c.name.clone());
    let b = CampaignBreakeven::from(status);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_keys_round_trip_and_others_are_refused() {
        for k in [
            KnownId {
                campaign_id: "spring:25".into(),
                defined: true,
            },
            KnownId {
                campaign_id: "x".into(),
                defined: false,
            },
        ] {
            assert_eq!(position(&cursor_key(&k)), Some(k));
        }
        assert_eq!(position("spring"), None);
        assert_eq!(position("x:spring"), None);
    }
}
