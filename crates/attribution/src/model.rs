//! Which models a caller asks for and with what parameters, parsed from names and requests.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// Every model name [`Model::parse`] accepts, in the order of [`Model`]'s variants.
pub const MODEL_NAMES: [&str; 10] = [
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
    "w_shaped",
    "full_path",
    "markov",
    "shapley",
];

const SECONDS_PER_DAY: f64 = 86_400.0;

/// An attribution model with its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// All credit to the first touch.
    FirstTouch,
    /// All credit to the last touch.
    LastTouch,
    /// All credit to the last touch whose channel is not `direct`, or to the last touch when
    /// every touch is direct.
    LastNonDirect,
    /// Equal credit to every touch.
    Linear,
    /// Credit by `2^(-age / half_life)`, age being the time from touch to conversion,
    /// normalised per journey. Needs journeys.
    TimeDecay(HalfLife),
    /// First, middle and last shares (U-shaped).
    PositionBased(PositionWeights),
    /// First touch, lead creation, opportunity creation, the rest. Needs journeys.
    WShaped(WShapedWeights),
    /// First touch, lead creation, opportunity creation, close, the rest. Needs journeys.
    FullPath(FullPathWeights),
    /// Removal effects on a Markov chain of the given order.
    Markov(MarkovOrder),
    /// The simplified Shapley value of Zhao et al. (2018).
    Shapley,
}

impl Model {
    /// The model with default parameters. Unknown names are an error naming the name.
    pub fn parse(name: &str) -> Result<Model, Error> {
        Model::from_request(&ModelRequest {
            model: name.to_owned(),
            ..ModelRequest::default()
        })
    }

    /// The model a request names, with its parameters checked. A parameter the model does
    /// not take is an error rather than silently ignored.
    pub fn from_request(request: &ModelRequest) -> Result<Model, Error> {
        let name = MODEL_NAMES
            .iter()
            .copied()
            .find(|n| *n == request.model)
            .ok_or_else(|| Error::UnknownModel {
                name: request.model.clone(),
            })?;
        let takes = |field: &str| -> Result<(), Error> {
            let given = match field {
                "order" => request.order.is_some(),
                "half_life_days" => request.half_life_days.is_some(),
                _ => request.weights.is_some(),
            };
            if given {
                Err(Error::parameter(
                    name,
                    field,
                    "not a parameter of this model",
                ))
            } else {
                Ok(())
            }
        };
        let model = match name {
            "time_decay" => {
                takes("order")?;
                takes("weights")?;
                Model::TimeDecay(match request.half_life_days {
                    Some(days) => HalfLife::days(days)?,
                    None => HalfLife::default(),
                })
            }
            "markov" => {
                takes("half_life_days")?;
                takes("weights")?;
                Model::Markov(match request.order {
                    Some(order) => MarkovOrder::new(order)?,
                    None => MarkovOrder::default(),
                })
            }
            "position_based" | "w_shaped" | "full_path" => {
                takes("order")?;
                takes("half_life_days")?;
                match (name, &request.weights) {
                    ("position_based", None) => Model::PositionBased(PositionWeights::default()),
                    ("position_based", Some(w)) => {
                        Model::PositionBased(PositionWeights::from_map(w)?)
                    }
                    ("w_shaped", None) => Model::WShaped(WShapedWeights::default()),
                    ("w_shaped", Some(w)) => Model::WShaped(WShapedWeights::from_map(w)?),
                    (_, None) => Model::FullPath(FullPathWeights::default()),
                    (_, Some(w)) => Model::FullPath(FullPathWeights::from_map(w)?),
                }
            }
            _ => {
                takes("order")?;
                takes("half_life_days")?;
                takes("weights")?;
                match name {
                    "first_touch" => Model::FirstTouch,
                    "last_touch" => Model::LastTouch,
                    "last_non_direct" => Model::LastNonDirect,
                    "linear" => Model::Linear,
                    _ => Model::Shapley,
                }
            }
        };
        Ok(model)
    }

