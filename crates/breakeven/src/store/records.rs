//! Products, fixed-cost items and campaigns: create, read, list and replace. A change
//! that can move a break-even point re-evaluates the alerts it affects.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use diesel::prelude::*;
use platform::{Problem, TraceContext};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::schema::{campaigns, fixed_costs, products};
use super::tracking;
use crate::Tracking;
use crate::domain::records::{Campaign, FixedCost, Product};
use crate::error::BreakevenError;

/// Lists stop here; the catalogue of one company is small.
pub const LIST_LIMIT: i64 = 1000;

fn now() -> DateTime<Utc> {
    // PostgreSQL keeps microseconds: truncate so the write response equals later reads.
    Utc::now().trunc_subsecs(6)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = products)]
pub struct ProductRow {
    pub id: Uuid,
    pub name: String,
    pub price: Decimal,
    pub variable_cost: Decimal,
    pub currency: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn create_product(conn: &mut PgConnection, p: &Product) -> QueryResult<ProductRow> {
    let t = now();
    diesel::insert_into(products::table)
        .values(ProductRow {
            id: Uuid::now_v7(),
            name: p.name.clone(),
            price: p.price,
            variable_cost: p.variable_cost,
            currency: p.currency.to_string(),
            version: 1,
            created_at: t,
            updated_at: t,
        })
        .returning(ProductRow::as_returning())
        .get_result(conn)
}

pub fn find_product(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<ProductRow>> {
    products::table
        .find(id)
        .select(ProductRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_products(conn: &mut PgConnection) -> QueryResult<Vec<ProductRow>> {
    products::table
        .order(products::id)
        .limit(LIST_LIMIT)
        .select(ProductRow::as_select())
        .load(conn)
}

/// Replaces a product and re-evaluates the campaigns that sell it.
pub fn replace_product(
    conn: &mut PgConnection,
    id: Uuid,
    p: &Product,
    tracking: &Tracking,
    trace: &TraceContext,
) -> Result<ProductRow, BreakevenError> {
    let row = diesel::update(products::table.find(id))
        .set((
            products::name.eq(&p.name),
            products::price.eq(p.price),
            products::variable_cost.eq(p.variable_cost),
            products::currency.eq(p.currency.as_str()),
            products::version.eq(products::version + 1),
            products::updated_at.eq(now()),
        ))
        .returning(ProductRow::as_returning())
        .get_result(conn)
        .optional()?
        .ok_or_else(|| BreakevenError::NotFound(format!("product {id}")))?;
    let affected: Vec<String> = list_campaigns(conn)?
        .into_iter()
        .filter(|c| c.mix().iter().any(|(pid, _)| *pid == id))
        .map(|c| c.id)
        .collect();
    for campaign in affected {
        tracking::evaluate_campaign(conn, &campaign, tracking, Some(trace))?;
    }
    Ok(row)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = fixed_costs)]
pub struct FixedCostRow {
    pub id: Uuid,
    pub name: String,
    pub amount: Decimal,
    pub period: String,
    pub currency: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn create_fixed_cost(
    conn: &mut PgConnection,
    f: &FixedCost,
    tracking: &Tracking,
    trace: &TraceContext,
) -> Result<FixedCostRow, BreakevenError> {
    let t = now();
    let row = diesel::insert_into(fixed_costs::table)
        .values(FixedCostRow {
            id: Uuid::now_v7(),
            name: f.name.clone(),
            amount: f.amount,
            period: f.period.as_str().to_string(),
            currency: f.currency.to_string(),
            version: 1,
            created_at: t,
            updated_at: t,
        })
        .returning(FixedCostRow::as_returning())
        .get_result(conn)?;
    tracking::evaluate_periods(conn, &row.currency, tracking, Some(trace))?;
    Ok(row)
}

pub fn find_fixed_cost(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<FixedCostRow>> {
    fixed_costs::table
        .find(id)
        .select(FixedCostRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_fixed_costs(conn: &mut PgConnection) -> QueryResult<Vec<FixedCostRow>> {
    fixed_costs::table
        .order(fixed_costs::id)
        .limit(LIST_LIMIT)
        .select(FixedCostRow::as_select())
        .load(conn)
}

/// Replaces a fixed-cost item; lower fixed costs may complete a period's break-even.
pub fn replace_fixed_cost(
    conn: &mut PgConnection,
    id: Uuid,
    f: &FixedCost,
    tracking: &Tracking,
    trace: &TraceContext,
) -> Result<FixedCostRow, BreakevenError> {
    let row = diesel::update(fixed_costs::table.find(id))
        .set((
            fixed_costs::name.eq(&f.name),
            fixed_costs::amount.eq(f.amount),
            fixed_costs::period.eq(f.period.as_str()),
            fixed_costs::currency.eq(f.currency.as_str()),
            fixed_costs::version.eq(fixed_costs::version + 1),
            fixed_costs::updated_at.eq(now()),
        ))
        .returning(FixedCostRow::as_returning())
        .get_result(conn)
        .optional()?
        .ok_or_else(|| BreakevenError::NotFound(format!("fixed cost {id}")))?;
    tracking::evaluate_periods(conn, &row.currency, tracking, Some(trace))?;
    Ok(row)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = campaigns)]
pub struct CampaignRow {
    pub id: String,
    pub name: String,
    pub budget: Decimal,
    pub currency: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub product_mix: serde_json::Value,
    pub risk_threshold: Decimal,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One entry of `campaigns.product_mix`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MixEntry {
    product_id: Uuid,
    share: Decimal,
}

impl CampaignRow {
    pub fn mix(&self) -> Vec<(Uuid, Decimal)> {
        serde_json::from_value::<Vec<MixEntry>>(self.product_mix.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|m| (m.product_id, m.share))
            .collect()
    }
}

fn mix_json(c: &Campaign) -> serde_json::Value {
    serde_json::to_value(
        c.product_mix
            .iter()
            .map(|(product_id, share)| MixEntry {
                product_id: *product_id,
                share: *share,
            })
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default()
}

/// Every product of the mix must exist and be priced in the campaign's currency.
fn check_mix(conn: &mut PgConnection, c: &Campaign) -> Result<(), BreakevenError> {
    let ids: Vec<Uuid> = c.product_mix.iter().map(|m| m.0).collect();
    let found: Vec<(Uuid, String)> = products::table
        .filter(products::id.eq_any(&ids))
        .select((products::id, products::currency))
        .load(conn)?;
    let mut errors = platform::http::FieldErrors::new();
    for (i, (id, _)) in c.product_mix.iter().enumerate() {
        let field = format!("product_mix[{i}].product_id");
        match found.iter().find(|(pid, _)| pid == id) {
            None => errors.add(&field, "does not name an existing product"),
            Some((_, currency)) if currency != c.currency.as_str() => errors.add(
                &field,
                format!(
                    "currency mismatch: the product is priced in {currency}, the campaign in {}",
                    c.currency
                ),
            ),
            Some(_) => {}
        }
    }
    Ok(errors.finish()?)
}

pub fn create_campaign(
    conn: &mut PgConnection,
    c: &Campaign,
    tracking: &Tracking,
    trace: &TraceContext,
) -> Result<CampaignRow, BreakevenError> {
    check_mix(conn, c)?;
    let t = now();
    let inserted = diesel::insert_into(campaigns::table)
        .values(CampaignRow {
            id: c.id.clone(),
            name: c.name.clone(),
            budget: c.budget,
            currency: c.currency.to_string(),
            starts_on: c.starts_on,
            ends_on: c.ends_on,
            product_mix: mix_json(c),
            risk_threshold: c.risk_threshold,
            version: 1,
            created_at: t,
            updated_at: t,
        })
        .on_conflict_do_nothing()
        .returning(CampaignRow::as_returning())
        .get_result(conn)
        .optional()?;
    let row = inserted
        .ok_or_else(|| BreakevenError::Conflict(format!("a campaign with id {:?} exists", c.id)))?;
    // Costs and revenue may have arrived before the campaign was defined.
    tracking::evaluate_campaign(conn, &row.id, tracking, Some(trace))?;
    Ok(row)
}

pub fn find_campaign(conn: &mut PgConnection, id: &str) -> QueryResult<Option<CampaignRow>> {
    campaigns::table
        .find(id)
        .select(CampaignRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_campaigns(conn: &mut PgConnection) -> QueryResult<Vec<CampaignRow>> {
    campaigns::table
        .order(campaigns::id)
        .limit(LIST_LIMIT)
        .select(CampaignRow::as_select())
        .load(conn)
}

/// Replaces a campaign (its id cannot change) and re-evaluates its alerts.
pub fn replace_campaign(
    conn: &mut PgConnection,
    c: &Campaign,
    tracking: &Tracking,
    trace: &TraceContext,
) -> Result<CampaignRow, BreakevenError> {
    check_mix(conn, c)?;
    let row = diesel::update(campaigns::table.find(&c.id))
        .set((
            campaigns::name.eq(&c.name),
            campaigns::budget.eq(c.budget),
            campaigns::currency.eq(c.currency.as_str()),
            campaigns::starts_on.eq(c.starts_on),
            campaigns::ends_on.eq(c.ends_on),
            campaigns::product_mix.eq(mix_json(c)),
            campaigns::risk_threshold.eq(c.risk_threshold),
            campaigns::version.eq(campaigns::version + 1),
            campaigns::updated_at.eq(now()),
        ))
        .returning(CampaignRow::as_returning())
        .get_result(conn)
        .optional()?
        .ok_or_else(|| BreakevenError::NotFound(format!("campaign {}", c.id)))?;
    tracking::evaluate_campaign(conn, &row.id, tracking, Some(trace))?;
    Ok(row)
}

/// A 422 for a body whose `id` disagrees with the path.
pub fn id_mismatch() -> Problem {
    Problem::field("id", "must match the id in the path")
}
