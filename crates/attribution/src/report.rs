//! Running the requested models over a path or journey set into one report.

use crate::input::{JourneySet, PathSet};
use crate::model::Model;
use crate::result::{ChannelCredit, ModelResult, Report};
use crate::{Error, heuristic, markov, shapley};

/// Runs `models` over aggregated paths. Models that need touch times or lead/opportunity
/// flags (`time_decay`, `w_shaped`, `full_path`) fail with [`Error::NeedsJourneys`].
pub fn attribute_paths(paths: &PathSet, models: &[Model]) -> Result<Report, Error> {
    if let Some(m) = models.iter().find(|m| m.needs_journeys()) {
        return Err(Error::NeedsJourneys { model: m.name() });
    }
    let results = models
        .iter()
        .map(|m| run_on_paths(paths, m))
        .collect::<Result<_, _>>()?;
    Ok(report(paths, results))
}

/// Runs `models` over journeys. Models that read only channel sequences run on the
/// journeys aggregated into paths, which gives the same credits with less work.
pub fn attribute_journeys(journeys: &JourneySet, models: &[Model]) -> Result<Report, Error> {
    let paths = journeys.paths();
    let results = models
        .iter()
        .map(|m| {
            let credits = match m {
                Model::TimeDecay(half_life) => heuristic::time_decay(journeys, *half_life),
                Model::WShaped(w) => heuristic::w_shaped(journeys, w),
                Model::FullPath(w) => heuristic::full_path(journeys, w),
                _ => return run_on_paths(paths, m),
            };
            Ok(plain(m, credits.into_channel_credits(paths.channels())))
        })
        .collect::<Result<_, _>>()?;
    Ok(report(paths, results))
}

fn report(paths: &PathSet, results: Vec<ModelResult>) -> Report {
    Report {
        total_conversions: paths.total_conversions(),
        total_value: paths.total_value(),
        results,
    }
}

fn run_on_paths(paths: &PathSet, model: &Model) -> Result<ModelResult, Error> {
    let credits = match model {
        Model::FirstTouch => heuristic::first_touch(paths),
        Model::LastTouch => heuristic::last_touch(paths),
        Model::LastNonDirect => heuristic::last_non_direct(paths),
        Model::Linear => heuristic::linear(paths),
        Model::PositionBased(w) => heuristic::position_based(paths, w),
        Model::Shapley => shapley::simplified(paths),
        Model::Markov(order) => return markov::attribute(paths, *order),
        Model::TimeDecay(_) | Model::WShaped(_) | Model::FullPath(_) => {
            return Err(Error::NeedsJourneys {
                model: model.name(),
            });
        }
    };
    Ok(plain(model, credits.into_channel_credits(paths.channels())))
}

fn plain(model: &Model, credits: Vec<ChannelCredit>) -> ModelResult {
    ModelResult {
        model: model.name(),
        order: None,
        credits,
        removal_effects: None,
        transition_matrix: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::path;

    #[test]
    fn json_shape_matches_the_contract() {
        let paths = PathSet::new(&[
            path(&["email", "paid_search"], 2.0, 100.0, 1.0),
            path(&["paid_search"], 0.0, 0.0, 3.0),
        ])
        .unwrap();
        let report =
            attribute_paths(&paths, &[Model::parse("markov").unwrap(), Model::Linear]).unwrap();
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["total_conversions"], 2.0);
        assert_eq!(json["total_value"], 100.0);
        let markov = &json["results"][0];
        assert_eq!(markov["model"], "markov");
        assert_eq!(markov["order"], 1);
        assert_eq!(markov["credits"][0]["channel"], "email");
        assert!(markov["removal_effects"][0]["conversion"].is_number());
        assert!(markov["removal_effects"][0]["value"].is_number());
        assert_eq!(markov["transition_matrix"][0]["from"], "(start)");
        assert!(markov["transition_matrix"][0]["probability"].is_number());
        let linear = json["results"][1].as_object().unwrap();
        let mut keys: Vec<&str> = linear.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["credits", "model"]);
        assert_eq!(
            json["results"][1]["credits"],
            serde_json::json!([
                {"channel": "email", "conversions": 1.0, "value": 50.0},
                {"channel": "paid_search", "conversions": 1.0, "value": 50.0},
            ])
        );
    }

    #[test]
    fn time_models_need_journeys() {
        let paths = PathSet::new(&[]).unwrap();
        for name in ["time_decay", "w_shaped", "full_path"] {
            let err = attribute_paths(&paths, &[Model::Linear, Model::parse(name).unwrap()]);
            assert_eq!(err.unwrap_err(), Error::NeedsJourneys { model: name });
        }
        let empty = attribute_paths(&paths, &[Model::Linear, Model::Shapley]).unwrap();
        assert_eq!(empty.total_conversions, 0.0);
        assert!(empty.results.iter().all(|r| r.credits.is_empty()));
    }
}
