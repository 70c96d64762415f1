//! MEDDICC qualification: a lead's card, its evaluation against the configurable rule, and
//! the rule itself.

use actix_web::{HttpResponse, web};
use platform::http::json::Json;
use platform::{Db, TraceContext};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::path_id;
use crate::domain::meddicc::{Evaluation, Meddicc, MeddiccInput, QualificationRule, evaluate};
use crate::error::LeadsError;
use crate::store::{self, scoring};

#[derive(Debug, Serialize, ToSchema)]
pub struct MeddiccResponse {
    pub lead_id: Uuid,
    pub meddicc: Meddicc,
    /// Which gates passed or failed under the current rule.
    pub evaluation: Evaluation,
    pub lifecycle_stage: String,
}

/// Stores the lead's MEDDICC (or MEDDPICC, with `paper_process`) scores. When the rule
/// passes for the first time, `lead.qualified` is published and the lead moves to `sql`.
#[utoipa::path(
    put, path = "/v1/leads/{id}/meddicc", tag = "scoring",
    request_body = MeddiccInput,
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = MeddiccResponse),
        (status = 404, body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn put_meddicc(
    db: web::Data<Db>,
    trace: TraceContext,
    id: web::Path<String>,
    body: Json<MeddiccInput>,
) -> Result<HttpResponse, LeadsError> {
    let id = path_id(&id)?;
    let card = Meddicc::parse(body.into_inner())?;
    let response = db
        .run(move |conn| {
            conn.build_transaction().run(|tx| {
                let (_, rule) = scoring::current_rule(tx)?;
                let (lead, evaluation) = store::put_meddicc(tx, id, &card, &rule, &trace)?;
                Ok::<_, LeadsError>(MeddiccResponse {
                    lead_id: id,
                    meddicc: card,
                    evaluation,
                    lifecycle_stage: lead.lifecycle_stage,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(response))
}

#[utoipa::path(
    get, path = "/v1/leads/{id}/meddicc", tag = "scoring",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = MeddiccResponse),
        (status = 404, description = "No such lead, or no MEDDICC card yet", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_meddicc(
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, LeadsError> {
    let id = path_id(&id)?;
    let response = db
        .run(move |conn| {
            let lead = store::find_lead(conn, id)?.ok_or(LeadsError::NotFound(id))?;
            let card: Meddicc = store::meddicc_card(conn, id)?.ok_or_else(|| {
                LeadsError::Invalid(platform::Problem::not_found(format!(
                    "lead {id} has no MEDDICC card yet"
                )))
            })?;
            let (_, rule) = scoring::current_rule(conn)?;
            let evaluation = evaluate(&card, &rule);
            Ok::<_, LeadsError>(MeddiccResponse {
                lead_id: id,
                meddicc: card,
                evaluation,
                lifecycle_stage: lead.lifecycle_stage,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(response))
}

/// A version of the qualification rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleResponse {
    /// 0 is the built-in default.
    pub version: i32,
    pub rule: QualificationRule,
}

/// The current qualification rule (version 0 is the built-in default).
#[utoipa::path(
    get, path = "/v1/qualification-rule", tag = "scoring",
    responses((status = 200, body = RuleResponse))
)]
pub async fn get_rule(db: web::Data<Db>) -> Result<HttpResponse, LeadsError> {
    let (version, rule) = db.run(scoring::current_rule).await?;
    Ok(HttpResponse::Ok().json(RuleResponse { version, rule }))
}

/// Saves a new version of the qualification rule.
#[utoipa::path(
    put, path = "/v1/qualification-rule", tag = "scoring",
    request_body = QualificationRule,
    responses(
        (status = 200, body = RuleResponse),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_rule(
    db: web::Data<Db>,
    body: Json<QualificationRule>,
) -> Result<HttpResponse, LeadsError> {
    let rule = body.into_inner();
    rule.validate()?;
    let saved = rule.clone();
    let version = db.run(move |conn| scoring::save_rule(conn, &saved)).await?;
    Ok(HttpResponse::Ok().json(RuleResponse { version, rule }))
}
