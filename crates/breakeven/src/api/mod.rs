//! HTTP routes of the break-even service and its OpenAPI document.

pub mod calculator;
pub mod records;
pub mod reports;
pub mod scenarios;

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, HttpResponse, http::StatusCode, web};
use diesel::PgConnection;
use platform::Db;
use platform::http::idempotency::{self, IdempotencyKey, StoredResponse};
use platform::http::versioning;
use platform::openapi::{ProblemResponses, enumerate};
use serde::Serialize;
use utoipa::{Modify, OpenApi};

use crate::error::BreakevenError;

#[derive(OpenApi)]
#[openapi(
    modifiers(&ProblemResponses, &Vocabularies),
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

/// Lists the values of the string fields checked against a fixed vocabulary.
struct Vocabularies;

impl Modify for Vocabularies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for schema in ["FixedCostInput", "FixedCostResponse"] {
            enumerate(openapi, schema, "period", &["month", "quarter", "year"]);
        }
        enumerate(
            openapi,
            "MarginOfSafetyResult",
            "basis",
            &["actual", "planned"],
        );
        platform::openapi::enumerate_query(
            openapi,
            "/v1/campaigns",
            "sort",
            &platform::sort::SORTS,
        );
    }
}

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

/// The version a PUT names in `If-Match`. An extractor rather than a call in the handler,
/// and listed before the body, so that a missing (428) or unparsable (412) `If-Match` is
/// answered whatever the body holds.
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub i32);

impl FromRequest for IfMatch {
    type Error = BreakevenError;
    type Future = Ready<Result<Self, BreakevenError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(versioning::if_match(req).map(IfMatch).map_err(Into::into))
    }
}

/// A 201 as stored for `Idempotency-Key` replays: `Location`, and the new resource's
/// version as its `ETag`.
pub fn created(location: String, version: i32, body: &impl Serialize) -> StoredResponse {
    let (name, etag) = versioning::etag(version);
    StoredResponse::json(StatusCode::CREATED, body)
        .header("location", location)
        .header(name, etag)
}

/// Runs a create under the request's `Idempotency-Key` in `scope` (the method and the
/// concrete path): the same key and body replay the stored answer, another body is a 422.
pub async fn idempotent<F>(
    db: &Db,
    scope: &str,
    key: IdempotencyKey,
    raw: Bytes,
    work: F,
) -> Result<HttpResponse, BreakevenError>
where
    F: FnOnce(&mut PgConnection) -> Result<StoredResponse, BreakevenError> + Send + 'static,
{
    let scope = scope.to_string();
    let (response, replayed) = db
        .run(move |conn| idempotency::run(conn, &scope, &key, &raw, work))
        .await?;
    Ok(response.into_response(replayed))
}

pub use platform::http::query::Query;

/// A page of a collection ordered by UUID id: reads `limit` and `cursor` (refusing any other
/// parameter), loads one row more than the page with `load(after, n)`, and answers the
/// page's items and next cursor.
pub async fn page_by_id<R, T, Fut>(
    query: &std::collections::HashMap<String, String>,
    load: impl FnOnce(Option<uuid::Uuid>, i64) -> Fut,
    id: impl Fn(&R) -> uuid::Uuid,
) -> Result<(Vec<T>, Option<String>), BreakevenError>
where
    Fut: std::future::Future<Output = Result<Vec<R>, BreakevenError>>,
    T: From<R>,
{
    let mut q = Query::new(query, &["limit", "cursor"]);
    let (limit, after) = q.page();
    q.finish()?;
    let rows = load(after, limit + 1).await?;
    let (rows, next_cursor) = platform::http::query::paginate(rows, limit, id);
    Ok((rows.into_iter().map(Into::into).collect(), next_cursor))
}
