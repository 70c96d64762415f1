//! Revenue from consumed events: won deals (per campaign and per company month) and
//! attributed conversions (per credited campaign), each re-evaluating what it moves.

use std::collections::BTreeMap;

use contracts::funnel::DealWon;
use contracts::touchpoints::ConversionAttributed;
use diesel::PgConnection;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{alerts, months};
use crate::Tracking;
use crate::domain::company::{deal_contribution, month_of};
use crate::domain::cvp::add;
use crate::error::BreakevenError;
use crate::store::{attributions, deals, products};

/// Records a won deal once (by deal id) and re-evaluates its campaign and its month.
pub fn record_deal(
    conn: &mut PgConnection,
    d: &DealWon,
    tracking: &Tracking,
) -> Result<(), BreakevenError> {
    let contribution = line_contribution(conn, d)?;
    let month = month_of(d.won_at);
    if !deals::insert(conn, d, &month, contribution)? {
        return Ok(());
    }
    if let Some(c) = &d.campaign_id {
        alerts::evaluate_campaign(conn, c, tracking, None)?;
    }
    months::evaluate_month(conn, &month, d.currency.as_str(), None)?;
    Ok(())
}

/// The contribution of a deal's product lines, priced from the catalogue.
fn line_contribution(
    conn: &mut PgConnection,
    d: &DealWon,
) -> Result<Option<Decimal>, BreakevenError> {
    if d.products.is_empty() {
        return Ok(None);
    }
    let ids: Vec<Uuid> = d
        .products
        .iter()
        .filter_map(|p| Uuid::parse_str(&p.product_id).ok())
        .collect();
    let known = products::priced(conn, &ids)?;
    Ok(deal_contribution(&d.products, d.currency.as_str(), &known)?)
}

/// Keeps the latest attribution of a deal under a model (by conversion time, then id, so
/// the result does not depend on arrival order) and re-evaluates every campaign whose
/// revenue it moves.
pub fn record_attribution(
    conn: &mut PgConnection,
    c: &ConversionAttributed,
    tracking: &Tracking,
) -> Result<(), BreakevenError> {
    // An attribution over no touches (a deal whose lead had none in the lookback window)
    // credits nothing and decides nothing: the deal keeps counting for its own campaign.
    if c.touch_count == 0 && c.credits.is_empty() {
        return Ok(());
    }
    if !attributions::keep_latest(conn, c)? {
        return Ok(());
    }
    let mut affected = attributions::clear_credits(conn, c.deal_id, &c.model)?;
    let mut credits: BTreeMap<&str, Decimal> = BTreeMap::new();
    for credit in &c.credits {
        if let Some(campaign) = &credit.campaign_id {
            let sum = credits.entry(campaign.as_str()).or_default();
            *sum = add(*sum, credit.value)?;
        }
    }
    for (campaign, value) in &credits {
        attributions::insert_credit(
            conn,
            c.deal_id,
            &c.model,
            campaign,
            *value,
            c.currency.as_str(),
        )?;
        affected.push(campaign.to_string());
    }
    // The deal's own campaign loses its unattributed revenue to the attribution.
    if let Some(own) = deals::campaign_of(conn, c.deal_id)? {
        affected.push(own);
    }
    affected.sort();
    affected.dedup();
    for campaign in &affected {
        alerts::evaluate_campaign(conn, campaign, tracking, None)?;
    }
    Ok(())
}
