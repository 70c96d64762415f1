//! HTTP routes of the leads service and its OpenAPI document.

pub mod accounts;
pub mod leads;
pub mod qualification;
pub mod reports;
pub mod scoring;

use std::collections::HashMap;

use actix_web::{HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use platform::http::FieldErrors;
use utoipa::OpenApi;
use uuid::Uuid;

use crate::error::LeadsError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Touchstone leads",
        description = "Accounts (ABM), leads, lifecycle, scoring, MEDDICC qualification and lead reports. Errors are RFC 9457 problems."
    ),
    paths(
        leads::create_lead, leads::get_lead, leads::list_leads, leads::patch_lead,
        leads::move_lead, leads::lifecycle_history, leads::merge_lead, leads::get_score,
        accounts::create_account, accounts::get_account, accounts::patch_account,
        accounts::list_accounts, accounts::target_accounts, accounts::account_engagement,
        scoring::get_model, scoring::put_model,
        qualification::put_meddicc, qualification::get_meddicc,
        qualification::get_rule, qualification::put_rule,
        reports::lead_quality, reports::score_distribution, reports::abm_engagement,
    ),
    components(schemas(
        crate::domain::lead::LeadInput,
        leads::LeadResponse,
        leads::LeadPage,
        leads::MoveRequest,
        leads::MergeRequest,
        leads::StageChangeResponse,
        leads::ScoreResponse,
        crate::domain::account::AccountInput,
        crate::domain::account::MoneyInput,
        accounts::AccountResponse,
        accounts::AccountPage,
        accounts::EngagementResponse,
        crate::domain::scoring::ScoringModel,
        crate::domain::meddicc::MeddiccInput,
        crate::domain::meddicc::Meddicc,
        crate::domain::meddicc::QualificationRule,
        crate::domain::meddicc::Evaluation,
        qualification::MeddiccResponse,
        platform::http::Problem,
        platform::http::FieldError
    )),
    tags(
        (name = "leads", description = "Leads, lifecycle, merge and scores"),
        (name = "accounts", description = "Accounts and account-based marketing"),
        (name = "scoring", description = "The scoring model and MEDDICC qualification"),
        (name = "reports", description = "Lead reports as JSON, CSV or Parquet"),
    )
)]
pub struct ApiDoc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/leads")
            .route(web::post().to(leads::create_lead))
            .route(web::get().to(leads::list_leads)),
    )
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

/// A UUID path segment, or a 422 naming `id`.
pub fn path_id(raw: &str) -> Result<Uuid, LeadsError> {
    Uuid::parse_str(raw).map_err(|_| platform::Problem::field("id", "must be a UUID").into())
}

/// The version in `If-Match` (`"3"` or `W/"3"`): missing is 428, unparsable 412.
pub fn if_match(req: &HttpRequest) -> Result<i32, LeadsError> {
    let Some(v) = req.headers().get("if-match") else {
        return Err(LeadsError::VersionRequired);
    };
    v.to_str()
        .ok()
        .map(|s| {
            s.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .to_string()
        })
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            platform::Problem::precondition_failed("If-Match is not an ETag of this resource")
                .into()
        })
}

pub fn etag(version: i32) -> (&'static str, String) {
    ("etag", format!("\"{version}\""))
}

/// Cuts a page fetched with `limit + 1` rows back to `limit`, and names the cursor of the
/// next page when there is one.
pub fn paginate<T>(
    mut rows: Vec<T>,
    limit: i64,
    id: impl Fn(&T) -> Uuid,
) -> (Vec<T>, Option<String>) {
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        let next = rows.last().map(|r| encode_cursor(id(r)));
        (rows, next)
    } else {
        (rows, None)
    }
}

pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

pub fn decode_cursor(s: &str) -> Result<Uuid, String> {
    URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| Uuid::from_slice(&b).ok())
        .ok_or_else(|| "is not a cursor returned by this endpoint".to_string())
}

/// Typed access to a query string that reports every bad or unknown parameter by name.
pub struct Query<'a> {
    pub params: &'a HashMap<String, String>,
    pub errors: FieldErrors,
}

impl<'a> Query<'a> {
    pub fn new(params: &'a HashMap<String, String>, allowed: &[&str]) -> Self {
        let mut errors = FieldErrors::new();
        let mut unknown: Vec<&String> = params
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .collect();
        unknown.sort();
        for k in unknown {
            errors.add(k, "unknown query parameter");
        }
        Query { params, errors }
    }

    pub fn text(&mut self, name: &str) -> Option<String> {
        self.params
            .get(name)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    pub fn parse<T>(&mut self, name: &str, what: &str, f: impl Fn(&str) -> Option<T>) -> Option<T> {
        let raw = self.params.get(name)?;
        let parsed = f(raw.trim()).ok_or_else(|| format!("must be {what}"));
        self.errors.take(name, parsed)
    }

    pub fn time(&mut self, name: &str) -> Option<DateTime<Utc>> {
        self.parse(name, "an RFC 3339 time", |s| {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        })
    }

    pub fn uuid(&mut self, name: &str) -> Option<Uuid> {
        self.parse(name, "a UUID", |s| Uuid::parse_str(s).ok())
    }

    pub fn bool(&mut self, name: &str) -> Option<bool> {
        self.parse(name, "true or false", |s| match s {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })
    }

    pub fn number(&mut self, name: &str) -> Option<f64> {
        self.parse(name, "a number", |s| {
            s.parse::<f64>().ok().filter(|n| n.is_finite())
        })
    }

    /// `limit` (1..=500, default 50) and `cursor`.
    pub fn page(&mut self) -> (i64, Option<Uuid>) {
        let limit = self
            .parse("limit", "an integer from 1 to 500", |s| {
                s.parse::<i64>().ok().filter(|n| (1..=500).contains(n))
            })
            .unwrap_or(50);
        let after = match self.params.get("cursor") {
            Some(c) => self.errors.take("cursor", decode_cursor(c)),
            None => None,
        };
        (limit, after)
    }

    pub fn finish(self) -> Result<(), LeadsError> {
        Ok(self.errors.finish()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)), Ok(id));
        assert!(decode_cursor("!!").is_err());
        assert!(decode_cursor("abc").is_err());
    }
}
