//! Values per currency. The engine credits one value per journey as a float and would add
//! values of different currencies together; here it never does. Each currency is valued by
//! its own run of the engine over every journey, with only that currency's values (the other
//! journeys count for their conversions, at no value), and its float credits become exact
//! decimals that sum to the currency's exact total. Conversion credits do not depend on
//! values, so they come from the first run.

use attribution::{Journey, Report, Transition};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;

use super::attribution::StoredJourney;
use super::deal_credit::apportion;

/// Places of an ad-hoc total (whose values arrive as floats).
const ADHOC_SCALE: u32 = 6;

/// An exact amount in one currency. `currency` is `None` for ad-hoc paths, whose values
/// carry no currency.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrencyAmount {
    pub currency: Option<String>,
    pub amount: Decimal,
}

/// A removal effect on the value of the conversions in one currency.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrencyEffect {
    pub currency: Option<String>,
    pub effect: f64,
}

/// What one run of the engine values: the conversions in `currency`, worth `total` exactly;
/// credits are given to `scale` places.
#[derive(Debug, Clone, PartialEq)]
pub struct Valuation {
    pub currency: Option<String>,
    pub total: Decimal,
    pub scale: u32,
}

impl Valuation {
    /// The valuation of ad-hoc paths worth `total` (a float, as the engine read it).
    pub fn adhoc(total: f64) -> Valuation {
        let total = Decimal::from_f64(total)
            .unwrap_or_default()
            .round_dp(ADHOC_SCALE)
            .normalize();
        Valuation {
            currency: None,
            scale: total.scale().max(2),
            total,
        }
    }
}

/// The engine's input for one run: every journey, valued in one currency (or in none, when
/// no journey has a value).
#[derive(Debug, Clone)]
pub struct CurrencyJourneys {
    pub value: Option<Valuation>,
    pub journeys: Vec<Journey>,
}

/// One run per currency of the stored journeys' conversions, in currency order; one run
/// without values when no conversion has a currency.
pub fn by_currency(stored: &[StoredJourney]) -> Vec<CurrencyJourneys> {
    let mut currencies: Vec<&str> = stored
        .iter()
        .filter_map(|j| j.currency.as_deref())
        .collect();
    currencies.sort_unstable();
    currencies.dedup();
    if currencies.is_empty() {
        let journeys = stored
            .iter()
            .map(|j| Journey {
                value: 0.0,
                ..j.journey.clone()
            })
            .collect();
        return vec![CurrencyJourneys {
            value: None,
            journeys,
        }];
    }
    currencies
        .into_iter()
        .map(|currency| {
            let mine = |j: &&StoredJourney| j.currency.as_deref() == Some(currency);
            let values = stored.iter().filter(mine).map(|j| j.value);
            let scale = values.clone().map(|v| v.scale()).max().unwrap_or(0).max(2);
            let total: Decimal = values.sum();
            let journeys = stored
                .iter()
                .map(|j| Journey {
                    value: if mine(&j) { j.journey.value } else { 0.0 },
                    ..j.journey.clone()
                })
                .collect();
            CurrencyJourneys {
                value: Some(Valuation {
                    currency: Some(currency.to_string()),
                    total: total.normalize(),
                    scale,
                }),
                journeys,
            }
        })
        .collect()
}