    pub fn name(&self) -> &'static str {
        match self {
            Model::FirstTouch => MODEL_NAMES[0],
            Model::LastTouch => MODEL_NAMES[1],
            Model::LastNonDirect => MODEL_NAMES[2],
            Model::Linear => MODEL_NAMES[3],
            Model::TimeDecay(_) => MODEL_NAMES[4],
            Model::PositionBased(_) => MODEL_NAMES[5],
            Model::WShaped(_) => MODEL_NAMES[6],
            Model::FullPath(_) => MODEL_NAMES[7],
            Model::Markov(_) => MODEL_NAMES[8],
            Model::Shapley => MODEL_NAMES[9],
        }
    }

    /// Whether the model reads touch times or lead/opportunity flags, which aggregated paths
    /// do not have.
    pub fn needs_journeys(&self) -> bool {
        matches!(
            self,
            Model::TimeDecay(_) | Model::WShaped(_) | Model::FullPath(_)
        )
    }
}

impl FromStr for Model {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Model::parse(s)
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A model as an HTTP body names it: `{"model": "markov", "order": 3}`,
/// `{"model": "time_decay", "half_life_days": 3.5}`,
/// `{"model": "position_based", "weights": {"first": 30, "middle": 40, "last": 30}}`.
/// Omitted parameters take their defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelRequest {
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_life_days: Option<f64>,
    /// Relative shares by role, all roles named; left out entirely, the defaults apply. The
    /// shares are normalised to sum to 1, so `{"first": 40, ...}` and `{"first": 0.4, ...}`
    /// agree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<BTreeMap<String, f64>>,
}

impl TryFrom<&ModelRequest> for Model {
    type Error = Error;

    fn try_from(request: &ModelRequest) -> Result<Self, Self::Error> {
        Model::from_request(request)
    }
}

/// The time over which a touch's time-decay weight halves; positive and finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HalfLife {
    seconds: f64,
}

impl HalfLife {
    pub fn days(days: f64) -> Result<HalfLife, Error> {
        let seconds = days * SECONDS_PER_DAY;
        if days.is_finite() && seconds > 0.0 && seconds.is_finite() {
            Ok(HalfLife { seconds })
        } else {
            Err(Error::parameter(
                MODEL_NAMES[4],
                "half_life_days",
                format!("must be a positive number of days, got {days}"),
            ))
        }
    }

    pub fn seconds(&self) -> f64 {
        self.seconds
    }
}

impl Default for HalfLife {
    /// Seven days.
    fn default() -> Self {
        HalfLife {
            seconds: 7.0 * SECONDS_PER_DAY,
        }
    }
}

/// The Markov chain's memory: how many recent channels make a state, 1 to 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkovOrder(u8);

impl MarkovOrder {
    pub const MAX: u8 = 4;

    pub fn new(order: i64) -> Result<MarkovOrder, Error> {
        match u8::try_from(order) {
            Ok(k @ 1..=MarkovOrder::MAX) => Ok(MarkovOrder(k)),
            _ => Err(Error::parameter(
                MODEL_NAMES[8],
                "order",
                format!("must be 1 to {}, got {order}", MarkovOrder::MAX),
            )),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl Default for MarkovOrder {
    fn default() -> Self {
        MarkovOrder(1)
    }
}

/// Reads one share per role from `given` and normalises them to sum to 1. Shares are
/// relative, so every role must be named: a partial set would mix scales with the defaults.
/// Unknown or missing roles, negative or non-finite shares and an all-zero set are errors.
fn shares<const N: usize>(
    model: &'static str,
    names: [&str; N],
    given: &BTreeMap<String, f64>,
) -> Result<[f64; N], Error> {
    if let Some(unknown) = given.keys().find(|k| !names.contains(&k.as_str())) {
        return Err(Error::parameter(
            model,
            format!("weights.{unknown}"),
            format!("unknown weight; expected {}", names.join(", ")),
        ));
    }
    let mut out = [0.0; N];
    for (slot, name) in out.iter_mut().zip(names) {
        let w = *given.get(name).ok_or_else(|| {
            Error::parameter(
                model,
                format!("weights.{name}"),
                format!("missing; give every one of {}", names.join(", ")),
            )
        })?;
        if !(w.is_finite() && w >= 0.0) {
            return Err(Error::parameter(
                model,
                format!("weights.{name}"),
                format!("must be a finite number >= 0, got {w}"),
            ));
        }
        *slot = w;
    }
    let total: f64 = out.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return Err(Error::parameter(
            model,
            "weights",
            "weights must have a positive, finite sum",
        ));
    }
    Ok(out.map(|w| w / total))
}

/// Position-based shares of the first touch, all middle touches together, and the last
/// touch. Default 40/20/40.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PositionWeights {
    pub(crate) first: f64,
    pub(crate) middle: f64,
    pub(crate) last: f64,
}

impl PositionWeights {
    const NAMES: [&str; 3] = ["first", "middle", "last"];

