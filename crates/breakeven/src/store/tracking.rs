//! Live tracking: spend, revenue and contribution per campaign and per company month, fed
//! by events, and the alerts they raise (written to the outbox in the same transaction).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use contracts::breakeven::{BreakevenReached, CampaignAtRisk, CampaignBreakevenReached};
use contracts::touchpoints::TouchpointRecorded;
use contracts::{Currency, funnel::DealWon, touchpoints::ConversionAttributed};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Numeric, Text, Timestamptz};
use platform::TraceContext;
use platform::bus::outbox;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::records::{CampaignRow, find_campaign};
use super::schema::{
    attributions, campaign_alerts, campaign_spend, company_periods, fixed_costs, products,
    won_deals,
};
use crate::Tracking;
use crate::domain::campaign::{self, Alert, AlertState, Facts, Progress};
use crate::domain::cvp::present;
use crate::domain::mix::{self, MixLine};
use crate::domain::records::Period;
use crate::error::BreakevenError;

/// Adds the costs of a batch of touchpoints to their campaigns' spend (one upsert per
/// campaign and currency) and re-evaluates those campaigns. Touches without a campaign or
/// a cost change nothing. Returns the campaign ids touched.
pub fn record_costs(
    conn: &mut PgConnection,
    touches: &[TouchpointRecorded],
    tracking: &Tracking,
) -> Result<Vec<String>, BreakevenError> {
    #[derive(Default)]
    struct Sum {
        spend: Decimal,
        touches: i64,
        first: Option<DateTime<Utc>>,
        last: Option<DateTime<Utc>>,
    }
    let mut sums: BTreeMap<(String, String), Sum> = BTreeMap::new();
    for t in touches {
        let (Some(campaign), Some(cost), Some(currency)) = (&t.campaign_id, t.cost, &t.currency)
        else {
            continue;
        };
        if cost <= Decimal::ZERO {
            continue;
        }
        let s = sums
            .entry((campaign.clone(), currency.to_string()))
            .or_default();
        s.spend += cost;
        s.touches += 1;
        s.first = Some(s.first.map_or(t.occurred_at, |f| f.min(t.occurred_at)));
        s.last = Some(s.last.map_or(t.occurred_at, |l| l.max(t.occurred_at)));
    }
    // BTreeMap order: concurrent batches lock rows in the same order and cannot deadlock.
    for ((campaign, currency), s) in &sums {
        let (Some(first), Some(last)) = (s.first, s.last) else {
            continue;
        };
        diesel::insert_into(campaign_spend::table)
            .values((
                campaign_spend::campaign_id.eq(campaign),
                campaign_spend::currency.eq(currency),
                campaign_spend::spend.eq(s.spend),
                campaign_spend::touches.eq(s.touches),
                campaign_spend::first_at.eq(first),
                campaign_spend::last_at.eq(last),
            ))
            .on_conflict((campaign_spend::campaign_id, campaign_spend::currency))
            .do_update()
            .set((
                campaign_spend::spend.eq(campaign_spend::spend + s.spend),
                campaign_spend::touches.eq(campaign_spend::touches + s.touches),
                campaign_spend::first_at.eq(diesel::dsl::sql::<Timestamptz>(
                    "least(campaign_spend.first_at, excluded.first_at)",
                )),
                campaign_spend::last_at.eq(diesel::dsl::sql::<Timestamptz>(
                    "greatest(campaign_spend.last_at, excluded.last_at)",
                )),
            ))
            .execute(conn)?;
    }
    let mut campaigns: Vec<String> = sums.keys().map(|(c, _)| c.clone()).collect();
    campaigns.dedup();
    for c in &campaigns {
        evaluate_campaign(conn, c, tracking, None)?;
    }
    Ok(campaigns)
}

/// A product line of a won deal as stored in `won_deals.products`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Line {
    product_id: String,
    units: u64,
    amount: Option<Decimal>,
}

