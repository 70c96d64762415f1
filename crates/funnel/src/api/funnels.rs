//! Funnel definitions: create, read (any version), replace, list.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use platform::Db;
use platform::http::json::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Query, created, path_id, version};
use crate::domain::funnel::{self, FunnelDef};
use crate::error::FunnelError;
use crate::usecases::funnels::{self as usecase, Funnel};

/// A stage as clients send it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageInput {
    pub name: Option<String>,
    #[serde(default)]
    pub optional: bool,
    /// Maximum time from the previous step, e.g. `14d`.
    pub window: Option<String>,
    /// Minimum time from the previous step, e.g. `1h`.
    pub min_gap: Option<String>,
    /// The leads lifecycle stage this stage mirrors: `lead.lifecycle_changed` to it advances
    /// linked deals here.
    pub lifecycle: Option<String>,
    /// `lead.qualified` advances linked deals to this stage.
    #[serde(default)]
    pub on_qualified: bool,
}

/// A funnel as clients send it to `POST` and `PUT /v1/funnels`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FunnelInput {
    pub name: Option<String>,
    pub stages: Option<Vec<StageInput>>,
    /// Open a deal in the first stage when a lead is created. Default false.
    pub open_on_lead_created: Option<bool>,
}

impl From<StageInput> for funnel::StageInput {
    fn from(s: StageInput) -> Self {
        funnel::StageInput {
            name: s.name,
            optional: s.optional,
            window: s.window,
            min_gap: s.min_gap,
            lifecycle: s.lifecycle,
            on_qualified: s.on_qualified,
        }
    }
}

impl From<FunnelInput> for funnel::FunnelInput {
    fn from(f: FunnelInput) -> Self {
        funnel::FunnelInput {
            name: f.name,
            stages: f.stages.map(|s| s.into_iter().map(Into::into).collect()),
            open_on_lead_created: f.open_on_lead_created,
        }
    }
}

/// A validated stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Stage {
    pub name: String,
    pub optional: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_gap: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub on_qualified: bool,
}

impl From<funnel::Stage> for Stage {
    fn from(s: funnel::Stage) -> Self {
        Stage {
            name: s.name,
            optional: s.optional,
            window: s.window.map(|w| w.to_string()),
            min_gap: s.min_gap.map(|g| g.to_string()),
            lifecycle: s.lifecycle,
            on_qualified: s.on_qualified,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FunnelResponse {
    pub id: Uuid,
    pub name: String,
    /// Bumped whenever the stages change; reports name the version they used.
    pub version: i32,
    pub open_on_lead_created: bool,
    pub stages: Vec<Stage>,
    /// The stage that wins a deal (the last); `lost` is implicit.
    pub won_stage: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Funnel> for FunnelResponse {
    fn from(f: Funnel) -> Self {
        FunnelResponse {
            id: f.id,
            won_stage: f.def.won_stage().to_string(),
            name: f.def.name,
            version: f.version,
            open_on_lead_created: f.def.open_on_lead_created,
            stages: f.def.stages.into_iter().map(Stage::from).collect(),
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FunnelList {
    pub items: Vec<FunnelResponse>,
}

/// Creates a funnel at version 1.
#[utoipa::path(
    post, path = "/v1/funnels", tag = "funnels",
    request_body = FunnelInput,
    responses(
        (status = 201, body = FunnelResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn create_funnel(
    db: web::Data<Db>,
    body: Json<FunnelInput>,
) -> Result<HttpResponse, FunnelError> {
    let def = FunnelDef::parse(body.into_inner().into())?;
    let f = usecase::create(&db, def).await?;
    Ok(created(
        format!("/v1/funnels/{}", f.id),
        FunnelResponse::from(f),
    ))
}

/// A funnel at its current version, or at `?version=`.
#[utoipa::path(
    get, path = "/v1/funnels/{id}", tag = "funnels",
    params(("id" = Uuid, Path), ("version" = Option<i32>, Query, minimum = 1, description = "A version of the funnel; the current one by default")),
    responses(
        (status = 200, body = FunnelResponse),
        (status = 404, description = "No such funnel, or no such version of it", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The id is not a UUID, or `version` is not a positive integer", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_funnel(
    db: web::Data<Db>,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, FunnelError> {
    let id = path_id(&id)?;
    let mut q = Query::new(&query, &["version"]);
    let version = version(&mut q);
    q.finish()?;
    let f = usecase::find(&db, id, version).await?;
    Ok(HttpResponse::Ok().json(FunnelResponse::from(f)))
}

/// Replaces a funnel's definition. Changed stages make a new version; deals keep the
/// version they were opened in.
#[utoipa::path(
    put, path = "/v1/funnels/{id}", tag = "funnels",
    request_body = FunnelInput,
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = FunnelResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn put_funnel(
    db: web::Data<Db>,
    id: web::Path<String>,
    body: Json<FunnelInput>,
) -> Result<HttpResponse, FunnelError> {
    let id = path_id(&id)?;
    let def = FunnelDef::parse(body.into_inner().into())?;
    let f = usecase::replace(&db, id, def).await?;
    Ok(HttpResponse::Ok().json(FunnelResponse::from(f)))
}

#[utoipa::path(
    get, path = "/v1/funnels", tag = "funnels",
    responses((status = 200, body = FunnelList))
)]
pub async fn list_funnels(db: web::Data<Db>) -> Result<HttpResponse, FunnelError> {
    let items = usecase::list(&db).await?;
    Ok(HttpResponse::Ok().json(FunnelList {
        items: items.into_iter().map(FunnelResponse::from).collect(),
    }))
}
