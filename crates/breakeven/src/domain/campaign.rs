//! Live campaign break-even: progress from spend and attributed revenue, the projected
//! break-even date at the current run-rate, and when the alerts fire.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use uuid::Uuid;

use super::cvp::{Calc, add, div, mul, sub};
use super::mix::{self, MixLine};
use super::records::PricedProduct;

/// The contribution-margin ratio of a campaign's product mix (product ids and shares),
/// priced from the catalogue (`known`). `None` when a product of the mix is not known or
/// the mix's weighted margin is not positive: the campaign cannot break even yet.
pub fn mix_margin_ratio(mix: &[(Uuid, Decimal)], known: &[PricedProduct]) -> Option<Decimal> {
    let lines: Vec<MixLine> = mix
        .iter()
        .filter_map(|(id, share)| {
            known.iter().find(|p| p.id == *id).map(|p| MixLine {
                name: id.to_string(),
                price: p.price,
                variable_cost: p.variable_cost,
                share: *share,
            })
        })
        .collect();
    if lines.len() != mix.len() {
        return None;
    }
    let (margin, price) = mix::weighted(&lines).ok()?;
    Some(margin / price)
}

/// What is known of a campaign at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub spend: Decimal,
    pub attributed_revenue: Decimal,
    /// Weighted contribution-margin ratio of the campaign's product mix, in (0, 1].
    pub margin_ratio: Decimal,
    pub budget: Decimal,
    pub risk_threshold: Decimal,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// First cost or revenue seen, used when the campaign's start is still ahead.
    pub first_activity: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub contribution: Decimal,
    /// Attributed revenue / spend; `None` before any spend.
    pub roas: Option<Decimal>,
    /// 1 / CM ratio.
    pub breakeven_roas: Decimal,
    /// Contribution / spend × 100; `None` before any spend.
    pub progress_percent: Option<Decimal>,
    /// Spend / budget; `None` for a zero budget.
    pub spend_share: Option<Decimal>,
    pub reached: bool,
    pub at_risk: bool,
    pub projected_breakeven_date: Option<NaiveDate>,
}

/// Nothing is projected further out than this.
const HORIZON_DAYS: i64 = 3650;

pub fn progress(f: &Facts, now: DateTime<Utc>) -> Calc<Progress> {
    let contribution = mul(f.attributed_revenue, f.margin_ratio)?;
    let spent = f.spend > Decimal::ZERO;
    let roas = if spent {
        Some(div(f.attributed_revenue, f.spend)?)
    } else {
        None
    };
    let progress_percent = if spent {
        Some(mul(div(contribution, f.spend)?, Decimal::ONE_HUNDRED)?)
    } else {
        None
    };
    let spend_share = if f.budget > Decimal::ZERO {
        Some(div(f.spend, f.budget)?)
    } else {
        None
    };
    let reached = spent && contribution >= f.spend;
    // ROAS < break-even ROAS ⇔ revenue / spend < 1 / ratio ⇔ contribution < spend.
    let at_risk = spend_share.is_some_and(|s| s >= f.risk_threshold) && contribution < f.spend;
    let projected_breakeven_date = if reached {
        None
    } else {
        project(f, contribution, now)?
    };
    Ok(Progress {
        contribution,
        roas,
        breakeven_roas: div(Decimal::ONE, f.margin_ratio)?,
        progress_percent,
        spend_share,
        reached,
        at_risk,
        projected_breakeven_date,
    })
}

/// At the daily rates so far, the day contribution catches up with spend. Spend is
/// assumed to continue at its rate until the budget is used or the campaign ends, and to
/// stop then; contribution continues at its rate. `None` when it never catches up within
/// ten years.
fn project(f: &Facts, contribution: Decimal, now: DateTime<Utc>) -> Calc<Option<NaiveDate>> {
    let today = now.date_naive();
    let began = if f.starts_on <= today {
        f.starts_on
    } else {
        match f.first_activity {
            Some(t) => t.date_naive(),
            None => return Ok(None),
        }
    };
    let elapsed = Decimal::from((today - began).num_days().max(1));
    let c = div(contribution, elapsed)?;
    if c <= Decimal::ZERO {
        return Ok(None);
    }
    let s = div(f.spend, elapsed)?;
    let days_left = Decimal::from((f.ends_on - today).num_days().max(0));
    let final_spend = f.spend.max(f.budget.min(add(f.spend, mul(s, days_left)?)?));
    let gap = sub(f.spend, contribution)?;
    let mut days = None;
    if c > s {
        let t = div(gap, sub(c, s)?)?;
        if add(f.spend, mul(s, t)?)? <= final_spend {
            days = Some(t);
        }
    }
    let days = match days {
        Some(t) => t,
        None => div(sub(final_spend, contribution)?, c)?,
    };
    let days = days.ceil().to_i64().unwrap_or(i64::MAX);
    if days > HORIZON_DAYS {
        return Ok(None);
    }
    Ok(today.checked_add_days(chrono::Days::new(days.max(0) as u64)))
}