    /// Relative shares, normalised to sum to 1.
    pub fn new(first: f64, middle: f64, last: f64) -> Result<PositionWeights, Error> {
        let given = Self::NAMES
            .iter()
            .zip([first, middle, last])
            .map(|(n, w)| (n.to_string(), w))
            .collect();
        Self::from_map(&given)
    }

    fn from_map(given: &BTreeMap<String, f64>) -> Result<PositionWeights, Error> {
        let [first, middle, last] = shares(MODEL_NAMES[5], Self::NAMES, given)?;
        Ok(PositionWeights {
            first,
            middle,
            last,
        })
    }
}

impl Default for PositionWeights {
    fn default() -> Self {
        PositionWeights {
            first: 0.4,
            middle: 0.2,
            last: 0.4,
        }
    }
}

/// W-shaped shares of the first touch, the lead-creation touch, the opportunity-creation
/// touch, and all other touches together. Default 30/30/30/10.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WShapedWeights {
    pub(crate) first: f64,
    pub(crate) lead: f64,
    pub(crate) opportunity: f64,
    pub(crate) other: f64,
}

impl WShapedWeights {
    const NAMES: [&str; 4] = ["first", "lead", "opportunity", "other"];

    /// Relative shares, normalised to sum to 1.
    pub fn new(first: f64, lead: f64, opportunity: f64, other: f64) -> Result<Self, Error> {
        let given = Self::NAMES
            .iter()
            .zip([first, lead, opportunity, other])
            .map(|(n, w)| (n.to_string(), w))
            .collect();
        Self::from_map(&given)
    }

    fn from_map(given: &BTreeMap<String, f64>) -> Result<Self, Error> {
        let [first, lead, opportunity, other] = shares(MODEL_NAMES[6], Self::NAMES, given)?;
        Ok(WShapedWeights {
            first,
            lead,
            opportunity,
            other,
        })
    }
}

impl Default for WShapedWeights {
    fn default() -> Self {
        WShapedWeights {
            first: 0.3,
            lead: 0.3,
            opportunity: 0.3,
            other: 0.1,
        }
    }
}

/// Full-path shares of the first touch, the lead-creation touch, the opportunity-creation
/// touch, the close (last) touch, and all other touches together. Default
/// 22.5/22.5/22.5/22.5/10.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FullPathWeights {
    pub(crate) first: f64,
    pub(crate) lead: f64,
    pub(crate) opportunity: f64,
    pub(crate) close: f64,
    pub(crate) other: f64,
}

impl FullPathWeights {
    const NAMES: [&str; 5] = ["first", "lead", "opportunity", "close", "other"];

    /// Relative shares, normalised to sum to 1.
    pub fn new(
        first: f64,
        lead: f64,
        opportunity: f64,
        close: f64,
        other: f64,
    ) -> Result<Self, Error> {
        let given = Self::NAMES
            .iter()
            .zip([first, lead, opportunity, close, other])
            .map(|(n, w)| (n.to_string(), w))
            .collect();
        Self::from_map(&given)
    }

    fn from_map(given: &BTreeMap<String, f64>) -> Result<Self, Error> {
        let [first, lead, opportunity, close, other] = shares(MODEL_NAMES[7], Self::NAMES, given)?;
        Ok(FullPathWeights {
            first,
            lead,
            opportunity,
            close,
            other,
        })
    }
}

