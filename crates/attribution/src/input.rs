//! Journeys and aggregated paths as callers give them, and the validated, interned sets the
//! models read.
//!
//! Counts and values are `f64` on purpose: attribution splits a conversion and its value into
//! fractional shares, which are estimates, not money to be booked. Callers holding
//! `rust_decimal` amounts convert at this boundary.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Error;

/// The channel that `last_non_direct` skips.
pub const DIRECT: &str = "direct";

/// Names of the Markov chain's non-channel states, which no channel may take.
pub const START: &str = "(start)";
pub const CONVERSION: &str = "(conversion)";
pub const NULL: &str = "(null)";

/// Separator between channels in a path, in state labels and in ChannelAttribution CSV.
pub const PATH_SEPARATOR: &str = " > ";

/// Channel ids are `u16`, and the Markov state key stores `id + 1` in 16 bits.
const MAX_CHANNELS: usize = u16::MAX as usize;

/// One distinct channel sequence and how often it ended in a conversion or not, the input
/// ChannelAttribution takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathStat {
    /// Channels in the order they were touched; at least one. Deserialises from `path` too,
    /// the request's name for it (but use [`crate::formats::parse_paths_json`] for request
    /// bodies: it also takes decimal strings and names the field at fault).
    #[serde(alias = "path")]
    pub channels: Vec<String>,
    /// Journeys along this path that converted (may be fractional).
    pub conversions: f64,
    /// Total value of those conversions.
    pub value: f64,
    /// Journeys along this path that did not convert.
    pub nulls: f64,
}

/// One marketing touch on a journey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Touch {
    pub channel: String,
    pub at: DateTime<Utc>,
    /// This touch created the lead (a W-shaped and full-path anchor).
    #[serde(default)]
    pub lead_creation: bool,
    /// This touch created the opportunity (a W-shaped and full-path anchor).
    #[serde(default)]
    pub opportunity_creation: bool,
}

/// A journey with touch times, for the models that need them.
///
/// A journey that did not convert has `conversions` 0 and `nulls` 1; `converted_at` is then
/// the moment the journey is judged at (its end) and no touch may be later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journey {
    /// Touches in any order: they are sorted by time, and touches at the same instant keep
    /// the order given here.
    pub touches: Vec<Touch>,
    pub converted_at: DateTime<Utc>,
    pub conversions: f64,
    pub value: f64,
    #[serde(default)]
    pub nulls: f64,
}

/// Why a channel name is unusable, if it is.
pub(crate) fn check_channel(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("channel name is empty".into());
    }
    if name.trim() != name {
        return Err(format!("channel {name:?} has surrounding whitespace"));
    }
    if name.chars().any(char::is_control) {
        return Err(format!("channel {name:?} contains a control character"));
    }
    if [START, CONVERSION, NULL].contains(&name) {
        return Err(format!("channel {name:?} is reserved for the Markov chain"));
    }
    if name.contains(PATH_SEPARATOR) {
        return Err(format!(
            "channel {name:?} contains the separator {PATH_SEPARATOR:?}"
        ));
    }
    Ok(())
}

/// Largest count or value: a decimal's range (about 7.9e28), which the decimal strings and
/// CSV already keep to. Totals add up many of them, and past f64's range they are infinite,
/// which a JSON report cannot carry (it came out as `null`).
pub const MAX_AMOUNT: f64 = 79_228_162_514_264_337_593_543_950_335.0;

/// A count or value must be a finite, non-negative number up to [`MAX_AMOUNT`]; `-0`
/// becomes `0`.
pub(crate) fn check_amount(x: f64) -> Result<f64, String> {
    if (0.0..=MAX_AMOUNT).contains(&x) {
        Ok(x + 0.0)
    } else if x > MAX_AMOUNT {
        Err(format!("must be at most {MAX_AMOUNT:e}, got {x:e}"))
    } else {
        Err(format!("must be a finite number >= 0, got {x}"))
    }
}

