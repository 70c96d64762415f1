//! Funnel definitions: create, read (any version), replace, list.
//!
//! A funnel's ETag is its `revision`, which every replace bumps; `version` numbers its
//! stage lists and moves only when the stages change.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use platform::Db;
use platform::http::idempotency::{self, IdempotencyKey, StoredResponse};
use platform::http::json::Json;
use platform::http::query::PageParams;
use platform::http::versioning;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Query, paginate, path_id, version};
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
    /// Bumped by every replace: the funnel's ETag (`"<revision>"`), to send in `If-Match`.
    pub revision: i32,
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
            revision: f.revision,
            open_on_lead_created: f.def.open_on_lead_created,
            stages: f.def.stages.into_iter().map(Stage::from).collect(),
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

platform::page!(
    /// A page of funnels, by id.
    FunnelPage,
    FunnelResponse
);

/// Creates a funnel at version 1 (revision 1).
#[utoipa::path(
    post, path = "/v1/funnels", tag = "funnels",
    request_body = FunnelInput,
    responses(
        (status = 201, body = FunnelResponse, headers(
            ("etag" = String, description = "The funnel's revision: send it in If-Match to replace it"),
            ("location" = String, description = "The new funnel"),
        )),
        (status = 422, description = "Invalid fields, or Idempotency-Key reused with another body", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(funnel_id))]
pub async fn create_funnel(
    db: web::Data<Db>,
    key: IdempotencyKey,
    body: Json<FunnelInput>,
) -> Result<HttpResponse, FunnelError> {
    let raw = body.raw.clone();
    let def = FunnelDef::parse(body.into_inner().into())?;
    let (response, replayed) = db
        .run(move |conn| {
            idempotency::run(conn, "POST /v1/funnels", &key, &raw, |tx| {
                let f = usecase::create(tx, def)?;
                tracing::Span::current().record("funnel_id", tracing::field::display(f.id));
                let location = format!("/v1/funnels/{}", f.id);
                let (etag, value) = versioning::etag(f.revision);
                Ok::<_, FunnelError>(
                    StoredResponse::json(StatusCode::CREATED, &FunnelResponse::from(f))
                        .header("location", location)
                        .header(etag, value),
                )
            })
        })
        .await?;
    Ok(response.into_response(replayed))
}

/// A funnel at its current version, or at `?version=`. Its ETag is the funnel's revision,
/// whichever version is asked for.
#[utoipa::path(
    get, path = "/v1/funnels/{id}", tag = "funnels",
    params(("id" = Uuid, Path), ("version" = Option<i32>, Query, minimum = 1, description = "A version of the funnel; the current one by default")),
    responses(
        (status = 200, body = FunnelResponse, headers(("etag" = String, description = "The funnel's revision: send it in If-Match to replace it"))),
        (status = 404, description = "No such funnel, or no such version of it", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The id is not a UUID, `version` is not a positive integer, or an unknown query parameter", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_funnel(
    req: HttpRequest,
    db: web::Data<Db>,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, FunnelError> {
    let id = path_id(&id)?;
    let mut q = Query::new(&query, &["version"]);
    let version = version(&mut q);
    q.finish()?;
    let f = usecase::find(&db, id, version).await?;
    let revision = f.revision;
    Ok(versioning::read(&req, revision, &FunnelResponse::from(f)))
}

/// Replaces a funnel's definition, if `If-Match` names its current revision. Changed stages
/// make a new version; deals keep the version they were opened in.
#[utoipa::path(
    put, path = "/v1/funnels/{id}", tag = "funnels",
    request_body = FunnelInput,
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = FunnelResponse, headers(("etag" = String, description = "The funnel's new revision"))),
    )
)]
#[tracing::instrument(skip_all, fields(funnel_id = %id))]
pub async fn put_funnel(
    req: HttpRequest,
    db: web::Data<Db>,
    id: web::Path<String>,
    body: Json<FunnelInput>,
) -> Result<HttpResponse, FunnelError> {
    let id = path_id(&id)?;
    let expected = versioning::if_match(&req)?;
    let def = FunnelDef::parse(body.into_inner().into())?;
    let f = usecase::replace(&db, id, expected, def).await?;
    let revision = f.revision;
    Ok(versioning::versioned(
        StatusCode::OK,
        revision,
        &FunnelResponse::from(f),
    ))
}

/// Funnels at their current version, by id.
#[utoipa::path(
    get, path = "/v1/funnels", tag = "funnels",
    params(PageParams),
    responses(
        (status = 200, body = FunnelPage),
        (status = 422, description = "A bad `limit` or `cursor`, or an unknown query parameter", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_funnels(
    db: web::Data<Db>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, FunnelError> {
    let mut q = Query::new(&query, &["limit", "cursor"]);
    let (limit, after) = q.page();
    q.finish()?;
    let rows = usecase::list(&db, after, limit + 1).await?;
    let (rows, next_cursor) = paginate(rows, limit, |f| f.id);
    Ok(HttpResponse::Ok().json(FunnelPage {
        items: rows.into_iter().map(FunnelResponse::from).collect(),
        next_cursor,
    }))
}