impl Default for FullPathWeights {
    fn default() -> Self {
        FullPathWeights {
            first: 0.225,
            lead: 0.225,
            opportunity: 0.225,
            close: 0.225,
            other: 0.1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_to_its_model() {
        for name in MODEL_NAMES {
            assert_eq!(Model::parse(name).unwrap().name(), name);
        }
        assert_eq!(
            "markov".parse::<Model>().unwrap(),
            Model::Markov(MarkovOrder(1))
        );
        assert_eq!(
            Model::parse("position_based").unwrap(),
            Model::PositionBased(PositionWeights::default())
        );
    }

    #[test]
    fn unknown_models_are_named_with_the_choices() {
        let err = Model::parse("u_shaped").unwrap_err();
        assert_eq!(
            err,
            Error::UnknownModel {
                name: "u_shaped".into()
            }
        );
        let msg = err.to_string();
        assert!(
            msg.contains("\"u_shaped\"") && msg.contains("w_shaped"),
            "{msg}"
        );
    }

    #[test]
    fn parameters_are_checked() {
        let request: ModelRequest =
            serde_json::from_str(r#"{"model": "markov", "order": 3}"#).unwrap();
        assert_eq!(
            Model::from_request(&request).unwrap(),
            Model::Markov(MarkovOrder(3))
        );
        for order in [0, 5, -1, 300] {
            let request = ModelRequest {
                model: "markov".into(),
                order: Some(order),
                ..ModelRequest::default()
            };
            let err = Model::from_request(&request).unwrap_err();
            assert!(err.to_string().starts_with("markov.order:"), "{err}");
        }
        let request = ModelRequest {
            model: "linear".into(),
            order: Some(2),
            ..ModelRequest::default()
        };
        assert_eq!(
            Model::from_request(&request).unwrap_err().to_string(),
            "linear.order: not a parameter of this model"
        );
        let request: ModelRequest =
            serde_json::from_str(r#"{"model": "time_decay", "half_life_days": 0}"#).unwrap();
        assert!(Model::from_request(&request).is_err());
        let request: ModelRequest =
            serde_json::from_str(r#"{"model": "time_decay", "half_life_days": 2}"#).unwrap();
        assert_eq!(
            Model::from_request(&request).unwrap(),
            Model::TimeDecay(HalfLife::days(2.0).unwrap())
        );
    }

    #[test]
    fn weights_are_relative_and_default_when_left_out() {
        let request: ModelRequest = serde_json::from_str(
            r#"{"model": "position_based", "weights": {"first": 30, "middle": 40, "last": 30}}"#,
        )
        .unwrap();
        assert_eq!(
            Model::from_request(&request).unwrap(),
            Model::PositionBased(PositionWeights {
                first: 0.3,
                middle: 0.4,
                last: 0.3
            })
        );
        let w = WShapedWeights::new(1.0, 1.0, 1.0, 1.0).unwrap();
        assert_eq!([w.first, w.lead, w.opportunity, w.other], [0.25; 4]);
        // Shares are relative, so a partial set is refused rather than mixed with defaults.
        let err = WShapedWeights::from_map(&[("other".to_string(), 0.7)].into()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("w_shaped.weights.first: missing"),
            "{err}"
        );
        let err = FullPathWeights::from_map(&[("middle".to_string(), 0.1)].into()).unwrap_err();
        assert!(
            err.to_string().starts_with("full_path.weights.middle:"),
            "{err}"
        );
        let err = PositionWeights::new(0.0, 0.0, 0.0).unwrap_err();
        assert!(
            err.to_string().starts_with("position_based.weights:"),
            "{err}"
        );
        let err = PositionWeights::new(-1.0, 1.0, 1.0).unwrap_err();
        assert!(
            err.to_string().starts_with("position_based.weights.first:"),
            "{err}"
        );
        assert_eq!(
            FullPathWeights::new(22.5, 22.5, 22.5, 22.5, 10.0).unwrap(),
            FullPathWeights::default()
        );
    }
}