/// Value belongs to conversions: value on a path without any would be credited nowhere.
pub(crate) fn check_value_has_conversions(conversions: f64, value: f64) -> Result<(), String> {
    if value > 0.0 && conversions <= 0.0 {
        Err(format!("value {value} without conversions"))
    } else {
        Ok(())
    }
}

/// The conversions, value and nulls of a set's rows, each checked as it is added.
struct Amounts {
    conversions: Vec<f64>,
    value: Vec<f64>,
    nulls: Vec<f64>,
}

impl Amounts {
    fn with_capacity(rows: usize) -> Self {
        Amounts {
            conversions: Vec::with_capacity(rows),
            value: Vec::with_capacity(rows),
            nulls: Vec::with_capacity(rows),
        }
    }

    /// Checks one row's amounts and appends them; errors name `<row>.<field>`.
    fn push(
        &mut self,
        row: impl Fn() -> String,
        conversions: f64,
        value: f64,
        nulls: f64,
    ) -> Result<(), Error> {
        let at = |field: &str| format!("{}.{field}", row());
        let amount = |x: f64, field: &str| check_amount(x).map_err(|m| Error::input(at(field), m));
        self.conversions.push(amount(conversions, "conversions")?);
        self.value.push(amount(value, "value")?);
        self.nulls.push(amount(nulls, "nulls")?);
        check_value_has_conversions(conversions, value).map_err(|m| Error::input(at("value"), m))
    }
}

/// Assigns channel ids in name order, so ids sort like names and the output needs no
/// further sorting.
struct Interner<'a> {
    provisional: HashMap<&'a str, u16>,
    names: Vec<&'a str>,
}

impl<'a> Interner<'a> {
    fn new() -> Self {
        Interner {
            provisional: HashMap::new(),
            names: Vec::new(),
        }
    }

    fn intern(&mut self, name: &'a str, location: impl Fn() -> String) -> Result<u16, Error> {
        if let Some(&id) = self.provisional.get(name) {
            return Ok(id);
        }
        if self.names.len() >= MAX_CHANNELS {
            return Err(Error::input(
                location(),
                format!("more than {MAX_CHANNELS} distinct channels"),
            ));
        }
        let id = self.names.len() as u16;
        self.provisional.insert(name, id);
        self.names.push(name);
        Ok(id)
    }

    /// The sorted names and the map from provisional to final id.
    fn finish(self) -> (Vec<String>, Vec<u16>) {
        let mut order: Vec<u16> = (0..self.names.len() as u16).collect();
        order.sort_unstable_by_key(|&id| self.names[id as usize]);
        let mut remap = vec![0u16; order.len()];
        for (new, &old) in order.iter().enumerate() {
            remap[old as usize] = new as u16;
        }
        let names = order
            .iter()
            .map(|&id| self.names[id as usize].to_owned())
            .collect();
        (names, remap)
    }
}

/// Validated aggregated paths with channels interned; what every path model reads.
#[derive(Debug, Clone, PartialEq)]
pub struct PathSet {
    channels: Vec<String>,
    touches: Vec<u16>,
    bounds: Vec<usize>,
    conversions: Vec<f64>,
    value: Vec<f64>,
    nulls: Vec<f64>,
    total_conversions: f64,
    total_value: f64,
}

/// One path of a [`PathSet`], borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PathRef<'a> {
    pub channels: &'a [u16],
    pub conversions: f64,
    pub value: f64,
    pub nulls: f64,
}

