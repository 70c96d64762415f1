//! How a won deal is attributed: which model (trained once on the training window, then
//! applied to each deal), the journey's shares by channel, their split across campaigns, and
//! the exact decimal credits of `conversion.attributed`.

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

/// A model trained for won deals: what attributes them until it is trained again.
///
/// Trained once per refresh of the model, not per deal; applying it to a deal is cheap.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedModel {
    /// The rule it was trained for.
    pub rule: AttributionRule,
    /// The model that attributes deals: the rule's, or `linear` when the training window
    /// held fewer than `min_conversions` converting journeys or the engine failed on it.
    pub model: Model,
    /// The per-channel weights a data-driven `model` learnt (see [`channel_weights`]);
    /// empty for any other.
    pub weights: BTreeMap<String, f64>,
    /// Journeys in the training window, and how many of them converted.
    pub journeys: usize,
    pub converting: usize,
    /// The end of the training window: the model has seen the deals converted before it.
    pub trained_at: DateTime<Utc>,
}

/// Trains the rule's model on `training`, the won and lost deals of the rule's
/// [training window](AttributionRule::training_window) ending at `trained_at`.
///
/// A data-driven model (markov, shapley) gives way to `linear` below `min_conversions`
/// converting journeys, and when the engine fails on the window (logged: the deals are
/// still attributed). Any other model learns nothing: it runs on each deal's journey alone.
pub fn train(
    rule: &AttributionRule,
    training: Vec<StoredJourney>,
    trained_at: DateTime<Utc>,
) -> TrainedModel {
    let journeys = training.len();
    let converting = training
        .iter()
        .filter(|j| j.journey.conversions > 0.0)
        .count();
    let mut model = rule.model;
    let mut weights = BTreeMap::new();
    if is_data_driven(&model) {
        model = rule.model_for(converting);
        if is_data_driven(&model) {
            let set: Vec<Journey> = training.into_iter().map(|j| j.journey).collect();
            match JourneySet::new(&set).and_then(|set| attribute_journeys(&set, &[model])) {
                Ok(report) => weights = channel_weights(&report.results[0]),
                Err(e) => {
                    tracing::warn!(error = %e, "data-driven attribution failed");
                    model = Model::Linear;
                }
            }
        }
    }
    TrainedModel {
        rule: *rule,
        model,
        weights,
        journeys,
        converting,
        trained_at,
    }
}

