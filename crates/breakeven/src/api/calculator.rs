//! The stateless calculator and the break-even chart: no database on these paths.

mod request;
mod response;

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::Utc;
use platform::http::json::Json;

pub use request::{
    CalculateRequest, MarketingInput, MixProductInput, ProjectionInput, SensitivityInput,
};
pub use response::{
    BreakevenResult, CalculateResponse, LeverageResult, MarginOfSafetyResult, MarketingResult,
    MixProductResult, MixResult, ProjectionResult, SensitivityResult, TargetResult, UnitResult,
};

use super::Query;
use crate::domain::calculator;
use crate::domain::chart;
use crate::domain::input::Reader;
use crate::error::BreakevenError;

/// Cost-volume-profit analysis of the given inputs. Each block of the response appears
/// when its inputs are given: `unit` with price and variable cost; `breakeven` with fixed
/// costs too; `margin_of_safety` and `operating_leverage` with actual or planned units;
/// `target_profit`; `sales_mix` with products; `marketing`; `sensitivity`; `projection`.
///
/// Arithmetic is exact (rust_decimal). Money is rounded to 2 places, ratios and exact
/// units to 6, percentages and months to 2, half away from zero, only at the end; whole
/// units are rounded up.
#[utoipa::path(
    post, path = "/v1/breakeven/calculate", tag = "calculator",
    request_body = CalculateRequest,
    responses(
        (status = 200, body = CalculateResponse),
        (status = 422, description = "A field is invalid, or contribution margin is not positive: break-even is unreachable", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn calculate(body: Json<CalculateRequest>) -> Result<HttpResponse, BreakevenError> {
    let analysis = calculator::calculate(&body.into_inner().into(), Utc::now().date_naive())?;
    Ok(HttpResponse::Ok().json(CalculateResponse::from(analysis)))
}

/// The classic break-even chart (SVG): revenue, total cost and fixed cost against units,
/// the break-even point marked, loss and profit areas shaded.
#[utoipa::path(
    get, path = "/v1/breakeven/chart.svg", tag = "calculator",
    params(
        ("currency" = String, Query),
        ("fixed_costs" = String, Query),
        ("price" = String, Query),
        ("variable_cost" = String, Query),
        ("max_units" = Option<String>, Query, description = "End of the x axis (default: twice the break-even units)"),
        ("actual_units" = Option<String>, Query, description = "Widens the x axis to show this volume"),
    ),
    responses(
        (status = 200, content_type = "image/svg+xml", description = "The chart"),
    )
)]
pub async fn chart_svg(
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, BreakevenError> {
    let q = Query::new(
        &query,
        &[
            "currency",
            "fixed_costs",
            "price",
            "variable_cost",
            "max_units",
            "actual_units",
        ],
    );
    let mut r = Reader::new();
    let max_units = r.amount("max_units", query.get("max_units").map(String::as_str));
    let actual_units = r.amount(
        "actual_units",
        query.get("actual_units").map(String::as_str),
    );
    q.finish()?;
    r.errors.finish()?;
    let get = |k: &str| query.get(k).map(String::as_str);
    let inputs = calculator::core_inputs(
        get("currency"),
        get("fixed_costs"),
        get("price"),
        get("variable_cost"),
    )?;
    let svg = chart::render(&inputs, max_units, actual_units)?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml; charset=utf-8")
        .body(svg))
}
