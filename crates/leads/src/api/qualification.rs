//! MEDDICC qualification: a lead's card, its evaluation against the configurable rule, and
//! the rule itself.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use platform::http::json::Json;
use platform::{Db, TraceContext};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{no_query, path_id, versioning};
use crate::domain::meddicc::{self as domain, ElementDraft, MeddiccDraft};
use crate::error::LeadsError;
use crate::usecases::qualification::{self as usecases, Qualification};

/// One element's score, 0 (nothing known) to 3 (confirmed), and what it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Element {
    #[schema(minimum = 0, maximum = 3)]
    pub score: u8,
    #[serde(default)]
    pub evidence: Option<String>,
}

/// A scored MEDDICC card. With `paper_process` it is a MEDDPICC card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Meddicc {
    pub metrics: Element,
    pub economic_buyer: Element,
    pub decision_criteria: Element,
    pub decision_process: Element,
    pub identify_pain: Element,
    pub champion: Element,
    pub competition: Element,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper_process: Option<Element>,
}

impl From<domain::Element> for Element {
    fn from(e: domain::Element) -> Self {
        Element {
            score: e.score,
            evidence: e.evidence,
        }
    }
}

impl From<domain::Meddicc> for Meddicc {
    fn from(m: domain::Meddicc) -> Self {
        Meddicc {
            metrics: m.metrics.into(),
            economic_buyer: m.economic_buyer.into(),
            decision_criteria: m.decision_criteria.into(),
            decision_process: m.decision_process.into(),
            identify_pain: m.identify_pain.into(),
            champion: m.champion.into(),
            competition: m.competition.into(),
            paper_process: m.paper_process.map(Into::into),
        }
    }
}

/// A MEDDICC card as a client sent it. Every element is optional here so that each missing
/// one is reported by name.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct MeddiccInput {
    pub metrics: Option<ElementInput>,
    pub economic_buyer: Option<ElementInput>,
    pub decision_criteria: Option<ElementInput>,
    pub decision_process: Option<ElementInput>,
    pub identify_pain: Option<ElementInput>,
    pub champion: Option<ElementInput>,
    pub competition: Option<ElementInput>,
    pub paper_process: Option<ElementInput>,
}

/// One element as a client sent it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ElementInput {
    pub score: Option<i64>,
    pub evidence: Option<String>,
}

impl From<MeddiccInput> for MeddiccDraft {
    fn from(i: MeddiccInput) -> Self {
        let elements = [
            i.metrics,
            i.economic_buyer,
            i.decision_criteria,
            i.decision_process,
            i.identify_pain,
            i.champion,
            i.competition,
            i.paper_process,
        ];
        domain::ELEMENT_NAMES
            .into_iter()
            .zip(elements)
            .filter_map(|(name, e)| {
                let e = e?;
                Some((
                    name,
                    ElementDraft {
                        score: e.score,
                        evidence: e.evidence,
                    },
                ))
            })
            .collect()
    }
}

/// What a card needs to pass qualification: a minimum total, and minimums on some elements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QualificationRule {
    pub min_total: u32,
    /// Element name to the lowest score it may have.
    pub minimums: BTreeMap<String, u8>,
}

impl From<QualificationRule> for domain::QualificationRule {
    fn from(r: QualificationRule) -> Self {
        domain::QualificationRule {
            min_total: r.min_total,
            minimums: r.minimums,
        }
    }
}

impl From<domain::QualificationRule> for QualificationRule {
    fn from(r: domain::QualificationRule) -> Self {
        QualificationRule {
            min_total: r.min_total,
            minimums: r.minimums,
        }
    }
}

/// One check of a qualification rule: the total, or one element's minimum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Gate {
    /// `total`, or the element's name.
    pub name: String,
    pub required: u32,
    pub actual: u32,
    pub passed: bool,
}

/// The outcome of a qualification rule applied to a card, with every gate so that a failure
/// can be explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Evaluation {
    /// Sum of the element scores, `paper_process` included when present.
    pub total: u32,
    /// 21, or 24 for MEDDPICC.
    pub max: u32,
    /// Whether every gate passed.
    pub passed: bool,
    /// The total first, then each minimum in name order.
    pub gates: Vec<Gate>,
    /// `MEDDICC` or `MEDDPICC`.
    pub variant: &'static str,
}

