//! Products, fixed costs and campaigns: create, read, list, replace; and a campaign's live
//! break-even.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use platform::http::json::Json;
use platform::{Db, TraceContext};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{created, path_id, read};
use crate::Tracking;
use crate::domain::cvp::present;
use crate::domain::records::{
    Campaign, CampaignDraft, FixedCost, FixedCostDraft, Product, ProductDraft, campaign_id,
};
use crate::error::BreakevenError;
use crate::store::records::{self as store, CampaignRow, FixedCostRow, ProductRow, id_mismatch};
use crate::store::tracking::{self, CampaignStatus};

/// A product: price and variable cost per unit, in one currency.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    pub name: String,
    pub price: String,
    pub variable_cost: String,
    pub currency: String,
}

impl From<ProductInput> for ProductDraft {
    fn from(i: ProductInput) -> Self {
        ProductDraft {
            name: i.name,
            price: i.price,
            variable_cost: i.variable_cost,
            currency: i.currency,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductResponse {
    pub id: Uuid,
    pub name: String,
    pub price: Decimal,
    pub variable_cost: Decimal,
    pub currency: String,
    pub contribution_margin: Decimal,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ProductRow> for ProductResponse {
    fn from(r: ProductRow) -> Self {
        ProductResponse {
            id: r.id,
            name: r.name,
            contribution_margin: r.price - r.variable_cost,
            price: r.price,
            variable_cost: r.variable_cost,
            currency: r.currency,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductList {
    pub items: Vec<ProductResponse>,
}

#[utoipa::path(
    post, path = "/v1/products", tag = "records", request_body = ProductInput,
    responses((status = 201, body = ProductResponse), (status = 422, body = platform::http::Problem, content_type = "application/problem+json"))
)]
#[tracing::instrument(skip_all)]
pub async fn create_product(
    db: web::Data<Db>,
    body: Json<ProductInput>,
) -> Result<HttpResponse, BreakevenError> {
    let product = Product::try_from(&ProductDraft::from(body.into_inner()))?;
    let row = read(&db, move |conn| store::create_product(conn, &product)).await?;
    Ok(created(
        &format!("/v1/products/{}", row.id),
        ProductResponse::from(row),
    ))
}

#[utoipa::path(
    get, path = "/v1/products/{id}", tag = "records", params(("id" = Uuid, Path)),
    responses((status = 200, body = ProductResponse), (status = 404, body = platform::http::Problem, content_type = "application/problem+json"))
)]
pub async fn get_product(
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, BreakevenError> {
    let id = path_id(&id)?;
    let row = read(&db, move |conn| store::find_product(conn, id))
        .await?
        .ok_or_else(|| BreakevenError::NotFound(format!("product {id}")))?;
    Ok(HttpResponse::Ok().json(ProductResponse::from(row)))
}

#[utoipa::path(get, path = "/v1/products", tag = "records", responses((status = 200, body = ProductList)))]
pub async fn list_products(db: web::Data<Db>) -> Result<HttpResponse, BreakevenError> {
    let rows = read(&db, store::list_products).await?;
    Ok(HttpResponse::Ok().json(ProductList {
        items: rows.into_iter().map(Into::into).collect(),
    }))
}

/// Replaces a product; the campaigns selling it are re-evaluated.
#[utoipa::path(
    put, path = "/v1/products/{id}", tag = "records", request_body = ProductInput, params(("id" = Uuid, Path)),
    responses((status = 200, body = ProductResponse), (status = 404, body = platform::http::Problem, content_type = "application/problem+json"), (status = 422, body = platform::http::Problem, content_type = "application/problem+json"))
)]
#[tracing::instrument(skip_all)]
pub async fn put_product(
    db: web::Data<Db>,
    tracking: web::Data<Tracking>,
    trace: TraceContext,
    id: web::Path<String>,
    body: Json<ProductInput>,
) -> Result<HttpResponse, BreakevenError> {
    let id = path_id(&id)?;
    let product = Product::try_from(&ProductDraft::from(body.into_inner()))?;
    let row = db
        .run(move |conn| {
            conn.build_transaction()
                .run(|tx| store::replace_product(tx, id, &product, &tracking, &trace))
        })
        .await?;
    Ok(HttpResponse::Ok().json(ProductResponse::from(row)))
}

/// A fixed-cost item: rent, salaries, tools; an amount per period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FixedCostInput {
    pub name: String,
    pub amount: String,
    /// `month`, `quarter` or `year`.
    pub period: String,
    pub currency: String,
}

impl From<FixedCostInput> for FixedCostDraft {
    fn from(i: FixedCostInput) -> Self {
        FixedCostDraft {
            name: i.name,
            amount: i.amount,
            period: i.period,
            currency: i.currency,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FixedCostResponse {
    pub id: Uuid,
    pub name: String,
    pub amount: Decimal,
    pub period: String,
    pub currency: String,
    /// The amount per month (company periods are months).
    pub monthly_amount: Decimal,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<FixedCostRow> for FixedCostResponse {
    fn from(r: FixedCostRow) -> Self {
        let monthly = crate::domain::records::Period::parse(&r.period)
            .map_or(r.amount, |p| p.monthly(r.amount));
        FixedCostResponse {
            id: r.id,
            name: r.name,
            amount: r.amount,
            period: r.period,
            currency: r.currency,
            monthly_amount: present::money(monthly),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FixedCostList {
    pub items: Vec<FixedCostResponse>,
}

#[utoipa::path(
    post, path = "/v1/fixed-costs", tag = "records", request_body = FixedCostInput,
    responses((status = 201, body = FixedCostResponse), (status = 422, body = platform::http::Problem, content_type = "application/problem+json"))
)]
#[tracing::instrument(skip_all)]
pub async fn create_fixed_cost(
    db: web::Data<Db>,
    tracking: web::Data<Tracking>,
    trace: TraceContext,
    body: Json<FixedCostInput>,
) -> Result<HttpResponse, BreakevenError> {
    let cost = FixedCost::try_from(&FixedCostDraft::from(body.into_inner()))?;
    let row = db
        .run(move |conn| {
            conn.build_transaction()
                .run(|tx| store::create_fixed_cost(tx, &cost, &tracking, &trace))
        })
        .await?;
    Ok(created(
        &format!("/v1/fixed-costs/{}", row.id),
        FixedCostResponse::from(row),
    ))
}

#[utoipa::path(
    get, path = "/v1/fixed-costs/{id}", tag = "records", params(("id" = Uuid, Path)),
    responses((status = 200, body = FixedCostResponse), (status = 404, body = platform::http::Problem, content_type = "application/problem+json"))
)]
pub async fn get_fixed_cost(
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, BreakevenError> {
    let id = path_id(&id)?;
    let row = read(&db, move |conn| store::find_fixed_cost(conn, id))
        .await?
        .ok_or_else(|| BreakevenError::NotFound(format!("fixed cost {id}")))?;
    Ok(HttpResponse::Ok().json(FixedCostResponse::from(row)))
}

#[utoipa::path(get, path = "/v1/fixed-costs", tag = "records", responses((status = 200, body = FixedCostList)))]
pub async fn list_fixed_costs(db: web::Data<Db>) -> Result<HttpResponse, BreakevenError> {
    let rows = read(&db, store::list_fixed_costs).await?;
    Ok(HttpResponse::Ok().json(FixedCostList {
        items: rows.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(
    put, path = "/v1/fixed-costs/{id}", tag = "records", request_body = FixedCostInput, params(("id" = Uuid, Path)),
    responses((status = 200, body = FixedCostResponse), (status = 404, body = platform::http::Problem, content_type = "application/problem+json"), (status = 422, body = platform::http::Problem, content_type = "application/problem+json"))
)]
#[tracing::instrument(skip_all)]
pub async fn put_fixed_cost(
    db: web::Data<Db>,
    tracking: web::Data<Tracking>,
    trace: TraceContext,
    id: web::Path<String>,
    body: Json<FixedCostInput>,
) -> Result<HttpResponse, BreakevenError> {
    let id = path_id(&id)?;
    let cost = FixedCost::try_from(&FixedCostDraft::from(body.into_inner()))?;
    let row = db
        .run(move |conn| {
            conn.build_transaction()
                .run(|tx| store::replace_fixed_cost(tx, id, &cost, &tracking, &trace))
        })
        .await?;
    Ok(HttpResponse::Ok().json(FixedCostResponse::from(row)))
}

/// A campaign: a budget over dates, selling a mix of products.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignInput {
    /// The campaign id the other services use (`campaign_id` in events); generated when
    /// absent. Letters, digits, `-`, `_`, `.`, at most 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    pub budget: String,
    pub currency: String,
    #[serde(deserialize_with = "platform::time::date")]
    pub starts_on: NaiveDate,
    #[serde(deserialize_with = "platform::time::date")]
    pub ends_on: NaiveDate,
    pub product_mix: Vec<MixShareInput>,
    /// Share of budget spent that arms `campaign.at_risk` (default: the service's, 0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_threshold: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MixShareInput {
    pub product_id: Uuid,
    /// Share of units sold, 0 to 1; the shares sum to 1.
    pub share: String,
}

impl From<CampaignInput> for CampaignDraft {
    fn from(i: CampaignInput) -> Self {
        CampaignDraft {
            id: i.id,
            name: i.name,
            budget: i.budget,
            currency: i.currency,
            starts_on: i.starts_on,
            ends_on: i.ends_on,
            product_mix: i
                .product_mix
                .into_iter()
                .map(|m| (m.product_id, m.share))
                .collect(),
            risk_threshold: i.risk_threshold,
        }
    }
}

/// One entry of `campaigns.product_mix`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MixShare {
    pub product_id: Uuid,
    pub share: Decimal,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CampaignResponse {
    pub id: String,
    pub name: String,
    pub budget: Decimal,
    pub currency: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub product_mix: Vec<MixShare>,
    pub risk_threshold: Decimal,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<CampaignRow> for CampaignResponse {
    fn from(r: CampaignRow) -> Self {
        CampaignResponse {
            product_mix: r
                .mix()
                .into_iter()
                .map(|(product_id, share)| MixShare { product_id, share })
                .collect(),
            id: r.id,
            name: r.name,
            budget: r.budget,
            currency: r.currency,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            risk_threshold: r.risk_threshold,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CampaignList {
    pub items: Vec<CampaignResponse>,
}

/// Creates a campaign. Costs and revenue already received for its id count at once, and
/// its alerts are evaluated.
#[utoipa::path(
    post, path = "/v1/campaigns", tag = "records", request_body = CampaignInput,
    responses((status = 201, body = CampaignResponse), (status = 409, body = platform::http::Problem, content_type = "application/problem+json"), (status = 422, body = platform::http::Problem, content_type = "application/problem+json"))
)]
#[tracing::instrument(skip_all)]
pub async fn create_campaign(
    db: web::Data<Db>,
    tracking: web::Data<Tracking>,
    trace: TraceContext,
    body: Json<CampaignInput>,
) -> Result<HttpResponse, BreakevenError> {
    let campaign = Campaign::parse(&body.into_inner().into(), tracking.risk_threshold)?;
    let row = db
        .run(move |conn| {
            conn.build_transaction()
                .run(|tx| store::create_campaign(tx, &campaign, &tracking, &trace))
        })
        .await?;
    Ok(created(
        &format!("/v1/campaigns/{}", row.id),
        CampaignResponse::from(row),
    ))
}

fn path_campaign(raw: &str) -> Result<String, BreakevenError> {
    campaign_id(raw).map_err(|m| platform::Problem::field("id", m).into())
}

#[utoipa::path(
    get, path = "/v1/campaigns/{id}", tag = "records", params(("id" = String, Path, pattern = r"^[A-Za-z0-9._-]{1,100}$", description = "The campaign id: 1 to 100 letters, digits, `-`, `_` or `.`")),
    responses(
        (status = 200, body = CampaignResponse),
        (status = 404, body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The id is not a campaign id", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_campaign(
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, BreakevenError> {
    let id = path_campaign(&id)?;
    let key = id.clone();
    let row = read(&db, move |conn| store::find_campaign(conn, &key))
        .await?
        .ok_or_else(|| BreakevenError::NotFound(format!("campaign {id}")))?;
    Ok(HttpResponse::Ok().json(CampaignResponse::from(row)))
}

#[utoipa::path(get, path = "/v1/campaigns", tag = "records", responses((status = 200, body = CampaignList)))]
pub async fn list_campaigns(db: web::Data<Db>) -> Result<HttpResponse, BreakevenError> {
    let rows = read(&db, store::list_campaigns).await?;
    Ok(HttpResponse::Ok().json(CampaignList {
        items: rows.into_iter().map(Into::into).collect(),
    }))
}

/// Replaces a campaign (the body's `id`, if any, must match the path) and re-evaluates
/// its alerts.
#[utoipa::path(
    put, path = "/v1/campaigns/{id}", tag = "records", request_body = CampaignInput, params(("id" = String, Path, pattern = r"^[A-Za-z0-9._-]{1,100}$", description = "The campaign id: 1 to 100 letters, digits, `-`, `_` or `.`")),
    responses((status = 200, body = CampaignResponse), (status = 404, body = platform::http::Problem, content_type = "application/problem+json"), (status = 422, body = platform::http::Problem, content_type = "application/problem+json"))
)]
#[tracing::instrument(skip_all)]
pub async fn put_campaign(
    db: web::Data<Db>,
    tracking: web::Data<Tracking>,
    trace: TraceContext,
    id: web::Path<String>,
    body: Json<CampaignInput>,
) -> Result<HttpResponse, BreakevenError> {
    let id = path_campaign(&id)?;
    let mut input = body.into_inner();
    if input.id.as_ref().is_some_and(|b| *b != id) {
        return Err(id_mismatch().into());
    }
    input.id = Some(id);
    let campaign = Campaign::parse(&input.into(), tracking.risk_threshold)?;
    let row = db
        .run(move |conn| {
            conn.build_transaction()
                .run(|tx| store::replace_campaign(tx, &campaign, &tracking, &trace))
        })
        .await?;
    Ok(HttpResponse::Ok().json(CampaignResponse::from(row)))
}

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
    get, path = "/v1/campaigns/{id}/breakeven", tag = "tracking", params(("id" = String, Path, pattern = r"^[A-Za-z0-9._-]{1,100}$", description = "The campaign id: 1 to 100 letters, digits, `-`, `_` or `.`")),
    responses(
        (status = 200, body = CampaignBreakeven),
        (status = 404, body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The id is not a campaign id", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn campaign_breakeven(
    db: web::Data<Db>,
    tracking: web::Data<Tracking>,
    id: web::Path<String>,
) -> Result<HttpResponse, BreakevenError> {
    let id = path_campaign(&id)?;
    let status = db
        .run({
            let id = id.clone();
            move |conn| tracking::campaign_status(conn, &id, &tracking, Utc::now())
        })
        .await?;
    if status.campaign.is_none() && status.currency.is_none() && status.attributed_revenue.is_zero()
    {
        return Err(BreakevenError::NotFound(format!("campaign {id}")));
    }
    Ok(HttpResponse::Ok().json(CampaignBreakeven::from(status)))
}