impl PathSet {
    /// Validates and interns paths. Each path needs at least one channel; counts and values
    /// must be finite and non-negative. Errors name `paths[i].<field>`.
    pub fn new(paths: &[PathStat]) -> Result<PathSet, Error> {
        let mut interner = Interner::new();
        let mut touches = Vec::with_capacity(paths.iter().map(|p| p.channels.len()).sum());
        let mut bounds = Vec::with_capacity(paths.len() + 1);
        let mut amounts = Amounts::with_capacity(paths.len());
        bounds.push(0);
        for (i, p) in paths.iter().enumerate() {
            if p.channels.is_empty() {
                return Err(Error::input(
                    format!("paths[{i}].channels"),
                    "a path needs at least one channel",
                ));
            }
            for (j, name) in p.channels.iter().enumerate() {
                let at = || format!("paths[{i}].channels[{j}]");
                check_channel(name).map_err(|m| Error::input(at(), m))?;
                touches.push(interner.intern(name, at)?);
            }
            bounds.push(touches.len());
            amounts.push(|| format!("paths[{i}]"), p.conversions, p.value, p.nulls)?;
        }
        let (channels, remap) = interner.finish();
        for t in &mut touches {
            *t = remap[*t as usize];
        }
        Ok(PathSet::from_parts(channels, touches, bounds, amounts))
    }

    fn from_parts(
        channels: Vec<String>,
        touches: Vec<u16>,
        bounds: Vec<usize>,
        amounts: Amounts,
    ) -> PathSet {
        let Amounts {
            conversions,
            value,
            nulls,
        } = amounts;
        let total_conversions = conversions.iter().sum();
        let total_value = value.iter().sum();
        PathSet {
            channels,
            touches,
            bounds,
            conversions,
            value,
            nulls,
            total_conversions,
            total_value,
        }
    }

    /// Every channel that occurs, sorted by name; a channel's id is its index here.
    pub fn channels(&self) -> &[String] {
        &self.channels
    }

    /// The number of paths.
    pub fn len(&self) -> usize {
        self.conversions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.conversions.is_empty()
    }

    pub fn total_conversions(&self) -> f64 {
        self.total_conversions
    }

    pub fn total_value(&self) -> f64 {
        self.total_value
    }

    pub fn total_nulls(&self) -> f64 {
        self.nulls.iter().sum()
    }

    pub(crate) fn path(&self, i: usize) -> PathRef<'_> {
        PathRef {
            channels: &self.touches[self.bounds[i]..self.bounds[i + 1]],
            conversions: self.conversions[i],
            value: self.value[i],
            nulls: self.nulls[i],
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = PathRef<'_>> {
        (0..self.len()).map(|i| self.path(i))
    }

    /// The paths back in caller form, in the same order.
    pub fn to_path_stats(&self) -> Vec<PathStat> {
        self.iter()
            .map(|p| PathStat {
                channels: p
                    .channels
                    .iter()
                    .map(|&c| self.channels[c as usize].clone())
                    .collect(),
                conversions: p.conversions,
                value: p.value,
                nulls: p.nulls,
            })
            .collect()
    }
}

/// A touch of a [`JourneySet`]: interned channel and its age at conversion in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TimedTouch {
    pub channel: u16,
    pub age_seconds: f64,
    pub lead_creation: bool,
    pub opportunity_creation: bool,
}

/// One journey of a [`JourneySet`], borrowed, touches in time order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JourneyRef<'a> {
    pub touches: &'a [TimedTouch],
    pub conversions: f64,
    pub value: f64,
}

/// Validated journeys with touches in time order, plus the same journeys aggregated into
/// paths for the models that read only channel sequences.
#[derive(Debug, Clone, PartialEq)]
pub struct JourneySet {
    touches: Vec<TimedTouch>,
    bounds: Vec<usize>,
    conversions: Vec<f64>,
    value: Vec<f64>,
    paths: PathSet,
}