impl From<domain::Evaluation> for Evaluation {
    fn from(e: domain::Evaluation) -> Self {
        Evaluation {
            total: e.total,
            max: e.max,
            passed: e.passed,
            gates: e
                .gates
                .into_iter()
                .map(|g| Gate {
                    name: g.name,
                    required: g.required,
                    actual: g.actual,
                    passed: g.passed,
                })
                .collect(),
            variant: e.variant,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeddiccResponse {
    pub lead_id: Uuid,
    /// The card's version, also its ETag: 1 for the first card.
    pub version: i32,
    pub meddicc: Meddicc,
    /// Which gates passed or failed under the current rule.
    pub evaluation: Evaluation,
    pub lifecycle_stage: String,
}

impl MeddiccResponse {
    fn new(lead_id: Uuid, q: Qualification) -> Self {
        MeddiccResponse {
            lead_id,
            version: q.version,
            meddicc: q.card.into(),
            evaluation: q.evaluation.into(),
            lifecycle_stage: q.lifecycle_stage,
        }
    }
}

/// Stores the lead's MEDDICC (or MEDDPICC, with `paper_process`) scores as the card's next
/// version. `If-Match` names the card's current version; a lead without a card is at
/// version 0, so the first card is sent with `If-None-Match: *` (or `If-Match: "0"`). When the rule passes for the
/// first time, `lead.qualified` is published and the lead moves to `sql`.
#[utoipa::path(
    put, path = "/v1/leads/{id}/meddicc", tag = "scoring",
    request_body = MeddiccInput,
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = MeddiccResponse, headers(("etag" = String, description = "The card's new version"))),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn put_meddicc(
    db: web::Data<Db>,
    trace: TraceContext,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<MeddiccInput>,
) -> Result<HttpResponse, LeadsError> {
    no_query(&req)?;
    let id = path_id(&id)?;
    let expected = versioning::if_match_or_new(&req)?;
    let card = domain::Meddicc::parse(body.into_inner().into())?;
    let q = db
        .run(move |conn| usecases::put_card(conn, id, expected, card, &trace))
        .await?;
    Ok(versioning::versioned(
        StatusCode::OK,
        q.version,
        &MeddiccResponse::new(id, q),
    ))
}

/// The lead's card, evaluated under the current rule; its ETag is the card's version.
#[utoipa::path(
    get, path = "/v1/leads/{id}/meddicc", tag = "scoring",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = MeddiccResponse, headers(("etag" = String, description = "The card's version; send in If-Match to replace it"))),
        (status = 404, description = "No such lead, or no MEDDICC card yet (then `current_etag` is `\"0\"`)", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_meddicc(
    db: web::Data<Db>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, LeadsError> {
    no_query(&req)?;
    let id = path_id(&id)?;
    let q = db.run(move |conn| usecases::card(conn, id)).await?;
    let version = q.version;
    Ok(versioning::read(
        &req,
        version,
        &MeddiccResponse::new(id, q),
    ))
}

/// A version of the qualification rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleResponse {
    /// 0 is the built-in default.
    pub version: i32,
    pub rule: QualificationRule,
}

/// The current qualification rule (version 0 is the built-in default); its version is its
/// ETag.
#[utoipa::path(
    get, path = "/v1/qualification-rule", tag = "scoring",
    responses(
        (status = 200, body = RuleResponse, headers(("etag" = String, description = "The current version; send in If-Match to replace the rule"))),
        (status = 422, description = "An unknown query parameter", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_rule(db: web::Data<Db>, req: HttpRequest) -> Result<HttpResponse, LeadsError> {
    no_query(&req)?;
    let (version, rule) = db.run(usecases::current_rule).await?;
    let rule = rule.into();
    Ok(versioning::read(
        &req,
        version,
        &RuleResponse { version, rule },
    ))
}

/// Saves the next version of the qualification rule. `If-Match` names the current version
/// (`"0"` while the built-in default is in force); the answer's ETag is the new one.
#[utoipa::path(
    put, path = "/v1/qualification-rule", tag = "scoring",
    request_body = QualificationRule,
    responses(
        (status = 200, body = RuleResponse, headers(("etag" = String, description = "The new version"))),
    )
)]
pub async fn put_rule(
    db: web::Data<Db>,
    req: HttpRequest,
    body: Json<QualificationRule>,
) -> Result<HttpResponse, LeadsError> {
    no_query(&req)?;
    let expected = versioning::if_match(&req)?;
    let rule = domain::QualificationRule::from(body.into_inner());
    rule.validate()?;
    let saved = rule.clone();
    let version = db
        .run(move |conn| usecases::save_rule(conn, expected, &saved))
        .await?;
    let rule = rule.into();
    Ok(versioning::versioned(
        StatusCode::OK,
        version,
        &RuleResponse { version, rule },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shapes() {
        let input: MeddiccInput =
            serde_json::from_str(r#"{"champion": {"score": 2}, "metrics": {}}"#).unwrap();
        let draft = MeddiccDraft::from(input);
        assert_eq!(draft["champion"].score, Some(2));
        assert_eq!(draft["metrics"].score, None);
        assert!(!draft.contains_key("competition"));

        let card = domain::Meddicc::parse(
            domain::ELEMENT_NAMES[..7]
                .iter()
                .map(|name| (*name, ElementDraft::scored(2)))
                .collect(),
        )
        .unwrap();
        let ev = domain::evaluate(&card, &domain::QualificationRule::default());
        let value = serde_json::to_value(Evaluation::from(ev)).unwrap();
        assert_eq!(value["variant"], "MEDDICC");
        assert_eq!(value["gates"][0]["name"], "total");
        let value = serde_json::to_value(Meddicc::from(card.clone())).unwrap();
        assert_eq!(value, serde_json::to_value(&card).unwrap());
    }
}
