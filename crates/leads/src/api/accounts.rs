//! Account endpoints: create, read, optimistic update, list with filters, the target
//! account list, and account engagement (ABM).

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use chrono::{DateTime, Utc};
use contracts::money::Money;
use platform::http::idempotency::{self, IdempotencyKey, StoredResponse};
use platform::http::json::Json;
use platform::{Db, TraceContext};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    PageParams, Query, Sort, apply_patch, keyset_key, no_query, paginate_by_key, path_id,
    sorted_page, versioning,
};
use crate::domain::account::{self as domain, AccountDraft, MoneyDraft, NewAccount};
use crate::error::LeadsError;
use crate::store::accounts::{Account, AccountFilter};
use crate::store::engagement::AccountEngagement;
use crate::usecases::accounts as usecases;

// The wire form of `domain::AbmTier`, for the documentation of the parameters that take one.
/// Account-based-marketing tier: how individually an account is marketed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AbmTier {
    OneToOne,
    OneToFew,
    OneToMany,
    None,
}

/// A money amount as clients send it: a decimal string and an ISO 4217 code.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct MoneyInput {
    #[schema(example = "1250000.00")]
    pub amount: Option<String>,
    #[schema(example = "EUR")]
    pub currency: Option<String>,
}

impl From<Money> for MoneyInput {
    fn from(m: Money) -> Self {
        MoneyInput {
            amount: Some(m.amount.to_string()),
            currency: Some(m.currency.to_string()),
        }
    }
}

impl From<MoneyInput> for MoneyDraft {
    fn from(m: MoneyInput) -> Self {
        MoneyDraft {
            amount: m.amount,
            currency: m.currency,
        }
    }
}

/// The fields of an account as a client sends them (create, or the merged result of a PATCH).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountInput {
    pub name: Option<String>,
    /// Company web domains; lead emails at these domains are matched to the account.
    #[serde(default)]
    pub domains: Option<Vec<String>>,
    pub industry: Option<String>,
    pub employees: Option<i64>,
    pub annual_revenue: Option<MoneyInput>,
    pub region: Option<String>,
    /// `one_to_one`, `one_to_few`, `one_to_many` or `none` (default).
    pub abm_tier: Option<String>,
    pub target: Option<bool>,
    pub owner: Option<String>,
}

impl From<AccountInput> for AccountDraft {
    fn from(i: AccountInput) -> Self {
        AccountDraft {
            name: i.name,
            domains: i.domains,
            industry: i.industry,
            employees: i.employees,
            annual_revenue: i.annual_revenue.map(Into::into),
            region: i.region,
            abm_tier: i.abm_tier,
            target: i.target,
            owner: i.owner,
        }
    }
}

