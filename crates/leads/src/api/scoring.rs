//! The scoring model as data: read the current version, replace it with a new one.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use platform::Db;
use platform::http::json::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{no_query, versioning};
use crate::domain::scoring as domain;
use crate::error::LeadsError;
use crate::usecases::scoring as usecases;

/// Everything that turns a lead's attributes and touches into a score and a grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoringModel {
    /// Every rule that matches a lead adds its points to the fit score.
    pub fit_rules: Vec<FitRule>,
    /// Points a touch adds to the engagement score, by touch type and optionally channel.
    pub engagement_points: Vec<EngagementPoints>,
    /// Days after which engagement points are worth half as much. Defaults to 30.
    #[serde(default = "domain::default_half_life_days")]
    pub half_life_days: f64,
    /// Fit at or above `a` grades `A`, at or above `b` grades `B`, else `C`.
    pub fit_bands: Bands,
    /// Engagement at or above `a` grades `1`, at or above `b` grades `2`, else `3`.
    pub engagement_bands: Bands,
    /// Scores at which a lead is promoted to `mql` automatically.
    pub mql: MqlThreshold,
}

/// Two thresholds splitting a score into three bands; `a` is the upper one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Bands {
    pub a: f64,
    pub b: f64,
}

/// A lead qualifies as an MQL when both scores reach these minimums.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MqlThreshold {
    pub min_fit: f64,
    pub min_engagement: f64,
}

/// A named condition on a lead's attributes and the points it is worth. Points may be
/// negative, to mark a poor fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FitRule {
    pub name: String,
    #[serde(flatten)]
    pub condition: Condition,
    pub points: f64,
}

/// The attribute a fit rule looks at, and how. Text comparisons ignore case and surrounding
/// whitespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "attribute", rename_all = "snake_case")]
pub enum Condition {
    /// The title contains any of these words.
    Title { contains_any: Vec<String> },
    /// The industry is one of these.
    Industry { any_of: Vec<String> },
    /// The head count lies in this inclusive range; at least one bound is set.
    Employees {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<i64>,
    },
    /// The region is one of these.
    Region { any_of: Vec<String> },
    /// The lead's account is, or is not, an ABM target.
    AbmTarget { equals: bool },
    /// The account's ABM tier is one of `one_to_one`, `one_to_few`, `one_to_many`, `none`.
    AbmTier { any_of: Vec<String> },
}

/// Points for a touch of `touch_type`, on `channel` only, or on any channel when it is absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EngagementPoints {
    pub touch_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    pub points: f64,
}

/// Converts each way between a wire type and its domain twin, whose fields are the same.
macro_rules! same_fields {
    ($wire:ident <=> $domain:path { $($field:ident),* $(,)? }) => {
        impl From<$wire> for $domain {
            fn from(w: $wire) -> Self {
                Self { $($field: w.$field.into()),* }
            }
        }
        impl From<$domain> for $wire {
            fn from(d: $domain) -> Self {
                Self { $($field: d.$field.into()),* }
            }
        }
    };
}

same_fields!(Bands <=> domain::Bands { a, b });
same_fields!(MqlThreshold <=> domain::MqlThreshold { min_fit, min_engagement });
same_fields!(EngagementPoints <=> domain::EngagementPoints { touch_type, channel, points });
same_fields!(FitRule <=> domain::FitRule { name, condition, points });

impl From<ScoringModel> for domain::ScoringModel {
    fn from(w: ScoringModel) -> Self {
        domain::ScoringModel {
            fit_rules: w.fit_rules.into_iter().map(Into::into).collect(),
            engagement_points: w.engagement_points.into_iter().map(Into::into).collect(),
            half_life_days: w.half_life_days,
            fit_bands: w.fit_bands.into(),
            engagement_bands: w.engagement_bands.into(),
            mql: w.mql.into(),
        }
    }
}

impl From<domain::ScoringModel> for ScoringModel {
    fn from(d: domain::ScoringModel) -> Self {
        ScoringModel {
            fit_rules: d.fit_rules.into_iter().map(Into::into).collect(),
            engagement_points: d.engagement_points.into_iter().map(Into::into).collect(),
            half_life_days: d.half_life_days,
            fit_bands: d.fit_bands.into(),
            engagement_bands: d.engagement_bands.into(),
            mql: d.mql.into(),
        }
    }
}

impl From<Condition> for domain::Condition {
    fn from(c: Condition) -> Self {
        use domain::Condition as D;
        match c {
            Condition::Title { contains_any } => D::Title { contains_any },
            Condition::Industry { any_of } => D::Industry { any_of },
            Condition::Employees { min, max } => D::Employees { min, max },
            Condition::Region { any_of } => D::Region { any_of },
            Condition::AbmTarget { equals } => D::AbmTarget { equals },
            Condition::AbmTier { any_of } => D::AbmTier { any_of },
        }
    }
}

impl From<domain::Condition> for Condition {
    fn from(c: domain::Condition) -> Self {
        use domain::Condition as D;
        match c {
            D::Title { contains_any } => Condition::Title { contains_any },
            D::Industry { any_of } => Condition::Industry { any_of },
            D::Employees { min, max } => Condition::Employees { min, max },
            D::Region { any_of } => Condition::Region { any_of },
            D::AbmTarget { equals } => Condition::AbmTarget { equals },
            D::AbmTier { any_of } => Condition::AbmTier { any_of },
        }
    }
}

/// A version of the scoring model.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelResponse {
    pub version: i32,
    pub model: ScoringModel,
    /// Every version, oldest first; older ones are kept for audit.
    pub versions: Vec<i32>,
}

impl From<usecases::ModelVersions> for ModelResponse {
    fn from(m: usecases::ModelVersions) -> Self {
        ModelResponse {
            version: m.version,
            model: m.model.into(),
            versions: m.versions,
        }
    }
}

/// The current scoring model and its version, which is its ETag.
#[utoipa::path(
    get, path = "/v1/scoring-model", tag = "scoring",
    responses(
        (status = 200, body = ModelResponse, headers(("etag" = String, description = "The current version; send in If-Match to replace the model"))),
        (status = 422, description = "An unknown query parameter", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_model(db: web::Data<Db>, req: HttpRequest) -> Result<HttpResponse, LeadsError> {
    no_query(&req)?;
    let model = db.run(usecases::current_model_versions).await?;
    Ok(versioning::read(
        &req,
        model.version,
        &ModelResponse::from(model),
    ))
}

/// Saves the next version of the scoring model. `If-Match` names the current version (the
/// ETag of the last read); the answer's ETag is the new one. Existing scores change as
/// leads are next scored (on their next update or touch).
#[utoipa::path(
    put, path = "/v1/scoring-model", tag = "scoring",
    request_body = ScoringModel,
    responses(
        (status = 200, body = ModelResponse, headers(("etag" = String, description = "The new version"))),
    )
)]
pub async fn put_model(
    db: web::Data<Db>,
    req: HttpRequest,
    body: Json<ScoringModel>,
) -> Result<HttpResponse, LeadsError> {
    no_query(&req)?;
    let expected = versioning::if_match(&req)?;
    let model = domain::ScoringModel::from(body.into_inner());
    model.validate()?;
    let model = db
        .run(move |conn| usecases::save_model(conn, expected, model))
        .await?;
    Ok(versioning::versioned(
        StatusCode::OK,
        model.version,
        &ModelResponse::from(model),
    ))
}