/// Every requested model's credits, with values per currency.
#[derive(Debug, Clone, PartialEq)]
pub struct ValuedReport {
    pub total_conversions: f64,
    /// The conversions' value, one entry per currency.
    pub total_values: Vec<CurrencyAmount>,
    pub results: Vec<ValuedResult>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValuedResult {
    pub model: &'static str,
    pub order: Option<u8>,
    pub credits: Vec<ValuedCredit>,
    pub removal_effects: Option<Vec<ValuedEffect>>,
    pub transition_matrix: Option<Vec<Transition>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValuedCredit {
    pub channel: String,
    pub conversions: f64,
    /// The channel's share of each currency's value, in the order of `total_values`.
    pub values: Vec<CurrencyAmount>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValuedEffect {
    pub channel: String,
    pub conversion: f64,
    /// The value removal effect in each currency, in the order of `total_values`.
    pub values: Vec<CurrencyEffect>,
}

/// Puts the runs (at least one, over the same journeys with the same models) together.
pub fn combine(runs: Vec<(Option<Valuation>, Report)>) -> ValuedReport {
    let valued: Vec<(&Valuation, &Report)> = runs
        .iter()
        .filter_map(|(v, r)| v.as_ref().map(|v| (v, r)))
        .collect();
    let base = &runs.first().expect("at least one run").1;
    let results = base
        .results
        .iter()
        .enumerate()
        .map(|(m, result)| {
            // Per valued run, the model's value credits as exact amounts, by channel.
            let amounts: Vec<Vec<Decimal>> = valued
                .iter()
                .map(|(v, r)| {
                    let credits = &r.results[m].credits;
                    let total = r.total_value;
                    let shares: Vec<f64> = credits
                        .iter()
                        .map(|c| if total > 0.0 { c.value / total } else { 0.0 })
                        .collect();
                    apportion(&shares, v.total, v.scale)
                })
                .collect();
            let credits = result
                .credits
                .iter()
                .enumerate()
                .map(|(c, credit)| ValuedCredit {
                    channel: credit.channel.clone(),
                    conversions: credit.conversions,
                    values: valued
                        .iter()
                        .zip(&amounts)
                        .map(|((v, _), a)| CurrencyAmount {
                            currency: v.currency.clone(),
                            amount: a[c],
                        })
                        .collect(),
                })
                .collect();
            let removal_effects = result.removal_effects.as_ref().map(|effects| {
                effects
                    .iter()
                    .enumerate()
                    .map(|(c, e)| ValuedEffect {
                        channel: e.channel.clone(),
                        conversion: e.conversion,
                        values: valued
                            .iter()
                            .map(|(v, r)| CurrencyEffect {
                                currency: v.currency.clone(),
                                effect: r.results[m]
                                    .removal_effects
                                    .as_ref()
                                    .map_or(0.0, |x| x[c].value),
                            })
                            .collect(),
                    })
                    .collect()
            });
            ValuedResult {
                model: result.model,
                order: result.order,
                credits,
                removal_effects,
                transition_matrix: result.transition_matrix.clone(),
            }
        })
        .collect();
    ValuedReport {
        total_conversions: base.total_conversions,
        total_values: valued
            .iter()
            .map(|(v, _)| CurrencyAmount {
                currency: v.currency.clone(),
                amount: v.total,
            })
            .collect(),
        results,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::attribution::{GroupBy, JourneyTouch, journeys};
    use attribution::{JourneySet, MarkovOrder, Model, attribute_journeys};
    use uuid::Uuid;

    /// A: email > paid_search, won for 100.10 EUR; B: paid_search, won for 50 USD; C: display
    /// > paid_search, lost; D: email, won for 20 EUR.
    fn stored() -> Vec<StoredJourney> {
        let mut rows = Vec::new();
        let mut journey = |channels: &[&str], won: Option<(&str, &str)>| {
            let id = Uuid::now_v7();
            for (i, channel) in channels.iter().enumerate() {
                rows.push(JourneyTouch {
                    conversion_id: id,
                    kind: if won.is_some() { "won" } else { "lost" }.into(),
                    value: won.map(|(v, _)| v.parse().unwrap()),
                    currency: won.map(|(_, c)| c.to_string()),
                    converted_at: "2026-05-10T00:00:00Z".parse().unwrap(),
                    channel: channel.to_string(),
                    campaign_id: None,
                    touch_type: "click".into(),
                    occurred_at: format!("2026-05-0{}T00:00:00Z", i + 1).parse().unwrap(),
                });
            }
        };
        journey(&["email", "paid_search"], Some(("100.10", "EUR")));
        journey(&["paid_search"], Some(("50", "USD")));
        journey(&["display", "paid_search"], None);
        journey(&["email"], Some(("20", "EUR")));
        journeys(&rows, GroupBy::Channel)
    }

    fn run(models: &[Model]) -> ValuedReport {
        let runs = by_currency(&stored())
            .into_iter()
            .map(|set| {
                let report = attribute_journeys(&JourneySet::new(&set.journeys).unwrap(), models);
                (set.value, report.unwrap())
            })
            .collect();
        combine(runs)
    }

    fn amount(currency: &str, amount: &str) -> CurrencyAmount {
        CurrencyAmount {
            currency: Some(currency.into()),
            amount: amount.parse().unwrap(),
        }
    }

    #[test]
    fn each_currency_is_valued_on_its_own() {
        let sets = by_currency(&stored());
        let valuations: Vec<_> = sets.iter().map(|s| s.value.clone().unwrap()).collect();
        assert_eq!(valuations[0].currency.as_deref(), Some("EUR"));
        assert_eq!(valuations[0].total, "120.1".parse::<Decimal>().unwrap());
        assert_eq!(valuations[0].scale, 2);
        assert_eq!(valuations[1].currency.as_deref(), Some("USD"));
        // Every journey runs each time; only the currency's own carry value.
        let values: Vec<f64> = sets[1].journeys.iter().map(|j| j.value).collect();
        assert_eq!(values, [0.0, 50.0, 0.0, 0.0]);
        let conversions: Vec<f64> = sets[1].journeys.iter().map(|j| j.conversions).collect();
        assert_eq!(conversions, [1.0, 1.0, 0.0, 1.0]);
    }

    #[test]
    fn linear_credits_by_hand_never_mix_currencies() {
        let r = run(&[Model::Linear]);
        assert_eq!(r.total_conversions, 3.0);
        assert_eq!(
            r.total_values,
            [amount("EUR", "120.1"), amount("USD", "50")]
        );
        let credits = &r.results[0].credits;
        let channels: Vec<&str> = credits.iter().map(|c| c.channel.as_str()).collect();
        assert_eq!(channels, ["display", "email", "paid_search"]);
        // email: half of A and all of D; paid_search: half of A, all of B.
        let conversions: Vec<f64> = credits.iter().map(|c| c.conversions).collect();
        assert_eq!(conversions, [0.0, 1.5, 1.5]);
        assert_eq!(credits[0].values, [amount("EUR", "0"), amount("USD", "0")]);
        assert_eq!(
            credits[1].values,
            [amount("EUR", "70.05"), amount("USD", "0")]
        );
        assert_eq!(
            credits[2].values,
            [amount("EUR", "50.05"), amount("USD", "50")]
        );
    }

    #[test]
    fn value_removal_effects_are_per_currency() {
        let r = run(&[Model::Markov(MarkovOrder::default())]);
        let effects = r.results[0].removal_effects.as_ref().unwrap();
        for e in effects {
            let currencies: Vec<_> = e.values.iter().map(|v| v.currency.as_deref()).collect();
            assert_eq!(currencies, [Some("EUR"), Some("USD")]);
        }
        // USD value is earned at paid_search only (B's conversion: 2 of its 3 exits convert,
        // 50 USD in all). It is reached from the start (1/4), through email (1/2 × 1/2) and
        // through display (1/4): 3/4. Without paid_search no USD value is left (effect 1);
        // without display 1/2 of the 3/4 is (effect 1/3).
        let usd = |channel: &str| {
            effects
                .iter()
                .find(|e| e.channel == channel)
                .unwrap()
                .values[1]
                .effect
        };
        assert!((usd("paid_search") - 1.0).abs() < 1e-9);
        assert!((usd("display") - 1.0 / 3.0).abs() < 1e-9);
        for (currency, total) in [(0, "120.1"), (1, "50")] {
            let sum: Decimal = r.results[0]
                .credits
                .iter()
                .map(|c| c.values[currency].amount)
                .sum();
            assert_eq!(sum, total.parse::<Decimal>().unwrap());
        }
    }

    #[test]
    fn journeys_without_a_currency_carry_no_values() {
        let lost: Vec<StoredJourney> = stored()
            .into_iter()
            .filter(|j| j.currency.is_none())
            .collect();
        let sets = by_currency(&lost);
        assert_eq!(sets.len(), 1);
        assert!(sets[0].value.is_none());
        let report = attribute_journeys(
            &JourneySet::new(&sets[0].journeys).unwrap(),
            &[Model::Linear],
        );
        let r = combine(vec![(None, report.unwrap())]);
        assert!(r.total_values.is_empty());
        assert!(r.results[0].credits.iter().all(|c| c.values.is_empty()));
    }

    #[test]
    fn an_adhoc_total_is_exact_to_six_places() {
        let v = Valuation::adhoc(160.5);
        assert_eq!(
            (v.currency, v.total.to_string(), v.scale),
            (None, "160.5".into(), 2)
        );
        let v = Valuation::adhoc(0.1 + 0.2);
        assert_eq!((v.total.to_string(), v.scale), ("0.3".into(), 2));
        assert_eq!(Valuation::adhoc(1.0 / 3.0).scale, 6);
    }
}