/// Attributes a won deal whose journey is `rows` (its touches, in order; not empty) with
/// `trained`, the rule's model as last trained (`None`: the rule's model, untrained).
///
/// A data-driven model's global per-channel weights (Markov's removal effects, Shapley's
/// credits) become this journey's shares: each channel of the journey gets its weight over
/// the sum of the weights of the journey's channels; when those sum to zero (no channel of
/// the journey is known to matter) the deal falls back to `linear`. Any other model runs on
/// this journey alone. A channel's share is split across its touches' campaigns by touch
/// count; shares become decimals that sum exactly to 1 and to the value.
///
/// Only the engine can fail here, on a journey it refuses (e.g. a stored channel name it
/// reserves): the same deal fails the same way every time.
pub fn apply(
    deal: &WonDeal,
    rows: &[JourneyTouch],
    trained: Option<&TrainedModel>,
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

    let mut model = trained.map_or(rule.model, |t| t.model);
    let mut shares = None;
    if let Some(t) = trained.filter(|t| is_data_driven(&t.model)) {
        let channels: Vec<String> = touches.iter().map(|(c, _)| c.clone()).collect();
        shares = shares_from_weights(&channels, &t.weights);
        if shares.is_none() {
            model = Model::Linear;
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
    /// The conversions a data-driven model trained at `end` learns from: the
    /// `training_days` before it, up to and including it, as a half-open `[from, to)`.
    pub fn training_window(&self, end: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        // A window reaching past the calendar's start starts there.
        let from = end
            .checked_sub_signed(Duration::days(i64::from(self.training_days)))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        (from, end + Duration::microseconds(1))
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
        // Taken off one by one: their sum may pass `Decimal`'s range for a total near it.
        let rest = amounts.iter().fold(total, |rest, a| rest - a);
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
        // Halves of the largest decimal each round up past half of it: no overflow.
        let m = apportion(&[0.5, 0.5], Decimal::MAX, 2);
        assert_eq!(m[0] + m[1], Decimal::MAX);
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// One journey's rows: `(channel, campaign, touch type, day of May 2026)` touches of a
    /// conversion of `kind` on day `day`.
    fn rows(
        kind: &str,
        value: Option<i64>,
        day: u32,
        touches: &[(&str, Option<&str>, &str, u32)],
    ) -> Vec<JourneyTouch> {
        let conversion_id = Uuid::now_v7();
        touches
            .iter()
            .map(|(channel, campaign, ty, touched)| JourneyTouch {
                conversion_id,
                kind: kind.into(),
                value: value.map(Decimal::from),
                currency: Some("EUR".into()),
                converted_at: at(&format!("2026-05-{day:02}T00:00:00Z")),
                channel: channel.to_string(),
                campaign_id: campaign.map(str::to_string),
                touch_type: ty.to_string(),
                occurred_at: at(&format!("2026-05-{touched:02}T00:00:00Z")),
            })
            .collect()
    }

    /// The integration tests' three journeys: A `email > paid_search` won for 100, B
    /// `paid_search` won for 50, C `display > paid_search` lost.
    fn three_journeys() -> [Vec<JourneyTouch>; 3] {
        [
            rows(
                "won",
                Some(100),
                10,
                &[
                    ("email", Some("c1"), "form_submit", 1),
                    ("paid_search", Some("c2"), "click", 2),
                ],
            ),
            rows(
                "won",
                Some(50),
                9,
                &[("paid_search", Some("c2"), "click", 1)],
            ),
            rows(
                "lost",
                None,
                8,
                &[
                    ("display", None, "impression", 1),
                    ("paid_search", Some("c2"), "click", 2),
                ],
            ),
        ]
    }

    fn training(journey_rows: &[Vec<JourneyTouch>]) -> Vec<StoredJourney> {
        let mut all: Vec<JourneyTouch> = journey_rows.concat();
        all.sort_by_key(|r| (r.converted_at, r.conversion_id, r.occurred_at));
        journeys(&all, GroupBy::Channel)
    }

    fn won(rows: &[JourneyTouch], value: i64) -> WonDeal {
        WonDeal {
            conversion_id: rows[0].conversion_id,
            deal_id: Uuid::now_v7(),
            lead_id: Uuid::now_v7(),
            value: Decimal::from(value),
            currency: "EUR".parse().unwrap(),
            converted_at: rows[0].converted_at,
        }
    }

    /// (channel, campaign, conversions, value) of each credit.
    fn credits(e: &ConversionAttributed) -> Vec<(String, Option<String>, String, String)> {
        e.credits
            .iter()
            .map(|c| {
                (
                    c.channel.clone(),
                    c.campaign_id.clone(),
                    c.conversions.to_string(),
                    c.value.to_string(),
                )
            })
            .collect()
    }

    fn credit(
        channel: &str,
        campaign: Option<&str>,
        conversions: &str,
        value: &str,
    ) -> (String, Option<String>, String, String) {
        (
            channel.into(),
            campaign.map(str::to_string),
            conversions.into(),
            value.into(),
        )
    }

    /// Markov however thin the data, as in the integration test of `conversion.attributed`.
    fn markov_on_thin_data() -> AttributionRule {
        AttributionRule {
            min_conversions: 0,
            ..AttributionRule::default()
        }
    }

    #[test]
    fn a_model_trained_once_attributes_like_the_hand_worked_chain() {
        // Removal effects over the three journeys: email 1/3, paid_search 1, display 0. A's
        // journey `email > paid_search` gets 1/3 / (1/3 + 1) = 1/4 and 3/4.
        let [a, b, c] = three_journeys();
        let rule = markov_on_thin_data();
        let model = train(
            &rule,
            training(&[a.clone(), b.clone(), c]),
            at("2026-05-10T00:00:00Z"),
        );
        assert!(matches!(model.model, Model::Markov(_)));
        assert_eq!((model.journeys, model.converting), (3, 2));
        assert!(
            (model.weights["email"] - 1.0 / 3.0).abs() < 1e-9,
            "{model:?}"
        );
        assert!(
            (model.weights["paid_search"] - 1.0).abs() < 1e-9,
            "{model:?}"
        );

        let e = apply(&won(&a, 100), &a, Some(&model), &rule).unwrap();
        assert_eq!((e.model.as_str(), e.order), ("markov", Some(1)));
        assert_eq!(e.touch_count, 2);
        assert_eq!(
            credits(&e),
            [
                credit("email", Some("c1"), "0.25", "25"),
                credit("paid_search", Some("c2"), "0.75", "75"),
            ]
        );
        // The same model serves every deal until it is trained again: B's single channel
        // takes all of its 50.
        let e = apply(&won(&b, 50), &b, Some(&model), &rule).unwrap();
        assert_eq!(e.model, "markov");
        assert_eq!(credits(&e), [credit("paid_search", Some("c2"), "1", "50")]);
    }

    #[test]
    fn a_model_gives_way_to_linear_as_the_one_shot_rule_did() {
        let [a, b, c] = three_journeys();
        // Too few converting journeys for the default rule (30): linear, on the journey alone.
        let rule = AttributionRule::default();
        let model = train(
            &rule,
            training(&[a.clone(), b.clone(), c.clone()]),
            at("2026-05-10T00:00:00Z"),
        );
        assert_eq!(model.model, Model::Linear);
        assert!(model.weights.is_empty());
        let e = apply(&won(&a, 100), &a, Some(&model), &rule).unwrap();
        assert_eq!((e.model.as_str(), e.order), ("linear", None));
        assert_eq!(
            credits(&e),
            [
                credit("email", Some("c1"), "0.5", "50"),
                credit("paid_search", Some("c2"), "0.5", "50"),
            ]
        );

        // A journey whose channels all weigh nothing in the chain (it never saw referral):
        // linear for this deal only.
        let rule = markov_on_thin_data();
        let model = train(&rule, training(&[b, c]), at("2026-05-09T00:00:00Z"));
        assert!(matches!(model.model, Model::Markov(_)));
        let d = rows(
            "won",
            Some(10),
            11,
            &[
                ("referral", None, "click", 3),
                ("referral", Some("r"), "click", 4),
            ],
        );
        let e = apply(&won(&d, 10), &d, Some(&model), &rule).unwrap();
        assert_eq!(e.model, "linear");
        assert_eq!(
            credits(&e),
            [
                credit("referral", None, "0.5", "5"),
                credit("referral", Some("r"), "0.5", "5"),
            ]
        );

        // The engine refusing the training window (a channel it reserves): linear for all.
        let odd = rows("won", Some(1), 7, &[("(null)", None, "click", 1)]);
        let model = train(
            &rule,
            training(&[a.clone(), odd]),
            at("2026-05-10T00:00:00Z"),
        );
        assert_eq!(model.model, Model::Linear);
        let e = apply(&won(&a, 100), &a, Some(&model), &rule).unwrap();
        assert_eq!(e.model, "linear");
    }

    #[test]
    fn other_models_learn_nothing_and_run_on_the_journey_alone() {
        let [a, b, c] = three_journeys();
        let rule = AttributionRule {
            model: Model::FirstTouch,
            ..AttributionRule::default()
        };
        let model = train(
            &rule,
            training(&[a.clone(), b, c]),
            at("2026-05-10T00:00:00Z"),
        );
        assert_eq!(model.model, Model::FirstTouch);
        assert!(model.weights.is_empty());
        let trained = apply(&won(&a, 100), &a, Some(&model), &rule).unwrap();
        let untrained = apply(&won(&a, 100), &a, None, &rule).unwrap();
        assert_eq!(credits(&trained), credits(&untrained));
        assert_eq!(credits(&trained), [credit("email", Some("c1"), "1", "100")]);
    }

    #[test]
    fn a_journey_the_engine_refuses_is_an_error_every_time() {
        let rule = AttributionRule::default();
        let odd = rows("won", Some(5), 7, &[("(start)", None, "click", 1)]);
        for _ in 0..2 {
            let e = apply(&won(&odd, 5), &odd, None, &rule).unwrap_err();
            assert!(matches!(e, attribution::Error::Input { .. }), "{e}");
        }
    }

    #[test]
    fn a_training_window_never_leaves_the_calendar() {
        let rule = AttributionRule {
            training_days: u32::MAX,
            ..AttributionRule::default()
        };
        let (from, to) = rule.training_window(at("2026-05-10T00:00:00Z"));
        assert_eq!(from, DateTime::<Utc>::MIN_UTC);
        assert!(to > at("2026-05-10T00:00:00Z"));
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
