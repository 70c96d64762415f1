//! HTTP routes of the break-even service and its OpenAPI document.

pub mod calculator;
pub mod records;
pub mod reports;
pub mod scenarios;

use actix_web::{HttpResponse, http::StatusCode, web};
use platform::openapi::ProblemResponses;
use serde::Serialize;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    modifiers(&ProblemResponses),
    info(
        title = "Touchstone break-even",
        description = "Cost-volume-profit calculator and chart, products, fixed costs, campaigns, scenarios, live campaign break-even and the campaign profitability report. Amounts are decimal strings; errors are RFC 9457 problems."
    ),
    paths(
        calculator::calculate, calculator::chart_svg,
        records::create_product, records::get_product, records::list_products, records::put_product,
        records::create_fixed_cost, records::get_fixed_cost, records::list_fixed_costs, records::put_fixed_cost,
        records::create_campaign, records::get_campaign, records::list_campaigns, records::put_campaign,
        records::campaign_breakeven,
        scenarios::create_scenario, scenarios::get_scenario, scenarios::list_scenarios,
        scenarios::put_scenario, scenarios::compare_scenarios,
        reports::campaign_profitability,
    ),
    // The schemas of bodies are collected from the paths; these are used by parameters or
    // referenced by name only.
    components(schemas(platform::reports::Format, platform::http::Problem, platform::http::FieldError)),
    tags(
        (name = "calculator", description = "Stateless cost-volume-profit analysis and the break-even chart"),
        (name = "records", description = "Products, fixed costs and campaigns"),
        (name = "scenarios", description = "Saved, versioned calculator scenarios and their comparison"),
        (name = "tracking", description = "Live campaign break-even from events"),
        (name = "reports", description = "Campaign profitability as JSON, CSV or Parquet"),
    )
)]
pub struct ApiDoc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/v1/breakeven/calculate",
        web::post().to(calculator::calculate),
    )
    .route(
        "/v1/breakeven/chart.svg",
        web::get().to(calculator::chart_svg),
    )
    .service(
        web::resource("/v1/products")
            .route(web::post().to(records::create_product))
            .route(web::get().to(records::list_products)),
    )
    .service(
        web::resource("/v1/products/{id}")
            .route(web::get().to(records::get_product))
            .route(web::put().to(records::put_product)),
    )
    .service(
        web::resource("/v1/fixed-costs")
            .route(web::post().to(records::create_fixed_cost))
            .route(web::get().to(records::list_fixed_costs)),
    )
    .service(
        web::resource("/v1/fixed-costs/{id}")
            .route(web::get().to(records::get_fixed_cost))
            .route(web::put().to(records::put_fixed_cost)),
    )
    .service(
        web::resource("/v1/campaigns")
            .route(web::post().to(records::create_campaign))
            .route(web::get().to(records::list_campaigns)),
    )
    .service(
        web::resource("/v1/campaigns/{id}")
            .route(web::get().to(records::get_campaign))
            .route(web::put().to(records::put_campaign)),
    )
    .route(
        "/v1/campaigns/{id}/breakeven",
        web::get().to(records::campaign_breakeven),
    )
    .service(
        web::resource("/v1/scenarios")
            .route(web::post().to(scenarios::create_scenario))
            .route(web::get().to(scenarios::list_scenarios)),
    )
    .service(
        web::resource("/v1/scenarios/{id}")
            .route(web::get().to(scenarios::get_scenario))
            .route(web::put().to(scenarios::put_scenario)),
    )
    .route(
        "/v1/scenarios/{id}/compare",
        web::post().to(scenarios::compare_scenarios),
    )
    .route(
        "/v1/reports/campaign-profitability",
        web::get().to(reports::campaign_profitability),
    );
}

/// A 201 with `Location`.
pub fn created(location: &str, body: impl Serialize) -> HttpResponse {
    HttpResponse::build(StatusCode::CREATED)
        .insert_header((actix_web::http::header::LOCATION, location))
        .json(body)
}

pub use platform::http::query::Query;
