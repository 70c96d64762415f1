//! Scenarios: saved calculator inputs and results, versioned, and their comparison.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use platform::Db;
use platform::http::idempotency::IdempotencyKey;
use platform::http::json::Json;
use platform::http::query::{PageParams, path_id};
use platform::http::versioning;
use platform::validation::Invalid;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::calculator::{CalculateRequest, CalculateResponse};
use super::{IfMatch, Query, created, idempotent};
use crate::domain::calculator;
use crate::domain::scenario;
use crate::error::BreakevenError;
use crate::store::scenarios::ScenarioRow;
use crate::usecases::scenarios as usecase;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioInput {
    pub name: String,
    /// The calculator's inputs; the results are computed and saved with them.
    pub inputs: CalculateRequest,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScenarioResponse {
    pub id: Uuid,
    pub version: i32,
    pub name: String,
    #[schema(value_type = Object)]
    pub inputs: serde_json::Value,
    #[schema(value_type = Object)]
    pub results: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl From<ScenarioRow> for ScenarioResponse {
    fn from(r: ScenarioRow) -> Self {
        ScenarioResponse {
            id: r.id,
            version: r.version,
            name: r.name,
            inputs: r.inputs,
            results: r.results,
            created_at: r.created_at,
        }
    }
}

platform::page!(
    /// A page of scenarios (each at its latest version) in id order.
    ScenarioPage,
    ScenarioResponse
);

/// Name, inputs and results, ready to save: the calculation runs before anything is
/// written, so a bad input writes nothing.
fn evaluate(
    input: &ScenarioInput,
) -> Result<(String, serde_json::Value, serde_json::Value), BreakevenError> {
    let name = input.name.trim();
    if name.is_empty() {
        return Err(Invalid::field("name", "must not be empty").into());
    }
    let analysis = calculator::calculate(&input.inputs.clone().into(), Utc::now().date_naive())
        // Name the fields as they sit in this body.
        .map_err(|r| r.within("inputs"))?;
    let inputs = serde_json::to_value(&input.inputs).map_err(anyhow::Error::from)?;
    let results =
        serde_json::to_value(CalculateResponse::from(analysis)).map_err(anyhow::Error::from)?;
    Ok((name.to_string(), inputs, results))
}

/// Saves a scenario as version 1.
#[utoipa::path(
    post, path = "/v1/scenarios", tag = "scenarios", request_body = ScenarioInput,
    responses(
        (status = 201, body = ScenarioResponse, headers(("etag" = String, description = "The version, for If-Match"), ("location" = String))),
        (status = 422, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn create_scenario(
    db: web::Data<Db>,
    key: IdempotencyKey,
    body: Json<ScenarioInput>,
) -> Result<HttpResponse, BreakevenError> {
    let (name, inputs, results) = evaluate(&body.value)?;
    idempotent(&db, "POST /v1/scenarios", key, body.raw, move |tx| {
        let row = usecase::create(tx, &name, inputs, results)?;
        Ok(created(
            format!("/v1/scenarios/{}", row.id),
            row.version,
            &ScenarioResponse::from(row),
        ))
    })
    .await
}

/// Saves a new version of a scenario; `If-Match` names its latest version.
#[utoipa::path(
    put, path = "/v1/scenarios/{id}", tag = "scenarios", request_body = ScenarioInput, params(("id" = Uuid, Path)),
    responses((status = 200, body = ScenarioResponse, headers(("etag" = String, description = "The new version"))), (status = 404, body = platform::http::Problem, content_type = "application/problem+json"), (status = 422, body = platform::http::Problem, content_type = "application/problem+json"))
)]
#[tracing::instrument(skip_all)]
pub async fn put_scenario(
    IfMatch(expected): IfMatch,
    db: web::Data<Db>,
    id: web::Path<String>,
    body: Json<ScenarioInput>,
) -> Result<HttpResponse, BreakevenError> {
    let id = path_id(&id)?;
    let (name, inputs, results) = evaluate(&body.value)?;
    let row = usecase::save_version(&db, id, expected, name, inputs, results).await?;
    Ok(versioning::versioned(
        StatusCode::OK,
        row.version,
        &ScenarioResponse::from(row),
    ))
}

fn version_param(q: &mut Query<'_>, name: &str) -> Option<i32> {
    q.parse(name, "a positive integer", |s| {
        s.parse::<i32>().ok().filter(|v| *v > 0)
    })
}

/// The latest version of a scenario, or `?version=n`; the `ETag` is the version answered.
#[utoipa::path(
    get, path = "/v1/scenarios/{id}", tag = "scenarios",
    params(("id" = Uuid, Path), ("version" = Option<i32>, Query, minimum = 1, description = "A past version (default: the latest)")),
    responses((status = 200, body = ScenarioResponse, headers(("etag" = String, description = "The version answered"))), (status = 404, body = platform::http::Problem, content_type = "application/problem+json"))
)]
pub async fn get_scenario(
    req: HttpRequest,
    db: web::Data<Db>,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, BreakevenError> {
    let id = path_id(&id)?;
    let mut q = Query::new(&query, &["version"]);
    let version = version_param(&mut q, "version");
    q.finish()?;
    let row = usecase::get(&db, id, version).await?;
    Ok(versioning::read(
        &req,
        row.version,
        &ScenarioResponse::from(row),
    ))
}

/// Scenarios, each at its latest version, in id order, a page at a time.
#[utoipa::path(
    get, path = "/v1/scenarios", tag = "scenarios", params(PageParams),
    responses((status = 200, body = ScenarioPage))
)]
pub async fn list_scenarios(
    db: web::Data<Db>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, BreakevenError> {
    let (items, next_cursor) =
        crate::api::page_by_id(&query, |after, n| usecase::page(&db, after, n), |r| r.id).await?;
    Ok(HttpResponse::Ok().json(ScenarioPage { items, next_cursor }))
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareRequest {
    /// The scenario to compare against.
    pub other_id: Uuid,
    /// Version of this scenario (default: latest).
    #[serde(default)]
    pub version: Option<i32>,
    /// Version of the other scenario (default: latest).
    #[serde(default)]
    pub other_version: Option<i32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScenarioRef {
    pub id: Uuid,
    pub version: i32,
    pub name: String,
}

impl From<ScenarioRow> for ScenarioRef {
    fn from(r: ScenarioRow) -> Self {
        ScenarioRef {
            id: r.id,
            version: r.version,
            name: r.name,
        }
    }
}

/// One figure of the comparison, named by its JSON path in the results (`breakeven.units`,
/// `sales_mix.products[1].units`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FigureDiff {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<Decimal>,
    /// other − base, when both are present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difference: Option<Decimal>,
    /// (other − base) / |base| × 100, when both are present and base is not zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_percent: Option<Decimal>,
}

impl From<scenario::FigureDiff> for FigureDiff {
    fn from(f: scenario::FigureDiff) -> Self {
        FigureDiff {
            path: f.path,
            base: f.base,
            other: f.other,
            difference: f.difference,
            change_percent: f.change_percent,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ComparisonResponse {
    pub base: ScenarioRef,
    pub other: ScenarioRef,
    pub currency: String,
    /// Every figure of either result: base, other, other − base and the change in %.
    pub figures: Vec<FigureDiff>,
}

/// Compares this scenario's results with another's. Both must be in one currency.
#[utoipa::path(
    post, path = "/v1/scenarios/{id}/compare", tag = "scenarios", request_body = CompareRequest, params(("id" = Uuid, Path)),
    responses((status = 200, body = ComparisonResponse), (status = 404, body = platform::http::Problem, content_type = "application/problem+json"), (status = 422, body = platform::http::Problem, content_type = "application/problem+json"))
)]
pub async fn compare_scenarios(
    db: web::Data<Db>,
    id: web::Path<String>,
    body: Json<CompareRequest>,
) -> Result<HttpResponse, BreakevenError> {
    let id = path_id(&id)?;
    let req = body.into_inner();
    let c = usecase::compare(&db, (id, req.version), (req.other_id, req.other_version)).await?;
    Ok(HttpResponse::Ok().json(ComparisonResponse {
        currency: c.currency,
        base: ScenarioRef::from(c.base),
        other: ScenarioRef::from(c.other),
        figures: c.figures.into_iter().map(Into::into).collect(),
    }))
}
