//! The summary: win rate, deal size, cycle length, sales velocity and loss reasons. Money
//! is summed with rust_decimal, per currency.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;

use super::{DealFacts, LossReason, MoneyFigure, NONE_KEY, Summary, ratio};
use crate::domain::log::Status;

/// Money to the cent, half away from zero, always with two decimals.
fn cents(d: Decimal) -> Decimal {
    let mut d = d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    d.rescale(2);
    d
}

pub(super) fn summary<'a>(deals: impl IntoIterator<Item = &'a DealFacts>) -> Summary {
    let (mut open, mut won, mut lost) = (0u64, 0u64, 0u64);
    let mut won_amounts: BTreeMap<String, (Decimal, u64)> = BTreeMap::new();
    let (mut cycle_secs, mut cycles) = (0i64, 0i64);
    let mut reasons: HashMap<String, u64> = HashMap::new();
    for d in deals {
        match d.status {
            Status::Open => open += 1,
            Status::Won => {
                won += 1;
                if let (Some(a), Some(c)) = (d.amount, &d.currency) {
                    let e = won_amounts.entry(c.clone()).or_insert((Decimal::ZERO, 0));
                    e.0 += a;
                    e.1 += 1;
                }
                if let Some(c) = d.closed_at {
                    cycle_secs += (c - d.opened_at).num_seconds();
                    cycles += 1;
                }
            }
            Status::Lost => {
                lost += 1;
                let r = d
                    .close_reason
                    .clone()
                    .unwrap_or_else(|| NONE_KEY.to_string());
                *reasons.entry(r).or_default() += 1;
            }
        }
    }
    let average_deal_size: Vec<MoneyFigure> = won_amounts
        .iter()
        .map(|(c, (sum, n))| MoneyFigure {
            currency: c.clone(),
            amount: cents(*sum / Decimal::from(*n)),
        })
        .collect();
    // Exact: open × (won / closed) × average ÷ (cycle seconds / cycles / 86400).
    let velocity = if cycles > 0 && cycle_secs > 0 && won + lost > 0 {
        won_amounts
            .iter()
            .map(|(c, (sum, n))| MoneyFigure {
                currency: c.clone(),
                amount: cents(
                    Decimal::from(open) * Decimal::from(won) * *sum
                        / Decimal::from(*n)
                        / Decimal::from(won + lost)
                        * Decimal::from(cycles)
                        * Decimal::from(86_400)
                        / Decimal::from(cycle_secs),
                ),
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut loss_reasons: Vec<LossReason> = reasons
        .into_iter()
        .map(|(reason, deals)| LossReason { reason, deals })
        .collect();
    loss_reasons.sort_by(|a, b| b.deals.cmp(&a.deals).then(a.reason.cmp(&b.reason)));
    Summary {
        open,
        won,
        lost,
        win_rate: ratio(won, won + lost),
        average_deal_size,
        average_cycle_days: (cycles > 0).then(|| cycle_secs as f64 / cycles as f64 / 86_400.0),
        sales_velocity_per_day: velocity,
        loss_reasons,
    }
}