/// The account as a client would send it: the base a PATCH is merged onto.
impl From<&Account> for AccountInput {
    fn from(a: &Account) -> Self {
        AccountInput {
            name: Some(a.row.name.clone()),
            domains: Some(a.domains.clone()),
            industry: a.row.industry.clone(),
            employees: a.row.employees.map(i64::from),
            annual_revenue: a.annual_revenue().map(Into::into),
            region: a.row.region.clone(),
            abm_tier: Some(a.row.abm_tier.clone()),
            target: Some(a.row.target),
            owner: a.row.owner.clone(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountResponse {
    pub id: Uuid,
    pub name: String,
    pub domains: Vec<String>,
    pub industry: Option<String>,
    pub employees: Option<i32>,
    pub annual_revenue: Option<MoneyInput>,
    pub region: Option<String>,
    pub abm_tier: String,
    pub target: bool,
    pub owner: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Account> for AccountResponse {
    fn from(a: Account) -> Self {
        let annual_revenue = a.annual_revenue().map(Into::into);
        let r = a.row;
        AccountResponse {
            id: r.id,
            name: r.name,
            domains: a.domains,
            industry: r.industry,
            employees: r.employees,
            annual_revenue,
            region: r.region,
            abm_tier: r.abm_tier,
            target: r.target,
            owner: r.owner,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

fn account_ok(status: StatusCode, a: Account) -> HttpResponse {
    versioning::versioned(status, a.row.version, &AccountResponse::from(a))
}

platform::page!(
    /// A page of accounts.
    AccountPage,
    AccountResponse
);

/// Query of `GET /v1/accounts`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AccountParams {
    /// ABM tier: one_to_one, one_to_few, one_to_many, none.
    tier: Option<AbmTier>,
    target: Option<bool>,
    industry: Option<String>,
    region: Option<String>,
    owner: Option<String>,
    /// Updated at or after (RFC 3339).
    updated_since: Option<DateTime<Utc>>,
    /// `created_at` (default), `-created_at`, `updated_at` or `-updated_at`; see the
    /// operation's description.
    sort: Option<String>,
}

/// Creates an account and publishes `account.created`. A domain another account holds is a
/// 409 whose `existing_id` names that account.
#[utoipa::path(
    post, path = "/v1/accounts", tag = "accounts",
    request_body = AccountInput,
    responses(
        (status = 201, body = AccountResponse, headers(("etag" = String, description = "Send in If-Match to update"), ("location" = String))),
        (status = 409, description = "A domain belongs to another account; `existing_id` names it", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or Idempotency-Key reused with another body", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn create_account(
    db: web::Data<Db>,
    trace: TraceContext,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<AccountInput>,
) -> Result<HttpResponse, LeadsError> {
    no_query(&req)?;
    let raw = body.raw.clone();
    let account = NewAccount::parse(body.into_inner().into())?;
    let (response, replayed) = db
        .run(move |conn| {
            idempotency::run(conn, "POST /v1/accounts", &key, &raw, |tx| {
                let created = usecases::create(tx, &account, &trace)?;
                let location = format!("/v1/accounts/{}", created.row.id);
                let (name, etag) = versioning::etag(created.row.version);
                Ok::<_, LeadsError>(
                    StoredResponse::json(StatusCode::CREATED, &AccountResponse::from(created))
                        .header("location", location)
                        .header(name, etag),
                )
            })
        })
        .await?;
    Ok(response.into_response(replayed))
}

#[utoipa::path(
    get, path = "/v1/accounts/{id}", tag = "accounts",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = AccountResponse, headers(("etag" = String, description = "Send in If-Match to update"))),
        (status = 404, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_account(
    db: web::Data<Db>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, LeadsError> {
    no_query(&req)?;
    let id = path_id(&id)?;
    let account = db.run(move |conn| usecases::find(conn, id)).await?;
    let version = account.row.version;
    Ok(versioning::read(
        &req,
        version,
        &AccountResponse::from(account),
    ))
}

/// Updates an account with a JSON merge patch; `If-Match` carries the ETag of the last read.
#[utoipa::path(
    patch, path = "/v1/accounts/{id}", tag = "accounts",
    request_body(content = AccountInput, content_type = "application/merge-patch+json"),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses(
        (status = 200, body = AccountResponse),
        (status = 409, body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 412, body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 428, body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn patch_account(
    db: web::Data<Db>,
    trace: TraceContext,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<serde_json::Value>,
) -> Result<HttpResponse, LeadsError> {
    no_query(&req)?;
    let id = path_id(&id)?;
    let version = versioning::if_match(&req)?;
    let patch = body.into_inner();
    let account = db
        .run(move |conn| {
            let patch = |current: &Account| {
                apply_patch(AccountInput::from(current), &patch, &[], NewAccount::parse)
            };
            usecases::update(conn, id, version, patch, &trace)
        })
        .await?;
    Ok(account_ok(StatusCode::OK, account))
}

fn filter_from(q: &mut Query<'_>) -> AccountFilter {
    let (sort, limit, after) = sorted_page(q, Sort::default());
    AccountFilter {
        tier: q.parse(
            "tier",
            "one of one_to_one, one_to_few, one_to_many, none",
            |s| {
                s.parse::<domain::AbmTier>()
                    .ok()
                    .map(|t| t.as_str().to_string())
            },
        ),
        target: q.bool("target"),
        industry: q.text("industry"),
        region: q.text("region"),
        owner: q.text("owner"),
        updated_since: q.time("updated_since"),
        sort,
        after,
        limit: limit + 1,
    }
}

async fn page(db: &Db, filter: AccountFilter) -> Result<HttpResponse, LeadsError> {
    let limit = filter.limit - 1;
    let sort = filter.sort;
    let items = db.run(move |conn| usecases::list(conn, &filter)).await?;
    let (items, next_cursor) = paginate_by_key(items, limit, |a| {
        keyset_key(sort, a.row.created_at, a.row.updated_at, a.row.id)
    });
    Ok(HttpResponse::Ok().json(AccountPage {
        items: items.into_iter().map(AccountResponse::from).collect(),
        next_cursor,
    }))
}

/// Accounts matching every filter given, a page at a time.
///
/// `sort`: `created_at` (the default), `updated_at`, or either with a leading `-` for newest
/// first; ties are ordered by id in the same direction. The cursor remembers the order:
/// pass it back with the same `sort`. To sync, page with
/// `sort=updated_at&updated_since=<the largest updated_at you hold>`: an account changed
/// while you page moves to the end of that order, so it is seen again rather than missed.
#[utoipa::path(
    get, path = "/v1/accounts", tag = "accounts",
    params(AccountParams, PageParams),
    responses((status = 200, body = AccountPage), (status = 422, body = platform::http::Problem, content_type = "application/problem+json"))
)]
pub async fn list_accounts(
    db: web::Data<Db>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, LeadsError> {
    let mut q = Query::new(
        &query,
        &[
            "tier",
            "target",
            "industry",
            "region",
            "owner",
            "updated_since",
            "sort",
            "limit",
            "cursor",
        ],
    );
    let filter = filter_from(&mut q);
    q.finish()?;
    page(&db, filter).await
}

/// The target account list (`target = true`), filterable by tier.
#[utoipa::path(
    get, path = "/v1/accounts/targets", tag = "accounts",
    params(
        ("tier" = Option<AbmTier>, Query, description = "Only this ABM tier"),
        ("updated_since" = Option<DateTime<Utc>>, Query, description = "Updated at or after (RFC 3339)"),
        ("sort" = Option<String>, Query, description = "created_at (default), -created_at, updated_at or -updated_at, as on GET /v1/accounts"),
        PageParams,
    ),
    responses((status = 200, body = AccountPage), (status = 422, body = platform::http::Problem, content_type = "application/problem+json"))
)]
pub async fn target_accounts(
    db: web::Data<Db>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, LeadsError> {
    let mut q = Query::new(
        &query,
        &["tier", "updated_since", "sort", "limit", "cursor"],
    );
    let mut filter = filter_from(&mut q);
    filter.target = Some(true);
    q.finish()?;
    page(&db, filter).await
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EngagementResponse {
    pub account_id: Uuid,
    /// Leads of the account with at least one point of (decayed) engagement.
    pub engaged_leads: i64,
    /// 0–100: the account's decayed engagement relative to the most engaged account.
    pub engagement_score: f64,
    /// Decayed engagement now minus 30 days ago.
    pub trend_30d: f64,
    /// unaware, aware, engaged, considering, selecting or customer, from the most advanced lead.
    pub buying_stage: String,
}

impl EngagementResponse {
    fn new(account_id: Uuid, e: AccountEngagement) -> Self {
        EngagementResponse {
            account_id,
            engaged_leads: e.engaged_leads,
            engagement_score: if e.max_engagement > 0.0 {
                100.0 * e.engagement / e.max_engagement
            } else {
                0.0
            },
            trend_30d: e.engagement - e.engagement_30d_ago,
            buying_stage: e.buying_stage,
        }
    }
}

/// Account engagement for ABM.
#[utoipa::path(
    get, path = "/v1/accounts/{id}/engagement", tag = "accounts",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = EngagementResponse), (status = 404, body = platform::http::Problem, content_type = "application/problem+json"))
)]
pub async fn account_engagement(
    db: web::Data<Db>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, LeadsError> {
    no_query(&req)?;
    let id = path_id(&id)?;
    let engagement = db.run(move |conn| usecases::engagement(conn, id)).await?;
    Ok(HttpResponse::Ok().json(EngagementResponse::new(id, engagement)))
}
