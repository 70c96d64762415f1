//! HTTP routes of the touchpoints service and its OpenAPI document.

pub mod affiliates;
pub mod attribution;
pub mod bulk;
pub mod deals;
pub mod journeys;
pub mod reports;
pub mod touchpoints;

use platform::openapi::ProblemResponses;
use std::sync::Arc;

use actix_web::web;
use platform::http::json::JsonLimit;
use platform::http::query::Query;
use utoipa::OpenApi;

use crate::config::TouchpointsConfig;

#[derive(OpenApi)]
#[openapi(
    modifiers(&ProblemResponses, &Vocabularies),
    info(
        title = "Touchstone touchpoints",
        description = "Touchpoint ingest (JSON and streamed NDJSON), identity stitching, journeys and conversions, campaign, affiliate and journey reports, attribution (heuristic, Markov and Shapley models). Errors are RFC 9457 problems."
    ),
    paths(
        touchpoints::post_touchpoints, touchpoints::list_touchpoints, touchpoints::get_touchpoint,
        bulk::bulk_ingest,
        journeys::get_journey,
        affiliates::put_affiliate, affiliates::get_affiliate, affiliates::list_affiliates,
        reports::campaign_performance, reports::affiliates, reports::journey_lengths,
        reports::top_paths,
        attribution::get_attribution, attribution::compute_paths, attribution::comparison,
        attribution::comparison_svg, deals::get_deal_attribution,
    ),
    // The schemas of bodies are collected from the paths; these are used by parameters or
    // referenced by name only.
    components(schemas(platform::reports::Format, platform::http::Problem, platform::http::FieldError)),
    tags(
        (name = "touchpoints", description = "Ingest and read touchpoints"),
        (name = "journeys", description = "A lead's touches and conversions"),
        (name = "affiliates", description = "Affiliate terms"),
        (name = "attribution", description = "Attribution models over stored journeys or ad-hoc paths"),
        (name = "reports", description = "Reports as JSON, CSV or Parquet"),
    )
)]
pub struct ApiDoc;

/// The channel and touch-type vocabularies, which the schema of a `String` cannot carry.
struct Vocabularies;

impl utoipa::Modify for Vocabularies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use contracts::touchpoints::{CHANNELS, TOUCH_TYPES};
        // An unknown lead has an empty journey, not a 404.
        platform::openapi::never_answers(openapi, "/v1/leads/{id}/journey", 404);
        for schema in ["TouchpointInput", "TouchpointResponse"] {
            platform::openapi::enumerate(openapi, schema, "channel", &CHANNELS);
            platform::openapi::enumerate(openapi, schema, "type", &TOUCH_TYPES);
        }
        platform::openapi::enumerate_query(openapi, "/v1/touchpoints", "channel", &CHANNELS);
        for path in [
            "/v1/attribution",
            "/v1/reports/attribution-comparison",
            "/v1/reports/attribution-comparison.svg",
        ] {
            platform::openapi::enumerate_query(openapi, path, "group_by", &["channel", "campaign"]);
        }
    }
}

/// Largest JSON body of `POST /v1/touchpoints` (an array of touches); bigger loads go to
/// the streamed bulk endpoint.
pub const JSON_ARRAY_LIMIT: usize = 16 << 20;

pub fn routes(cfg: &mut web::ServiceConfig, config: Arc<TouchpointsConfig>) {
    cfg.app_data(web::Data::from(config))
        .service(
            web::resource("/v1/touchpoints")
                .app_data(JsonLimit(JSON_ARRAY_LIMIT))
                .route(web::post().to(touchpoints::post_touchpoints))
                .route(web::get().to(touchpoints::list_touchpoints)),
        )
        .route("/v1/touchpoints/bulk", web::post().to(bulk::bulk_ingest))
        .route(
            "/v1/touchpoints/{id}",
            web::get().to(touchpoints::get_touchpoint),
        )
        .route(
            "/v1/leads/{id}/journey",
            web::get().to(journeys::get_journey),
        )
        .route("/v1/affiliates", web::get().to(affiliates::list_affiliates))
        .service(
            web::resource("/v1/affiliates/{id}")
                .route(web::put().to(affiliates::put_affiliate))
                .route(web::get().to(affiliates::get_affiliate)),
        )
        .route(
            "/v1/reports/campaign-performance",
            web::get().to(reports::campaign_performance),
        )
        .route("/v1/reports/affiliates", web::get().to(reports::affiliates))
        .route(
            "/v1/reports/journey-lengths",
            web::get().to(reports::journey_lengths),
        )
        .route("/v1/reports/top-paths", web::get().to(reports::top_paths))
        .route(
            "/v1/attribution",
            web::get().to(attribution::get_attribution),
        )
        .route(
            "/v1/deals/{id}/attribution",
            web::get().to(deals::get_deal_attribution),
        )
        .route(
            "/v1/attribution/compute",
            web::post().to(attribution::compute_paths),
        )
        .route(
            "/v1/reports/attribution-comparison",
            web::get().to(attribution::comparison),
        )
        .route(
            "/v1/reports/attribution-comparison.svg",
            web::get().to(attribution::comparison_svg),
        );
}

/// A request's `content-type` as sent, and its essence (the media type without parameters,
/// lower-cased).
pub fn media_type(req: &actix_web::HttpRequest) -> (String, String) {
    let sent = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = sent.split(';').next().unwrap_or("").trim();
    (sent.to_string(), essence.to_ascii_lowercase())
}

/// An integer query parameter in `min..=max`, or a field error naming it.
pub fn int_param(q: &mut Query<'_>, name: &str, min: u32, max: u32) -> Option<u32> {
    q.parse(name, &format!("an integer from {min} to {max}"), |s| {
        s.parse::<u32>().ok().filter(|n| (min..=max).contains(n))
    })
}
