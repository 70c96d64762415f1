//! HTTP routes of the leads service and its OpenAPI document.

pub mod accounts;
pub mod import;
pub mod leads;
pub mod qualification;
pub mod reports;
pub mod scoring;

use crate::error::LeadsError;
use actix_web::web;
use platform::http::json::merge_patch;
use platform::openapi::ProblemResponses;
use platform::validation::Invalid;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    modifiers(&ProblemResponses, &Vocabularies),
    info(
        title = "Touchstone leads",
        description = "Accounts (ABM), leads, lifecycle, scoring, MEDDICC qualification and lead reports. Errors are RFC 9457 problems."
    ),
    paths(
        leads::create_lead, import::import_leads, leads::get_lead, leads::list_leads, leads::patch_lead,
        leads::move_lead, leads::lifecycle_history, leads::merge_lead, leads::get_score,
        accounts::create_account, accounts::get_account, accounts::patch_account,
        accounts::list_accounts, accounts::target_accounts, accounts::account_engagement,
        scoring::get_model, scoring::put_model,
        qualification::put_meddicc, qualification::get_meddicc,
        qualification::get_rule, qualification::put_rule,
        reports::lead_quality, reports::score_distribution, reports::abm_engagement,
    ),
    // The schemas of bodies are collected from the paths; these are used by parameters or
    // referenced by name only.
    components(schemas(accounts::AbmTier, import::ImportModeName, platform::reports::Format, platform::http::Problem, platform::http::FieldError)),
    tags(
        (name = "leads", description = "Leads, lifecycle, merge and scores"),
        (name = "accounts", description = "Accounts and account-based marketing"),
        (name = "scoring", description = "The scoring model and MEDDICC qualification"),
        (name = "reports", description = "Lead reports as JSON, CSV or Parquet"),
    )
)]
pub struct ApiDoc;

/// The lead-source and lifecycle-stage vocabularies, which the schema of a `String` cannot
/// carry.
struct Vocabularies;

impl utoipa::Modify for Vocabularies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use crate::domain::LeadSource;
        use crate::domain::account::AbmTier;
        use crate::domain::lifecycle::Stage;
        use crate::domain::scoring::Grade;
        use platform::openapi::{distribute_all_of, enumerate, enumerate_query, require};
        let sources: Vec<&str> = LeadSource::ALL.iter().map(|s| s.as_str()).collect();
        let stages: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
        let tiers: Vec<&str> = AbmTier::ALL.iter().map(|t| t.as_str()).collect();
        enumerate(openapi, "LeadInput", "source", &sources);
        enumerate(openapi, "LeadResponse", "source", &sources);
        enumerate(
            openapi,
            "LeadInput",
            "lifecycle_stage",
            &["subscriber", "lead"],
        );
        enumerate(openapi, "LeadResponse", "lifecycle_stage", &stages);
        enumerate(openapi, "LeadResponse", "grade", &Grade::ALL);
        enumerate(openapi, "MoveRequest", "to_stage", &stages);
        enumerate(openapi, "StageChangeResponse", "from_stage", &stages);
        enumerate(openapi, "StageChangeResponse", "to_stage", &stages);
        enumerate(openapi, "MeddiccResponse", "lifecycle_stage", &stages);
        enumerate(openapi, "AccountInput", "abm_tier", &tiers);
        enumerate(openapi, "AccountResponse", "abm_tier", &tiers);
        enumerate_query(openapi, "/v1/leads", "stage", &stages);
        enumerate_query(openapi, "/v1/leads", "source", &sources);
        enumerate_query(openapi, "/v1/leads", "grade", &Grade::ALL);
        for path in ["/v1/leads", "/v1/accounts", "/v1/accounts/targets"] {
            enumerate_query(openapi, path, "sort", &SORTS);
        }
        enumerate_query(
            openapi,
            "/v1/reports/score-distribution",
            "part",
            &["histogram", "grades"],
        );
        distribute_all_of(openapi, "FitRule");
        // The card's elements are all-Option in Rust so that each missing one is named.
        // (LeadInput and AccountInput also describe PATCH merge patches, so they keep every
        // field optional.)
        require(
            openapi,
            "MeddiccInput",
            &[
                "metrics",
                "economic_buyer",
                "decision_criteria",
                "decision_process",
                "identify_pain",
                "champion",
                "competition",
            ],
        );
        require(openapi, "ElementInput", &["score"]);
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/leads")
            .route(web::post().to(leads::create_lead))
            .route(web::get().to(leads::list_leads)),
    )
    .route("/v1/leads/import", web::post().to(import::import_leads))
    .service(
        web::resource("/v1/leads/{id}")
            .route(web::get().to(leads::get_lead))
            .route(web::patch().to(leads::patch_lead)),
    )
    .service(
        web::resource("/v1/leads/{id}/lifecycle")
            .route(web::post().to(leads::move_lead))
            .route(web::get().to(leads::lifecycle_history)),
    )
    .route("/v1/leads/{id}/merge", web::post().to(leads::merge_lead))
    .route("/v1/leads/{id}/score", web::get().to(leads::get_score))
    .service(
        web::resource("/v1/leads/{id}/meddicc")
            .route(web::put().to(qualification::put_meddicc))
            .route(web::get().to(qualification::get_meddicc)),
    )
    .service(
        web::resource("/v1/accounts")
            .route(web::post().to(accounts::create_account))
            .route(web::get().to(accounts::list_accounts)),
    )
    .route(
        "/v1/accounts/targets",
        web::get().to(accounts::target_accounts),
    )
    .service(
        web::resource("/v1/accounts/{id}")
            .route(web::get().to(accounts::get_account))
            .route(web::patch().to(accounts::patch_account)),
    )
    .route(
        "/v1/accounts/{id}/engagement",
        web::get().to(accounts::account_engagement),
    )
    .service(
        web::resource("/v1/scoring-model")
            .route(web::get().to(scoring::get_model))
            .route(web::put().to(scoring::put_model)),
    )
    .service(
        web::resource("/v1/qualification-rule")
            .route(web::get().to(qualification::get_rule))
            .route(web::put().to(qualification::put_rule)),
    )
    .route(
        "/v1/reports/lead-quality",
        web::get().to(reports::lead_quality),
    )
    .route(
        "/v1/reports/score-distribution",
        web::get().to(reports::score_distribution),
    )
    .route(
        "/v1/reports/abm-engagement",
        web::get().to(reports::abm_engagement),
    );
}

/// The new state a JSON merge patch makes of `current` (a resource as its client would send
/// it), checked by the domain's `parse`. `read_only` fields are a 422 naming them.
pub fn apply_patch<I, D, T>(
    current: I,
    patch: &serde_json::Value,
    read_only: &[(&str, &str)],
    parse: impl FnOnce(D) -> Result<T, Invalid>,
) -> Result<T, LeadsError>
where
    I: Serialize + DeserializeOwned + Into<D>,
{
    let merged = merge_patch(&current, patch, read_only)?;
    Ok(parse(merged.into())?)
}

pub use platform::http::query::{PageParams, Query, no_query, paginate, paginate_by_key, path_id};
pub use platform::http::sort::{SORTS, Sort, keyset_key, sorted_page};
pub use platform::http::versioning;