impl JourneySet {
    /// Validates, sorts and interns journeys. Touches are sorted by time with a stable sort,
    /// so touches at the same instant keep their given order. No touch may be later than
    /// `converted_at`. Errors name `journeys[i].<field>`.
    pub fn new(journeys: &[Journey]) -> Result<JourneySet, Error> {
        let mut interner = Interner::new();
        let n_touches = journeys.iter().map(|j| j.touches.len()).sum();
        let mut touches = Vec::with_capacity(n_touches);
        let mut bounds = Vec::with_capacity(journeys.len() + 1);
        let mut amounts = Amounts::with_capacity(journeys.len());
        bounds.push(0);
        let mut order: Vec<usize> = Vec::new();
        for (i, j) in journeys.iter().enumerate() {
            if j.touches.is_empty() {
                return Err(Error::input(
                    format!("journeys[{i}].touches"),
                    "a journey needs at least one touch",
                ));
            }
            order.clear();
            order.extend(0..j.touches.len());
            order.sort_by_key(|&k| j.touches[k].at);
            for &k in &order {
                let t = &j.touches[k];
                let at = || format!("journeys[{i}].touches[{k}].channel");
                check_channel(&t.channel).map_err(|m| Error::input(at(), m))?;
                if t.at > j.converted_at {
                    return Err(Error::input(
                        format!("journeys[{i}].touches[{k}].at"),
                        format!("touch at {} is after converted_at {}", t.at, j.converted_at),
                    ));
                }
                touches.push(TimedTouch {
                    channel: interner.intern(&t.channel, at)?,
                    age_seconds: (j.converted_at - t.at).as_seconds_f64(),
                    lead_creation: t.lead_creation,
                    opportunity_creation: t.opportunity_creation,
                });
            }
            bounds.push(touches.len());
            amounts.push(|| format!("journeys[{i}]"), j.conversions, j.value, j.nulls)?;
        }
        let (channels, remap) = interner.finish();
        for t in &mut touches {
            t.channel = remap[t.channel as usize];
        }
        let paths = aggregate(channels, &touches, &bounds, &amounts);
        let Amounts {
            conversions, value, ..
        } = amounts;
        Ok(JourneySet {
            touches,
            bounds,
            conversions,
            value,
            paths,
        })
    }

    /// The journeys aggregated by channel sequence, in order of first occurrence.
    pub fn paths(&self) -> &PathSet {
        &self.paths
    }

    /// The number of journeys.
    pub fn len(&self) -> usize {
        self.conversions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.conversions.is_empty()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = JourneyRef<'_>> {
        (0..self.len()).map(|i| JourneyRef {
            touches: &self.touches[self.bounds[i]..self.bounds[i + 1]],
            conversions: self.conversions[i],
            value: self.value[i],
        })
    }
}

