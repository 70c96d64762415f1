//! What a model run produces: per-channel credits, Markov's removal effects and transitions,
//! and the report that gathers them. The models build these; `report` runs the models.

use serde::Serialize;

/// Every requested model's credits, in request order, with the totals they distribute.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub total_conversions: f64,
    pub total_value: f64,
    pub results: Vec<ModelResult>,
}

/// One model's output. `order`, `removal_effects` and `transition_matrix` are Markov only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelResult {
    pub model: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<u8>,
    /// One entry per channel in the input, sorted by channel name, zero credits included.
    pub credits: Vec<ChannelCredit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removal_effects: Option<Vec<RemovalEffect>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transition_matrix: Option<Vec<Transition>>,
}

/// The conversions and conversion value a model credits to a channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelCredit {
    pub channel: String,
    pub conversions: f64,
    pub value: f64,
}

/// `1 - P(conversion | channel removed) / P(conversion)`, for conversions and for value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemovalEffect {
    pub channel: String,
    pub conversion: f64,
    pub value: f64,
}

/// One observed transition of the Markov chain and its probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    pub from: String,
    pub to: String,
    pub probability: f64,
}

/// Per-channel accumulators, indexed by channel id. Sums run in input order, so the same
/// input gives bit-identical credits.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Credits {
    pub conversions: Vec<f64>,
    pub value: Vec<f64>,
}

impl Credits {
    pub fn new(channels: usize) -> Credits {
        Credits {
            conversions: vec![0.0; channels],
            value: vec![0.0; channels],
        }
    }

    /// Credits `share` of a path's conversions and value to `channel`.
    #[inline]
    pub fn add(&mut self, channel: u16, share: f64, conversions: f64, value: f64) {
        self.conversions[channel as usize] += share * conversions;
        self.value[channel as usize] += share * value;
    }

    pub fn into_channel_credits(self, names: &[String]) -> Vec<ChannelCredit> {
        names
            .iter()
            .zip(self.conversions)
            .zip(self.value)
            .map(|((name, conversions), value)| ChannelCredit {
                channel: name.clone(),
                conversions,
                value,
            })
            .collect()
    }
}
