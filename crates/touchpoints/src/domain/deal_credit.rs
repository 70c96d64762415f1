//! How a won deal is attributed: which model, the journey's shares by channel, their split
//! across campaigns, and the exact decimal credits of `conversion.attributed`.

use std::collections::BTreeMap;

use attribution::{
    Journey, JourneySet, MarkovOrder, Model, ModelResult, Report, attribute_journeys,
};
use chrono::{DateTime, Duration, Utc};
use contracts::Currency;
use contracts::touchpoints::{AttributionCredit, ConversionAttributed};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::attribution::{GroupBy, JourneyTouch, StoredJourney, journeys};

/// A won deal just recorded, to attribute.
#[derive(Debug, Clone)]
pub struct WonDeal {
    pub conversion_id: Uuid,
    pub deal_id: Uuid,
    pub lead_id: Uuid,
    pub value: Decimal,
    pub currency: Currency,
    pub converted_at: DateTime<Utc>,
}

/// Attributes a won deal whose journey is `rows` (its touches, in order; not empty).
///
/// The model is the rule's; a data-driven one (markov, shapley) learns from `training`, the
/// won and lost deals of the rule's [training window](AttributionRule::training_window)
/// (given whenever the rule's model is data-driven), and gives way to `linear` below
/// `min_conversions` converting journeys. Its global per-channel weights (Markov's removal
/// effects, Shapley's credits) become this journey's shares: each channel of the journey gets
/// its weight over the sum of the weights of the journey's channels. Any other model runs on
/// this journey alone. A channel's share is split across its touches' campaigns by touch
/// count; shares become decimals that sum exactly to 1 and to the value.
pub fn attribute_deal(
    deal: &WonDeal,
    rows: &[JourneyTouch],
    training: Option<Vec<StoredJourney>>,
    rule: &AttributionRule,
) -> Result<ConversionAttributed, attribution::Error> {
    let touches: Vec<(String, Option<String>)> = rows
        .iter()
        .map(|r| (r.channel.clone(), r.campaign_id.clone()))
        .collect();
    let journey = journeys(rows, GroupBy::Channel)
        .pop()
        .expect("rows make a journey")
        .journey;

    let mut model = rule.model;
    let mut shares = None;
    if let Some(training) = training.filter(|_| is_data_driven(&model)) {
        let converting = training
            .iter()
            .filter(|j| j.journey.conversions > 0.0)
            .count();
        model = rule.model_for(converting);
        if is_data_driven(&model) {
            let set: Vec<Journey> = training.into_iter().map(|j| j.journey).collect();
            let channels: Vec<String> = touches.iter().map(|(c, _)| c.clone()).collect();
            shares = JourneySet::new(&set)
                .and_then(|set| attribute_journeys(&set, &[model]))
                .map_err(|e| tracing::warn!(error = %e, "data-driven attribution failed"))
                .ok()
                .and_then(|report| {
                    shares_from_weights(&channels, &channel_weights(&report.results[0]))
                });
            if shares.is_none() {
                model = Model::Linear;
            }
        }
    }
    let shares = match shares {
        Some(s) => s,
        None => {
            let alone = Journey {
                conversions: 1.0,
                value: 1.0,
                nulls: 0.0,
                ..journey
            };
            shares_from_report(&attribute_journeys(&JourneySet::new(&[alone])?, &[model])?)
        }
    };

    let credits = split_by_campaign(&shares, &touches);
    let raw: Vec<f64> = credits.iter().map(|c| c.share).collect();
    let conversions = apportion(&raw, Decimal::ONE, 6);
    let values = apportion(&raw, deal.value, deal.value.scale().max(2));
    Ok(ConversionAttributed {
        conversion_id: deal.conversion_id,
        deal_id: deal.deal_id,
        lead_id: deal.lead_id,
        model: model.name().to_string(),
        order: match model {
            Model::Markov(order) => Some(order.get()),
            _ => None,
        },
        value: deal.value,
        currency: deal.currency.clone(),
        converted_at: deal.converted_at,
        touch_count: u32::try_from(touches.len()).unwrap_or(u32::MAX),
        credits: credits
            .into_iter()
            .zip(conversions)
            .zip(values)
            .map(|((c, conversions), value)| AttributionCredit {
                channel: c.channel,
                campaign_id: c.campaign_id,
                conversions,
                value,
            })
            .collect(),
    })
}

/// How a won deal is attributed (`ATTRIBUTION__*` settings).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttributionRule {
    /// The configured model.
    pub model: Model,
    /// Days of conversions before the deal that data-driven models learn from.
    pub training_days: u32,
    /// Fewer converting journeys than this in the training window and a data-driven model
    /// (markov, shapley) gives way to `linear`.
    pub min_conversions: u32,
}

impl Default for AttributionRule {
    fn default() -> Self {
        AttributionRule {
            model: Model::Markov(MarkovOrder::default()),
            training_days: 90,
            min_conversions: 30,
        }
    }
}

impl AttributionRule {
    /// The conversions a data-driven model learns from for a deal won at `won_at`: the
    /// `training_days` before it, up to and including it, as a half-open `[from, to)`.
    pub fn training_window(&self, won_at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            won_at - Duration::days(i64::from(self.training_days)),
            won_at + Duration::microseconds(1),
        )
    }

    /// The model that attributes a deal, given how many converting journeys the training
    /// window holds.
    pub fn model_for(&self, converting_journeys: usize) -> Model {
        if is_data_driven(&self.model) && converting_journeys < self.min_conversions as usize {
            Model::Linear
        } else {
            self.model
        }
    }
}

/// Models whose credit for a channel depends on every journey, not only on the one at hand.
pub fn is_data_driven(model: &Model) -> bool {
    matches!(model, Model::Markov(_) | Model::Shapley)
}