/// Sums journeys with the same channel sequence, in order of first occurrence so the result
/// (and every float sum over it) depends only on the input order.
fn aggregate(
    channels: Vec<String>,
    touches: &[TimedTouch],
    bounds: &[usize],
    journeys: &Amounts,
) -> PathSet {
    let sequence: Vec<u16> = touches.iter().map(|t| t.channel).collect();
    let mut index: HashMap<&[u16], usize> = HashMap::new();
    let mut flat = Vec::new();
    let mut path_bounds = vec![0];
    let mut paths = Amounts::with_capacity(0);
    for i in 0..journeys.conversions.len() {
        let key = &sequence[bounds[i]..bounds[i + 1]];
        match index.get(key) {
            Some(&p) => {
                paths.conversions[p] += journeys.conversions[i];
                paths.value[p] += journeys.value[i];
                paths.nulls[p] += journeys.nulls[i];
            }
            None => {
                index.insert(key, paths.conversions.len());
                flat.extend_from_slice(key);
                path_bounds.push(flat.len());
                paths.conversions.push(journeys.conversions[i]);
                paths.value.push(journeys.value[i]);
                paths.nulls.push(journeys.nulls[i]);
            }
        }
    }
    PathSet::from_parts(channels, flat, path_bounds, paths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::path;
    use chrono::TimeZone;

    #[test]
    fn channels_are_interned_in_name_order() {
        let set = PathSet::new(&[
            path(&["email", "paid_search"], 1.0, 10.0, 0.0),
            path(&["direct", "email"], 0.0, 0.0, 2.0),
        ])
        .unwrap();
        assert_eq!(set.channels(), ["direct", "email", "paid_search"]);
        assert_eq!(set.path(0).channels, [1, 2]);
        assert_eq!(set.path(1).channels, [0, 1]);
        assert_eq!(set.total_conversions(), 1.0);
        assert_eq!(set.total_value(), 10.0);
        assert_eq!(set.total_nulls(), 2.0);
        assert_eq!(
            set.to_path_stats()[0],
            path(&["email", "paid_search"], 1.0, 10.0, 0.0)
        );
    }

    #[test]
    fn invalid_paths_are_named() {
        let err = PathSet::new(&[path(&["a"], 1.0, 0.0, 0.0), path(&[], 1.0, 0.0, 0.0)]);
        assert_eq!(
            err.unwrap_err().to_string(),
            "paths[1].channels: a path needs at least one channel"
        );
        let err = PathSet::new(&[path(&["a", " b"], 1.0, 0.0, 0.0)]).unwrap_err();
        assert!(
            err.to_string().starts_with("paths[0].channels[1]:"),
            "{err}"
        );
        let err = PathSet::new(&[path(&["(null)"], 1.0, 0.0, 0.0)]).unwrap_err();
        assert!(err.to_string().contains("reserved"), "{err}");
        let err = PathSet::new(&[path(&["a > b"], 1.0, 0.0, 0.0)]).unwrap_err();
        assert!(err.to_string().contains("separator"), "{err}");
        let err = PathSet::new(&[path(&["a"], 1.0, -1.0, 0.0)]).unwrap_err();
        assert!(err.to_string().starts_with("paths[0].value:"), "{err}");
        let err = PathSet::new(&[path(&["a"], 0.0, 5.0, 1.0)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "paths[0].value: value 5 without conversions"
        );
        let err = PathSet::new(&[path(&["a"], f64::NAN, 0.0, 0.0)]).unwrap_err();
        assert!(
            err.to_string().starts_with("paths[0].conversions:"),
            "{err}"
        );
    }

    fn touch(channel: &str, day: u32) -> Touch {
        Touch {
            channel: channel.into(),
            at: Utc.with_ymd_and_hms(2025, 3, day, 12, 0, 0).unwrap(),
            lead_creation: false,
            opportunity_creation: false,
        }
    }

    #[test]
    fn journeys_are_sorted_stably_and_aggregated() {
        let end = Utc.with_ymd_and_hms(2025, 3, 20, 12, 0, 0).unwrap();
        let journeys = vec![
            Journey {
                // Out of order, with a tie on day 5 that must keep b before a.
                touches: vec![touch("c", 9), touch("b", 5), touch("a", 5)],
                converted_at: end,
                conversions: 1.0,
                value: 50.0,
                nulls: 0.0,
            },
            Journey {
                touches: vec![touch("x", 1)],
                converted_at: end,
                conversions: 0.0,
                value: 0.0,
                nulls: 1.0,
            },
            Journey {
                touches: vec![touch("b", 1), touch("a", 1), touch("c", 2)],
                converted_at: end,
                conversions: 0.0,
                value: 0.0,
                nulls: 1.0,
            },
        ];
        let set = JourneySet::new(&journeys).unwrap();
        let first = set.iter().next().unwrap();
        let channels: Vec<u16> = first.touches.iter().map(|t| t.channel).collect();
        assert_eq!(channels, [1, 0, 2]); // b, a, c
        assert_eq!(first.touches[2].age_seconds, 11.0 * 86_400.0);
        let paths = set.paths().to_path_stats();
        assert_eq!(
            paths,
            vec![
                path(&["b", "a", "c"], 1.0, 50.0, 1.0),
                path(&["x"], 0.0, 0.0, 1.0)
            ]
        );
    }

    #[test]
    fn touches_after_conversion_are_rejected() {
        let journey = Journey {
            touches: vec![touch("a", 1), touch("b", 9)],
            converted_at: Utc.with_ymd_and_hms(2025, 3, 8, 0, 0, 0).unwrap(),
            conversions: 1.0,
            value: 0.0,
            nulls: 0.0,
        };
        let err = JourneySet::new(&[journey]).unwrap_err();
        assert!(
            err.to_string().starts_with("journeys[0].touches[1].at:"),
            "{err}"
        );
    }
}