/// The alert state kept per campaign.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertState {
    /// Set once, when break-even is first reached; never cleared.
    pub reached: bool,
    /// Whether the campaign is currently in the at-risk state.
    pub at_risk: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alert {
    BreakevenReached,
    AtRisk,
}

/// The next state and the alerts to send: break-even once ever; at-risk on each entry
/// into the at-risk state (leaving it re-arms the alert).
pub fn alerts(state: AlertState, p: &Progress) -> (AlertState, Vec<Alert>) {
    let mut fired = Vec::new();
    let mut next = state;
    if p.reached && !state.reached {
        next.reached = true;
        fired.push(Alert::BreakevenReached);
    }
    if p.at_risk && !state.at_risk {
        fired.push(Alert::AtRisk);
    }
    next.at_risk = p.at_risk;
    (next, fired)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn facts(spend: &str, revenue: &str) -> Facts {
        Facts {
            spend: d(spend),
            attributed_revenue: d(revenue),
            margin_ratio: d("0.4"),
            budget: d("1000"),
            risk_threshold: d("0.5"),
            starts_on: "2025-03-01".parse().unwrap(),
            ends_on: "2025-03-31".parse().unwrap(),
            first_activity: None,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// Spend 400, revenue 1,250 at a 40 % CM ratio: contribution 500 ≥ 400 → reached;
    /// ROAS 1,250 / 400 = 3.125 against break-even ROAS 2.5; progress 125 %.
    #[test]
    fn reached() {
        let p = progress(&facts("400", "1250"), at("2025-03-11T00:00:00Z")).unwrap();
        assert!(p.reached && !p.at_risk);
        assert_eq!(p.roas, Some(d("3.125")));
        assert_eq!(p.breakeven_roas, d("2.5"));
        assert_eq!(p.progress_percent, Some(d("125")));
    }

    /// Spend 600 of 1,000 (60 % ≥ 50 %), revenue 1,000 → contribution 400 < 600: at risk.
    /// Over 10 days: c = 40/day, s = 60/day, so spend runs out first: after 400 / 60 =
    /// 6.67 more days the budget is spent (day 20 ≤ 31 March); then contribution must
    /// reach 1,000: (1,000 − 400) / 40 = 15 days → 26 March.
    #[test]
    fn at_risk_with_projection() {
        let p = progress(&facts("600", "1000"), at("2025-03-11T00:00:00Z")).unwrap();
        assert!(p.at_risk && !p.reached);
        assert_eq!(p.spend_share, Some(d("0.6")));
        assert_eq!(
            p.projected_breakeven_date,
            Some("2025-03-26".parse().unwrap())
        );
    }

    #[test]
    fn nothing_spent_is_neither() {
        let p = progress(&facts("0", "0"), at("2025-03-11T00:00:00Z")).unwrap();
        assert!(!p.reached && !p.at_risk);
        assert_eq!(p.roas, None);
        assert_eq!(p.projected_breakeven_date, None);
    }

    #[test]
    fn alerts_fire_once_per_crossing() {
        let risky = progress(&facts("600", "0"), at("2025-03-11T00:00:00Z")).unwrap();
        let calm = progress(&facts("100", "0"), at("2025-03-11T00:00:00Z")).unwrap();
        let paid = progress(&facts("600", "2000"), at("2025-03-11T00:00:00Z")).unwrap();
        let (s, a) = alerts(AlertState::default(), &risky);
        assert_eq!(a, [Alert::AtRisk]);
        let (s, a) = alerts(s, &risky);
        assert!(a.is_empty());
        let (s, a) = alerts(s, &paid);
        assert_eq!(a, [Alert::BreakevenReached]);
        let (s, a) = alerts(s, &paid);
        assert!(a.is_empty());
        let (s, _) = alerts(s, &calm);
        let (_, a) = alerts(s, &risky);
        assert_eq!(a, [Alert::AtRisk], "a second crossing fires again");
    }
}