/// Per-channel weights of a data-driven model: Markov's removal effects (the share of
/// conversions lost without the channel) or Shapley's conversion credits.
pub fn channel_weights(result: &ModelResult) -> BTreeMap<String, f64> {
    match &result.removal_effects {
        Some(effects) => effects
            .iter()
            .map(|e| (e.channel.clone(), e.conversion.max(0.0)))
            .collect(),
        None => result
            .credits
            .iter()
            .map(|c| (c.channel.clone(), c.conversions.max(0.0)))
            .collect(),
    }
}

/// One journey's shares by channel from global weights: each channel of the journey gets its
/// weight over the sum of the weights of the journey's distinct channels. `None` when those
/// weights sum to zero (no channel of the journey is known to matter).
pub fn shares_from_weights(
    channels: &[String],
    weights: &BTreeMap<String, f64>,
) -> Option<BTreeMap<String, f64>> {
    let mut shares: BTreeMap<String, f64> = BTreeMap::new();
    for c in channels {
        shares.insert(c.clone(), weights.get(c).copied().unwrap_or(0.0));
    }
    let sum: f64 = shares.values().sum();
    if !(sum > 0.0 && sum.is_finite()) {
        return None;
    }
    shares.values_mut().for_each(|s| *s /= sum);
    Some(shares)
}

/// One journey's shares by channel from a report of the journey alone (a heuristic model
/// run on one conversion).
pub fn shares_from_report(report: &Report) -> BTreeMap<String, f64> {
    let total = report.total_conversions;
    report
        .results
        .first()
        .map(|r| {
            r.credits
                .iter()
                .filter(|c| c.conversions > 0.0)
                .map(|c| (c.channel.clone(), c.conversions / total))
                .collect()
        })
        .unwrap_or_default()
}

/// A conversion's credit for one channel and campaign, as a share of the conversion.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditShare {
    pub channel: String,
    pub campaign_id: Option<String>,
    pub share: f64,
}

/// Splits each channel's share across the campaigns of the journey's touches on that
/// channel, in proportion to their touch counts. `touches` are `(channel, campaign_id)`.
pub fn split_by_campaign(
    channel_shares: &BTreeMap<String, f64>,
    touches: &[(String, Option<String>)],
) -> Vec<CreditShare> {
    let mut out = Vec::new();
    for (channel, share) in channel_shares {
        let mut campaigns: BTreeMap<Option<&str>, usize> = BTreeMap::new();
        for (c, campaign) in touches {
            if c == channel {
                *campaigns.entry(campaign.as_deref()).or_default() += 1;
            }
        }
        let n: usize = campaigns.values().sum();
        if n == 0 {
            continue;
        }
        for (campaign, k) in campaigns {
            out.push(CreditShare {
                channel: channel.clone(),
                campaign_id: campaign.map(str::to_string),
                share: share * k as f64 / n as f64,
            });
        }
    }
    out
}

/// Decimal amounts at `scale` places for `shares` (which sum to about 1) of `total`, summing
/// exactly to `total`: each is rounded, and what rounding left over goes to the largest.
pub fn apportion(shares: &[f64], total: Decimal, scale: u32) -> Vec<Decimal> {
    let mut amounts: Vec<Decimal> = shares
        .iter()
        .map(|s| {
            let s = Decimal::try_from(s.clamp(0.0, 1.0)).unwrap_or_default();
            (total * s).round_dp(scale)
        })
        .collect();
    let largest = amounts
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
        .map(|(i, _)| i);
    if let Some(i) = largest {
        let rest = total - amounts.iter().copied().sum::<Decimal>();
        amounts[i] += rest;
    }
    amounts.iter().map(|d| d.normalize()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_rule() {
        let rule = AttributionRule::default();
        assert_eq!(rule.model_for(29), Model::Linear);
        assert!(matches!(rule.model_for(30), Model::Markov(_)));
        let first = AttributionRule {
            model: Model::FirstTouch,
            ..rule
        };
        assert_eq!(first.model_for(0), Model::FirstTouch);
    }

    #[test]
    fn apportioned_amounts_sum_exactly() {
        let third = 1.0 / 3.0;
        let a = apportion(&[third, third, third], Decimal::new(10000, 2), 2);
        assert_eq!(a.iter().copied().sum::<Decimal>(), Decimal::new(10000, 2));
        assert_eq!(a[0].to_string(), "33.34");
        assert_eq!(a[1].to_string(), "33.33");
        let c = apportion(&[0.7, 0.2, 0.1], Decimal::ONE, 6);
        assert_eq!(c.iter().copied().sum::<Decimal>(), Decimal::ONE);
        assert!(apportion(&[], Decimal::ONE, 6).is_empty());
    }

    #[test]
    fn shares_split_by_weights_and_campaigns() {
        let weights: BTreeMap<String, f64> =
            [("email".to_string(), 0.5), ("display".to_string(), 1.5)].into();
        let shares = shares_from_weights(&["email".into(), "display".into()], &weights).unwrap();
        assert_eq!(shares["email"], 0.25);
        assert!(shares_from_weights(&["direct".into()], &weights).is_none());
        let touches = vec![
            ("email".to_string(), Some("a".to_string())),
            ("display".to_string(), Some("b".to_string())),
            ("display".to_string(), None),
        ];
        let split = split_by_campaign(&shares, &touches);
        assert_eq!(split.len(), 3);
        let total: f64 = split.iter().map(|s| s.share).sum();
        assert!((total - 1.0).abs() < 1e-12);
        assert_eq!(split[0].campaign_id, None);
        assert_eq!(split[0].share, 0.375);
    }
}
