//! HTTP routes of the funnel service and its OpenAPI document.

pub mod deals;
pub mod funnels;
pub mod import;
pub mod reports;

use actix_web::web;
use platform::openapi::ProblemResponses;
use utoipa::OpenApi;

pub use platform::http::query::{Query, paginate, path_id};

#[derive(OpenApi)]
#[openapi(
    modifiers(&ProblemResponses, &Vocabularies),
    info(
        title = "Touchstone funnel",
        description = "Funnels, deals, the append-only stage-transition log and funnel analytics. Errors are RFC 9457 problems."
    ),
    paths(
        funnels::create_funnel, funnels::get_funnel, funnels::put_funnel, funnels::list_funnels,
        import::import_events,
        deals::create_deal, deals::get_deal, deals::patch_deal, deals::list_deals,
        deals::post_transition, deals::list_transitions,
        reports::funnel_report, reports::funnel_chart,
    ),
    // The schemas of bodies are collected from the paths; these are used by parameters or
    // referenced by name only.
    components(schemas(platform::reports::Format, platform::http::Problem, platform::http::FieldError)),
    tags(
        (name = "funnels", description = "Funnel definitions and history import"),
        (name = "deals", description = "Deals and their stage transitions"),
        (name = "reports", description = "Funnel analytics as JSON, CSV, Parquet or SVG"),
    )
)]
pub struct ApiDoc;

/// The vocabularies of string fields, which the schema of a `String` cannot carry.
struct Vocabularies;

impl utoipa::Modify for Vocabularies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use contracts::funnel::{METHODOLOGIES, STAKEHOLDER_ROLES};
        use platform::openapi::{enumerate, enumerate_query, require};
        use platform::sort::SORTS;
        enumerate(openapi, "DealInput", "methodology", &METHODOLOGIES);
        enumerate(openapi, "DealResponse", "methodology", &METHODOLOGIES);
        enumerate(openapi, "DealPatch", "methodology", &METHODOLOGIES);
        enumerate(openapi, "DealResponse", "status", &["open", "won", "lost"]);
        enumerate(openapi, "StakeholderInput", "role", &STAKEHOLDER_ROLES);
        enumerate(
            openapi,
            "TransitionResponse",
            "origin",
            &["api", "import", "lead_event"],
        );
        enumerate_query(openapi, "/v1/deals", "sort", &SORTS);
        // Inputs are all-Option in Rust so that the domain names each missing field; these
        // are the fields it requires.
        require(openapi, "FunnelInput", &["name", "stages"]);
        require(openapi, "StageInput", &["name"]);
        require(openapi, "DealInput", &["funnel_id"]);
        require(openapi, "TransitionInput", &["to_stage"]);
        require(openapi, "StakeholderInput", &["person"]);
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/funnels")
            .route(web::post().to(funnels::create_funnel))
            .route(web::get().to(funnels::list_funnels)),
    )
    .service(
        web::resource("/v1/funnels/{id}")
            .route(web::get().to(funnels::get_funnel))
            .route(web::put().to(funnels::put_funnel)),
    )
    .route(
        "/v1/funnels/{id}/events",
        web::post().to(import::import_events),
    )
    .route(
        "/v1/funnels/{id}/report",
        web::get().to(reports::funnel_report),
    )
    .route(
        "/v1/funnels/{id}/report.svg",
        web::get().to(reports::funnel_chart),
    )
    .service(
        web::resource("/v1/deals")
            .route(web::post().to(deals::create_deal))
            .route(web::get().to(deals::list_deals)),
    )
    .service(
        web::resource("/v1/deals/{id}")
            .route(web::get().to(deals::get_deal))
            .route(web::patch().to(deals::patch_deal)),
    )
    .service(
        web::resource("/v1/deals/{id}/transitions")
            .route(web::post().to(deals::post_transition))
            .route(web::get().to(deals::list_transitions)),
    );
}

/// The `version` query parameter: a funnel version, a positive integer.
fn version(q: &mut Query) -> Option<i32> {
    q.parse("version", "a positive integer", |s| {
        s.parse::<i32>().ok().filter(|v| *v > 0)
    })
}
