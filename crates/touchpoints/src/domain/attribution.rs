//! Attribution requests and their input: which models a request asks for, and how stored
//! journeys become the engine's input.

use attribution::{Journey, MODEL_NAMES, MarkovOrder, Model, Touch};
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
    pub currency: Option<String>,
    pub converted_at: DateTime<Utc>,
    pub channel: String,
    pub campaign_id: Option<String>,
    pub touch_type: String,
    pub occurred_at: DateTime<Utc>,
}

/// A stored journey ready for the engine, with the conversion it ends in and, for a won
/// deal, its exact value and currency (the journey's `value` is the same as a float).
#[derive(Debug, Clone)]
pub struct StoredJourney {
    pub conversion_id: Uuid,
    pub value: Decimal,
    pub currency: Option<String>,
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
            let value = r
                .value
                .filter(|_| won)
                .unwrap_or_default()
                .max(Decimal::ZERO);
            out.push(StoredJourney {
                conversion_id: r.conversion_id,
                value,
                currency: r.currency.clone().filter(|_| won),
                journey: Journey {
                    touches: Vec::new(),
                    converted_at: r.converted_at,
                    conversions: if won { 1.0 } else { 0.0 },
                    value: decimal_to_f64(value),
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

fn decimal_to_f64(d: Decimal) -> f64 {
    d.to_string().parse::<f64>().unwrap_or(0.0)
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
    fn journeys_group_rows_and_mark_lead_creation() {
        let c = Uuid::now_v7();
        let t = |channel: &str, ty: &str, campaign: Option<&str>| JourneyTouch {
            conversion_id: c,
            kind: "won".into(),
            value: Some(Decimal::new(1205, 1)),
            currency: Some("EUR".into()),
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
        assert_eq!(j[0].value, Decimal::new(1205, 1));
        assert_eq!(j[0].currency.as_deref(), Some("EUR"));
        assert_eq!(j[0].journey.touches[0].channel, "x");
        assert_eq!(j[0].journey.touches[1].channel, NO_CAMPAIGN);
        assert!(j[0].journey.touches[0].lead_creation);
        assert!(!j[0].journey.touches[1].lead_creation);
    }
}
