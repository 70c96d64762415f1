//! The scoring model as data: read the current version, replace it with a new one.

use actix_web::{HttpResponse, web};
use platform::Db;
use platform::http::json::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::scoring::ScoringModel;
use crate::error::LeadsError;
use crate::store::scoring;

/// A version of the scoring model.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelResponse {
    pub version: i32,
    pub model: ScoringModel,
    /// Every version, oldest first; older ones are kept for audit.
    pub versions: Vec<i32>,
}

/// The current scoring model and its version.
#[utoipa::path(
    get, path = "/v1/scoring-model", tag = "scoring",
    responses((status = 200, body = ModelResponse))
)]
pub async fn get_model(db: web::Data<Db>) -> Result<HttpResponse, LeadsError> {
    let response = db
        .run(|conn| {
            let (version, model) = scoring::current_model(conn)?;
            let versions = scoring::model_versions(conn)?
                .into_iter()
                .map(|(v, _)| v)
                .collect();
            Ok::<_, LeadsError>(ModelResponse {
                version,
                model,
                versions,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(response))
}

/// Saves a new version of the scoring model. Existing scores change as leads are next
/// scored (on their next update or touch).
#[utoipa::path(
    put, path = "/v1/scoring-model", tag = "scoring",
    request_body = ScoringModel,
    responses(
        (status = 200, body = ModelResponse),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_model(
    db: web::Data<Db>,
    body: Json<ScoringModel>,
) -> Result<HttpResponse, LeadsError> {
    let model = body.into_inner();
    model.validate()?;
    let response = db
        .run(move |conn| {
            conn.build_transaction().run(|tx| {
                let version = scoring::save_model(tx, &model)?;
                let versions = scoring::model_versions(tx)?
                    .into_iter()
                    .map(|(v, _)| v)
                    .collect();
                Ok::<_, LeadsError>(ModelResponse {
                    version,
                    model,
                    versions,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(response))
}
