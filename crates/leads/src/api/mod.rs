//! HTTP routes of the leads service and its OpenAPI document.

pub mod leads;

use actix_web::web;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Touchstone leads",
        description = "Accounts, leads, sources, scoring and lifecycle. Errors are RFC 9457 problems."
    ),
    paths(leads::create_lead, leads::get_lead, leads::list_leads),
    components(schemas(
        leads::CreateLeadRequest,
        leads::LeadResponse,
        leads::LeadPage,
        platform::http::Problem,
        platform::http::FieldError
    )),
    tags((name = "leads", description = "Lead capture and lookup"))
)]
pub struct ApiDoc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/leads")
            .route(web::post().to(leads::create_lead))
            .route(web::get().to(leads::list_leads)),
    )
    .route("/v1/leads/{id}", web::get().to(leads::get_lead));
}