/// The month a time falls in, `YYYY-MM` (company periods are calendar months, UTC).
pub fn period_of(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}

fn period_bounds(period: &str) -> Option<(NaiveDate, NaiveDate)> {
    let start = NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d").ok()?;
    let next = start.checked_add_months(chrono::Months::new(1))?;
    Some((start, next.pred_opt()?))
}

/// Records a won deal once (by deal id) and re-evaluates its campaign and its month.
pub fn record_deal(
    conn: &mut PgConnection,
    d: &DealWon,
    tracking: &Tracking,
) -> Result<(), BreakevenError> {
    let contribution = line_contribution(conn, d)?;
    let lines: Vec<Line> = d
        .products
        .iter()
        .map(|p| Line {
            product_id: p.product_id.clone(),
            units: p.units,
            amount: p.amount,
        })
        .collect();
    let period = period_of(d.won_at);
    let inserted = diesel::insert_into(won_deals::table)
        .values((
            won_deals::deal_id.eq(d.deal_id),
            won_deals::campaign_id.eq(&d.campaign_id),
            won_deals::amount.eq(d.amount),
            won_deals::currency.eq(d.currency.as_str()),
            won_deals::won_at.eq(d.won_at),
            won_deals::period.eq(&period),
            won_deals::contribution.eq(contribution),
            won_deals::products.eq(serde_json::to_value(&lines).unwrap_or_default()),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 0 {
        return Ok(());
    }
    if let Some(c) = &d.campaign_id {
        evaluate_campaign(conn, c, tracking, None)?;
    }
    evaluate_period(conn, &period, d.currency.as_str(), tracking, None)?;
    Ok(())
}

/// Contribution of a deal's product lines: each line's revenue (its amount, or units ×
/// list price) minus units × variable cost. `None` when the deal has no lines or a line
/// names a product this service does not know (or prices in another currency).
fn line_contribution(conn: &mut PgConnection, d: &DealWon) -> QueryResult<Option<Decimal>> {
    if d.products.is_empty() {
        return Ok(None);
    }
    let ids: Vec<Uuid> = d
        .products
        .iter()
        .filter_map(|p| Uuid::parse_str(&p.product_id).ok())
        .collect();
    let known: Vec<(Uuid, Decimal, Decimal, String)> = products::table
        .filter(products::id.eq_any(&ids))
        .select((
            products::id,
            products::price,
            products::variable_cost,
            products::currency,
        ))
        .load(conn)?;
    let mut total = Decimal::ZERO;
    for line in &d.products {
        let Some((_, price, vc, currency)) = Uuid::parse_str(&line.product_id)
            .ok()
            .and_then(|id| known.iter().find(|k| k.0 == id))
        else {
            return Ok(None);
        };
        if currency != d.currency.as_str() {
            return Ok(None);
        }
        let units = Decimal::from(line.units);
        let revenue = line.amount.unwrap_or(units * *price);
        total += revenue - units * *vc;
    }
    Ok(Some(total))
}

/// Keeps the latest attribution of a deal under a model (by conversion time, then id, so
/// the result does not depend on arrival order) and re-evaluates every campaign whose
/// revenue it moves.
pub fn record_attribution(
    conn: &mut PgConnection,
    c: &ConversionAttributed,
    tracking: &Tracking,
) -> Result<(), BreakevenError> {
    let applied = diesel::sql_query(
        "INSERT INTO conversions (deal_id, model, conversion_id, value, currency, converted_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (deal_id, model) DO UPDATE SET
             conversion_id = excluded.conversion_id, value = excluded.value,
             currency = excluded.currency, converted_at = excluded.converted_at
         WHERE (conversions.converted_at, conversions.conversion_id)
             < (excluded.converted_at, excluded.conversion_id)",
    )
    .bind::<diesel::sql_types::Uuid, _>(c.deal_id)
    .bind::<Text, _>(&c.model)
    .bind::<diesel::sql_types::Uuid, _>(c.conversion_id)
    .bind::<Numeric, _>(c.value)
    .bind::<Text, _>(c.currency.as_str())
    .bind::<Timestamptz, _>(c.converted_at)
    .execute(conn)?;
    if applied == 0 {
        return Ok(());
    }
    let mut affected: Vec<String> = diesel::delete(
        attributions::table
            .filter(attributions::deal_id.eq(c.deal_id))
            .filter(attributions::model.eq(&c.model)),
    )
    .returning(attributions::campaign_id)
    .get_results(conn)?;
    let mut credits: BTreeMap<&str, Decimal> = BTreeMap::new();
    for credit in &c.credits {
        if let Some(campaign) = &credit.campaign_id {
            *credits.entry(campaign.as_str()).or_default() += credit.value;
        }
    }
    for (campaign, value) in &credits {
        diesel::insert_into(attributions::table)
            .values((
                attributions::deal_id.eq(c.deal_id),
                attributions::model.eq(&c.model),
                attributions::campaign_id.eq(*campaign),
                attributions::value.eq(*value),
                attributions::currency.eq(c.currency.as_str()),
            ))
            .execute(conn)?;
        affected.push(campaign.to_string());
    }
    // The deal's own campaign loses its unattributed revenue to the attribution.
    if let Some(Some(own)) = won_deals::table
        .find(c.deal_id)
        .select(won_deals::campaign_id)
        .first::<Option<String>>(conn)
        .optional()?
    {
        affected.push(own);
    }
    affected.sort();
    affected.dedup();
    for campaign in &affected {
        evaluate_campaign(conn, campaign, tracking, None)?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct RevenueRow {
    #[diesel(sql_type = Numeric)]
    revenue: Decimal,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    first_activity: Option<DateTime<Utc>>,
}

/// A campaign's attributed revenue in `currency`: per deal, the credits of its chosen
/// attribution (the configured model if the deal has it, else the first model by name);
/// a won deal that no attribution covers counts in full for its own `campaign_id`.
fn attributed_revenue(
    conn: &mut PgConnection,
    campaign: &str,
    currency: &str,
    model: &str,
) -> QueryResult<(Decimal, Option<DateTime<Utc>>)> {
    let row: RevenueRow = diesel::sql_query(
        "WITH deals AS (
             SELECT deal_id FROM attributions WHERE campaign_id = $1
             UNION SELECT deal_id FROM won_deals WHERE campaign_id = $1
         ), chosen AS (
             SELECT DISTINCT ON (c.deal_id) c.deal_id, c.model
             FROM conversions c JOIN deals USING (deal_id)
             ORDER BY c.deal_id, (c.model = $2) DESC, c.model
         )
         SELECT
           (SELECT coalesce(sum(a.value), 0) FROM attributions a
              JOIN chosen ch ON a.deal_id = ch.deal_id AND a.model = ch.model
              WHERE a.campaign_id = $1 AND a.currency = $3)
           + (SELECT coalesce(sum(w.amount), 0) FROM won_deals w
              WHERE w.campaign_id = $1 AND w.currency = $3
                AND NOT EXISTS (SELECT 1 FROM conversions c WHERE c.deal_id = w.deal_id))
             AS revenue,
           (SELECT min(t) FROM (
              SELECT min(won_at) AS t FROM won_deals WHERE campaign_id = $1
              UNION ALL SELECT min(first_at) FROM campaign_spend WHERE campaign_id = $1
           ) x) AS first_activity",
    )
    .bind::<Text, _>(campaign)
    .bind::<Text, _>(model)
    .bind::<Text, _>(currency)
    .get_result(conn)?;
    Ok((row.revenue, row.first_activity))
}

/// Everything known of one campaign id.
#[derive(Debug, Clone)]
pub struct CampaignStatus {
    pub campaign_id: String,
    /// `None` while only events have named the campaign.
    pub campaign: Option<CampaignRow>,
    pub currency: Option<String>,
    pub spend: Decimal,
    pub attributed_revenue: Decimal,
    /// `None` until the campaign (and so its product mix) is defined.
    pub margin_ratio: Option<Decimal>,
    pub progress: Option<Progress>,
    pub alerts: AlertState,
}

/// The weighted CM ratio of a campaign's product mix.
fn mix_ratio(conn: &mut PgConnection, c: &CampaignRow) -> Result<Option<Decimal>, BreakevenError> {
    let mix = c.mix();
    let ids: Vec<Uuid> = mix.iter().map(|m| m.0).collect();
    let rows: Vec<(Uuid, Decimal, Decimal)> = products::table
        .filter(products::id.eq_any(&ids))
        .select((products::id, products::price, products::variable_cost))
        .load(conn)?;
    let lines: Vec<MixLine> = mix
        .iter()
        .filter_map(|(id, share)| {
            rows.iter().find(|r| r.0 == *id).map(|r| MixLine {
                name: id.to_string(),
                price: r.1,
                variable_cost: r.2,
                share: *share,
            })
        })
        .collect();
    if lines.len() != mix.len() {
        return Ok(None);
    }
    Ok(match mix::weighted(&lines) {
        Ok((margin, price)) => Some(margin / price),
        Err(_) => None,
    })
}

pub fn campaign_status(
    conn: &mut PgConnection,
    campaign_id: &str,
    tracking: &Tracking,
    now: DateTime<Utc>,
) -> Result<CampaignStatus, BreakevenError> {
    let campaign = find_campaign(conn, campaign_id)?;
    let spends: Vec<(String, Decimal)> = campaign_spend::table
        .filter(campaign_spend::campaign_id.eq(campaign_id))
        .order(campaign_spend::currency)
        .select((campaign_spend::currency, campaign_spend::spend))
        .load(conn)?;
    // A defined campaign counts in its own currency; an undefined one in the first seen.
    let currency = campaign
        .as_ref()
        .map(|c| c.currency.clone())
        .or_else(|| spends.first().map(|s| s.0.clone()));
    let spend: Decimal = spends
        .iter()
        .filter(|s| Some(&s.0) == currency.as_ref())
        .map(|s| s.1)
        .sum();
    let (attributed_revenue, first_activity) = match &currency {
        Some(cur) => attributed_revenue(conn, campaign_id, cur, &tracking.attribution_model)?,
        None => (Decimal::ZERO, None),
    };
    let margin_ratio = match &campaign {
        Some(c) => mix_ratio(conn, c)?,
        None => None,
    };
    let progress = match (&campaign, margin_ratio) {
        (Some(c), Some(ratio)) => Some(campaign::progress(
            &Facts {
                spend,
                attributed_revenue,
                margin_ratio: ratio,
                budget: c.budget,
                risk_threshold: c.risk_threshold,
                starts_on: c.starts_on,
                ends_on: c.ends_on,
                first_activity,
            },
            now,
        )?),
        _ => None,
    };
    let alerts = campaign_alerts::table
        .find(campaign_id)
        .select((
            campaign_alerts::breakeven_reached_at,
            campaign_alerts::at_risk,
        ))
        .first::<(Option<DateTime<Utc>>, bool)>(conn)
        .optional()?
        .map(|(reached, at_risk)| AlertState {
            reached: reached.is_some(),
            at_risk,
        })
        .unwrap_or_default();
    Ok(CampaignStatus {
        campaign_id: campaign_id.to_string(),
        campaign,
        currency,
        spend,
        attributed_revenue,
        margin_ratio,
        progress,
        alerts,
    })
}

/// Re-computes a campaign's progress under a lock on its alert row and sends the alerts
/// it now calls for: break-even once ever, at-risk once per entry into that state.
pub fn evaluate_campaign(
    conn: &mut PgConnection,
    campaign_id: &str,
    tracking: &Tracking,
    trace: Option<&TraceContext>,
) -> Result<(), BreakevenError> {
    diesel::insert_into(campaign_alerts::table)
        .values(campaign_alerts::campaign_id.eq(campaign_id))
        .on_conflict_do_nothing()
        .execute(conn)?;
    campaign_alerts::table
        .find(campaign_id)
        .select(campaign_alerts::campaign_id)
        .for_update()
        .first::<String>(conn)?;
    let now = Utc::now();
    let status = campaign_status(conn, campaign_id, tracking, now)?;
    let (Some(progress), Some(c)) = (&status.progress, &status.campaign) else {
        return Ok(());
    };
    let (next, fired) = campaign::alerts(status.alerts, progress);
    let currency = Currency::parse(&c.currency).map_err(|e| anyhow::anyhow!(e))?;
    for alert in &fired {
        match alert {
            Alert::BreakevenReached => {
                outbox::enqueue(
                    conn,
                    &CampaignBreakevenReached {
                        campaign_id: campaign_id.to_string(),
                        spend: status.spend,
                        attributed_revenue: status.attributed_revenue,
                        contribution: present::money(progress.contribution),
                        currency: currency.clone(),
                        roas: present::ratio(progress.roas.unwrap_or_default()),
                        breakeven_roas: present::ratio(progress.breakeven_roas),
                        reached_at: now,
                    },
                    trace,
                )?;
            }
            Alert::AtRisk => {
                outbox::enqueue(
                    conn,
                    &CampaignAtRisk {
                        campaign_id: campaign_id.to_string(),
                        budget: c.budget,
                        spend: status.spend,
                        spend_share: present::ratio(progress.spend_share.unwrap_or_default()),
                        risk_threshold: c.risk_threshold,
                        attributed_revenue: status.attributed_revenue,
                        currency: currency.clone(),
                        roas: present::ratio(progress.roas.unwrap_or_default()),
                        breakeven_roas: present::ratio(progress.breakeven_roas),
                        projected_breakeven_date: progress.projected_breakeven_date,
                        detected_at: now,
                    },
                    trace,
                )?;
            }
        }
    }
    if next != status.alerts {
        let at_risk_fired = i32::from(fired.contains(&Alert::AtRisk));
        diesel::update(campaign_alerts::table.find(campaign_id))
            .set((
                campaign_alerts::at_risk.eq(next.at_risk),
                campaign_alerts::at_risk_alerts.eq(campaign_alerts::at_risk_alerts + at_risk_fired),
            ))
            .execute(conn)?;
        if next.reached && !status.alerts.reached {
            diesel::update(campaign_alerts::table.find(campaign_id))
                .set(campaign_alerts::breakeven_reached_at.eq(now))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// A company month: its revenue, contribution and fixed costs in one currency.
#[derive(Debug, Clone)]
pub struct PeriodStatus {
    pub period: String,
    pub currency: String,
    pub revenue: Decimal,
    pub contribution: Decimal,
    pub fixed_costs: Decimal,
    pub reached_at: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct PeriodSums {
    #[diesel(sql_type = Numeric)]
    revenue: Decimal,
    #[diesel(sql_type = Numeric)]
    known: Decimal,
    #[diesel(sql_type = Numeric)]
    unknown_revenue: Decimal,
}

/// The contribution of a month: known line contributions, plus the other deals' revenue
/// at the average CM ratio of the products priced in that currency (0 with no products).
pub fn period_status(
    conn: &mut PgConnection,
    period: &str,
    currency: &str,
) -> Result<PeriodStatus, BreakevenError> {
    let sums: PeriodSums = diesel::sql_query(
        "SELECT coalesce(sum(amount), 0) AS revenue,
                coalesce(sum(contribution), 0) AS known,
                coalesce(sum(amount) FILTER (WHERE contribution IS NULL), 0) AS unknown_revenue
         FROM won_deals WHERE period = $1 AND currency = $2",
    )
    .bind::<Text, _>(period)
    .bind::<Text, _>(currency)
    .get_result(conn)?;
    let priced: Vec<(Decimal, Decimal)> = products::table
        .filter(products::currency.eq(currency))
        .filter(products::price.gt(Decimal::ZERO))
        .select((products::price, products::variable_cost))
        .load(conn)?;
    let ratio = if priced.is_empty() {
        Decimal::ZERO
    } else {
        priced.iter().map(|(p, v)| (p - v) / p).sum::<Decimal>() / Decimal::from(priced.len())
    };
    let items: Vec<(Decimal, String)> = fixed_costs::table
        .filter(fixed_costs::currency.eq(currency))
        .select((fixed_costs::amount, fixed_costs::period))
        .load(conn)?;
    let fixed: Decimal = items
        .iter()
        .map(|(a, p)| Period::parse(p).map_or(*a, |p| p.monthly(*a)))
        .sum();
    let reached_at = company_periods::table
        .find((period, currency))
        .select(company_periods::reached_at)
        .first(conn)
        .optional()?;
    Ok(PeriodStatus {
        period: period.to_string(),
        currency: currency.to_string(),
        revenue: sums.revenue,
        contribution: sums.known + sums.unknown_revenue * ratio,
        fixed_costs: fixed,
        reached_at,
    })
}

/// Sends `breakeven.reached` the first time a month's contribution covers its fixed costs
/// (only when it has fixed costs at all).
pub fn evaluate_period(
    conn: &mut PgConnection,
    period: &str,
    currency: &str,
    _tracking: &Tracking,
    trace: Option<&TraceContext>,
) -> Result<(), BreakevenError> {
    let s = period_status(conn, period, currency)?;
    if s.reached_at.is_some() || s.fixed_costs <= Decimal::ZERO || s.contribution < s.fixed_costs {
        return Ok(());
    }
    let now = Utc::now();
    let inserted = diesel::insert_into(company_periods::table)
        .values((
            company_periods::period.eq(period),
            company_periods::currency.eq(currency),
            company_periods::reached_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 0 {
        return Ok(());
    }
    let (Some((start, end)), Ok(cur)) = (period_bounds(period), Currency::parse(currency)) else {
        return Ok(());
    };
    outbox::enqueue(
        conn,
        &BreakevenReached {
            period: period.to_string(),
            period_start: start,
            period_end: end,
            fixed_costs: present::money(s.fixed_costs),
            contribution: present::money(s.contribution),
            revenue: s.revenue,
            currency: cur,
            reached_at: now,
        },
        trace,
    )?;
    Ok(())
}

/// Re-evaluates every month with deals in `currency` (after fixed costs change).
pub fn evaluate_periods(
    conn: &mut PgConnection,
    currency: &str,
    tracking: &Tracking,
    trace: Option<&TraceContext>,
) -> Result<(), BreakevenError> {
    let periods: Vec<String> = won_deals::table
        .filter(won_deals::currency.eq(currency))
        .select(won_deals::period)
        .distinct()
        .order(won_deals::period)
        .load(conn)?;
    for p in periods {
        evaluate_period(conn, &p, currency, tracking, trace)?;
    }
    Ok(())
}

/// Every campaign id known, defined or only seen in events.
pub fn all_campaign_ids(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    diesel::sql_query(
        "SELECT id AS campaign_id FROM campaigns
         UNION SELECT campaign_id FROM campaign_spend
         UNION SELECT campaign_id FROM won_deals WHERE campaign_id IS NOT NULL
         UNION SELECT campaign_id FROM attributions
         ORDER BY 1 LIMIT 10000",
    )
    .load::<CampaignId>(conn)
    .map(|rows| rows.into_iter().map(|r| r.campaign_id).collect())
}

#[derive(QueryableByName)]
pub struct CampaignId {
    #[diesel(sql_type = Text)]
    pub campaign_id: String,
}
