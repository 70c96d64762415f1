//! Attribution rules: which models a request asks for, how stored journeys become the
//! engine's input, which model attributes a won deal, and how the model's output becomes that
//! deal's credits in exact decimals.

use std::collections::BTreeMap;

use attribution::{Journey, MODEL_NAMES, MarkovOrder, Model, ModelResult, Report, Touch};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

/// The key that stands for touches without a campaign when grouping by campaign.
pub const NO_CAMPAIGN: &str = "(none)";

/// What a credit's `channel` names: the touch's channel or its campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Channel,
    Campaign,
}

impl GroupBy {
    /// Parses a `group_by` value; no value means `channel`.
    pub fn parse(s: Option<&str>) -> Result<GroupBy, String> {
        match s {
            None | Some("channel") => Ok(GroupBy::Channel),
            Some("campaign") => Ok(GroupBy::Campaign),
            Some(other) => Err(format!(
                "unknown grouping {other:?}; expected channel or campaign"
            )),
        }
    }

    pub fn key<'a>(self, channel: &'a str, campaign_id: Option<&'a str>) -> &'a str {
        match self {
            GroupBy::Channel => channel,
            GroupBy::Campaign => campaign_id.unwrap_or(NO_CAMPAIGN),
        }
    }
}

/// A bad `models` or `order` query value, naming which.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelsError {
    pub field: &'static str,
    pub message: String,
}

/// The models of a `models=a,b&order=n` query, in the order asked, duplicates dropped. No
/// `models` means every model `paths_only` allows (models that need touch times are left
/// out for aggregated paths). `order` is the Markov chain's order (1 to 4, default 1).
pub fn parse_models(
    models: Option<&str>,
    order: Option<&str>,
    paths_only: bool,
) -> Result<Vec<Model>, ModelsError> {
    let order = match order {
        None => MarkovOrder::default(),
        Some(raw) => raw
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|n| MarkovOrder::new(n).ok())
            .ok_or_else(|| ModelsError {
                field: "order",
                message: format!("must be an integer from 1 to {}", MarkovOrder::MAX),
            })?,
    };
    let names: Vec<&str> = match models {
        None => MODEL_NAMES.to_vec(),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect(),
    };
    if names.is_empty() {
        return Err(ModelsError {
            field: "models",
            message: "must name at least one model".into(),
        });
    }
    let mut out: Vec<Model> = Vec::new();
    for name in names {
        let model = match Model::parse(name).map_err(|e| ModelsError {
            field: "models",
            message: e.to_string(),
        })? {
            Model::Markov(_) => Model::Markov(order),
            m => m,
        };
        if model.needs_journeys() && paths_only {
            if models.is_none() {
                continue;
            }
            return Err(ModelsError {
                field: "models",
                message: format!(
                    "{} needs journeys with touch times; aggregated paths have none",
                    model.name()
                ),
            });
        }
        if !out.iter().any(|m| m.name() == model.name()) {
            out.push(model);
        }
    }
    Ok(out)
}

/// One touch of a stored journey, as the store reads it: the journey's conversion repeated
/// on each of its touches.
#[derive(Debug, Clone)]
pub struct JourneyTouch {
    pub conversion_id: Uuid,
    /// `won` or `lost`.
    pub kind: String,
    pub value: Option<Decimal>,
    pub converted_at: DateTime<Utc>,
    pub channel: String,
    pub campaign_id: Option<String>,
    pub touch_type: String,
    pub occurred_at: DateTime<Utc>,
}

/// A stored journey ready for the engine, with the conversion it ends in.
#[derive(Debug, Clone)]
pub struct StoredJourney {
    pub conversion_id: Uuid,
    pub journey: Journey,
}

/// Groups touches (ordered by conversion, then touch time) into journeys. A won deal is one
/// conversion worth its value; a lost deal is a null path. The first `form_submit` of a
/// journey is its lead-creation touch (the moment the lead identified itself); no touch is
/// marked as creating the opportunity, since touchpoints does not see opportunities.
pub fn journeys(rows: &[JourneyTouch], group_by: GroupBy) -> Vec<StoredJourney> {
    let mut out: Vec<StoredJourney> = Vec::new();
    for r in rows {
        if out.last().map(|j| j.conversion_id) != Some(r.conversion_id) {
            let won = r.kind == "won";
            out.push(StoredJourney {
                conversion_id: r.conversion_id,
                journey: Journey {
                    touches: Vec::new(),
                    converted_at: r.converted_at,
                    conversions: if won { 1.0 } else { 0.0 },
                    value: if won { decimal_to_f64(r.value) } else { 0.0 },
                    nulls: if won { 0.0 } else { 1.0 },
                },
            });
        }
        let journey = &mut out.last_mut().expect("pushed above").journey;
        let lead_creation =
            r.touch_type == "form_submit" && !journey.touches.iter().any(|t| t.lead_creation);
        journey.touches.push(Touch {
            channel: group_by
                .key(&r.channel, r.campaign_id.as_deref())
                .to_string(),
            at: r.occurred_at,
            lead_creation,
            opportunity_creation: false,
        });
    }
    out
}

fn decimal_to_f64(d: Option<Decimal>) -> f64 {
    d.and_then(|d| d.to_string().parse::<f64>().ok())
        .unwrap_or(0.0)
        .max(0.0)
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
    fn models_and_order_are_parsed_or_named() {
        let m = parse_models(Some("markov, linear,linear"), Some("3"), true).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], Model::Markov(MarkovOrder::new(3).unwrap()));
        assert_eq!(parse_models(None, None, true).unwrap().len(), 7);
        assert_eq!(parse_models(None, None, false).unwrap().len(), 10);
        assert_eq!(
            parse_models(Some("bogus"), None, false).unwrap_err().field,
            "models"
        );
        assert_eq!(
            parse_models(Some("time_decay"), None, true)
                .unwrap_err()
                .field,
            "models"
        );
        for bad in ["0", "5", "x"] {
            assert_eq!(
                parse_models(Some("markov"), Some(bad), false)
                    .unwrap_err()
                    .field,
                "order"
            );
        }
        assert!(parse_models(Some(" , "), None, false).is_err());
    }

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

    #[test]
    fn journeys_group_rows_and_mark_lead_creation() {
        let c = Uuid::now_v7();
        let t = |channel: &str, ty: &str, campaign: Option<&str>| JourneyTouch {
            conversion_id: c,
            kind: "won".into(),
            value: Some(Decimal::new(1205, 1)),
            converted_at: "2026-01-02T00:00:00Z".parse().unwrap(),
            channel: channel.into(),
            campaign_id: campaign.map(str::to_string),
            touch_type: ty.into(),
            occurred_at: "2026-01-01T00:00:00Z".parse().unwrap(),
        };
        let rows = vec![
            t("email", "form_submit", Some("x")),
            t("display", "form_submit", None),
        ];
        let j = journeys(&rows, GroupBy::Campaign);
        assert_eq!(j.len(), 1);
        assert_eq!(j[0].journey.value, 120.5);
        assert_eq!(j[0].journey.touches[0].channel, "x");
        assert_eq!(j[0].journey.touches[1].channel, NO_CAMPAIGN);
        assert!(j[0].journey.touches[0].lead_creation);
        assert!(!j[0].journey.touches[1].lead_creation);
    }
}
