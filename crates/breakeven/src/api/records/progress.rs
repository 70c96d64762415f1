//! `/v1/campaigns/{id}/breakeven`: a campaign's live break-even.

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use platform::Db;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{CampaignPath, path_campaign};
use crate::Tracking;
use crate::domain::cvp::present;
use crate::error::BreakevenError;
use crate::usecases::progress::{self as usecase, CampaignStatus};

/// A campaign's live break-even.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CampaignBreakeven {
    pub campaign_id: String,
    /// Whether the campaign is defined here (else only events have named it).
    pub defined: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    pub spend: Decimal,
    pub attributed_revenue: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contribution_margin_ratio: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contribution: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roas: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakeven_roas: Option<Decimal>,
    /// Contribution / spend × 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_percent: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spend_share: Option<Decimal>,
    pub breakeven_reached: bool,
    pub at_risk: bool,
    /// At the current run-rate; absent when reached or not in sight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projected_breakeven_date: Option<NaiveDate>,
}

impl From<CampaignStatus> for CampaignBreakeven {
    fn from(s: CampaignStatus) -> Self {
        let p = s.progress.as_ref();
        CampaignBreakeven {
            defined: s.campaign.is_some(),
            budget: s.campaign.as_ref().map(|c| c.budget),
            currency: s.currency,
            spend: s.spend,
            attributed_revenue: s.attributed_revenue,
            contribution_margin_ratio: s.margin_ratio.map(present::ratio),
            contribution: p.map(|p| present::money(p.contribution)),
            roas: p.and_then(|p| p.roas).map(present::ratio),
            breakeven_roas: p.map(|p| present::ratio(p.breakeven_roas)),
            progress_percent: p.and_then(|p| p.progress_percent).map(present::percent),
            spend_share: p.and_then(|p| p.spend_share).map(present::ratio),
            breakeven_reached: s.alerts.reached || p.is_some_and(|p| p.reached),
            at_risk: p.is_some_and(|p| p.at_risk),
            projected_breakeven_date: p.and_then(|p| p.projected_breakeven_date),
            campaign_id: s.campaign_id,
        }
    }
}

/// Spend and attributed revenue, contribution, ROAS against break-even ROAS, progress to
/// break-even and the projected date. Known ids that only events have named answer too.
#[utoipa::path(
    get, path = "/v1/campaigns/{id}/breakeven", tag = "tracking", params(CampaignPath),
    responses(
        (status = 200, body = CampaignBreakeven),
        (status = 404, description = "No campaign has this id", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The id is not a campaign id", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn campaign_breakeven(
    req: actix_web::HttpRequest,
    db: web::Data<Db>,
    tracking: web::Data<Tracking>,
    id: web::Path<String>,
) -> Result<HttpResponse, BreakevenError> {
    platform::http::query::no_query(&req)?;
    let status = usecase::of_campaign(&db, &tracking, path_campaign(&id)?).await?;
    Ok(HttpResponse::Ok().json(CampaignBreakeven::from(status)))
}
