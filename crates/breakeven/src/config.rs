//! The service's own settings, through the same layers as the platform's: defaults, the
//! `[tracking]` table of the service's file, then `TOUCHSTONE_BREAKEVEN__TRACKING__<KEY>`.

use platform::Settings;
use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::SERVICE;

/// Live-tracking settings: `risk_threshold`
/// (`TOUCHSTONE_BREAKEVEN__TRACKING__RISK_THRESHOLD`, default 0.5) and
/// `attribution_model` (`TOUCHSTONE_BREAKEVEN__TRACKING__ATTRIBUTION_MODEL`, default
/// `position_based`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Tracking {
    /// Share of budget spent that, with ROAS below break-even ROAS, makes a campaign at
    /// risk: above 0, at most 1.
    #[serde(deserialize_with = "share")]
    pub risk_threshold: Decimal,
    /// Which attribution model's credits count when a deal was attributed by several.
    #[serde(deserialize_with = "name")]
    pub attribution_model: String,
}

impl Default for Tracking {
    fn default() -> Self {
        Tracking {
            risk_threshold: Decimal::new(5, 1),
            attribution_model: "position_based".to_string(),
        }
    }
}

impl Tracking {
    /// The configured settings; a value that is not valid fails with its key named.
    pub fn load() -> anyhow::Result<Tracking> {
        Ok(Settings::section(SERVICE, "tracking")?)
    }
}

fn share<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let v = <Decimal as Deserialize>::deserialize(d)?;
    if v > Decimal::ZERO && v <= Decimal::ONE {
        Ok(v)
    } else {
        Err(D::Error::custom(format!(
            "must be above 0 and at most 1, got {v}"
        )))
    }
}

fn name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = String::deserialize(d)?;
    match v.trim() {
        "" => Err(D::Error::custom("must not be empty")),
        t => Ok(t.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THRESHOLD: &str = "TOUCHSTONE_BREAKEVEN__TRACKING__RISK_THRESHOLD";
    const MODEL: &str = "TOUCHSTONE_BREAKEVEN__TRACKING__ATTRIBUTION_MODEL";

    /// The only test in this process that reads or writes these variables.
    #[test]
    fn the_environment_overrides_the_defaults_and_a_bad_value_names_its_key() {
        let set = |k: &str, v: &str| {
            // SAFETY: no other test of this process reads or writes these variables.
            unsafe { std::env::set_var(k, v) }
        };
        assert_eq!(Tracking::load().unwrap(), Tracking::default());
        set(THRESHOLD, "0.3");
        set(MODEL, " linear ");
        let t = Tracking::load().unwrap();
        assert_eq!(t.risk_threshold, Decimal::new(3, 1));
        assert_eq!(t.attribution_model, "linear");
        for bad in ["2", "0", "soon"] {
            set(THRESHOLD, bad);
            let err = Tracking::load().unwrap_err().to_string();
            assert!(err.contains("risk_threshold"), "{bad}: {err}");
        }
        set(THRESHOLD, "0.5");
        set(MODEL, " ");
        let err = Tracking::load().unwrap_err().to_string();
        assert!(err.contains("attribution_model"), "{err}");
        // SAFETY: as above.
        unsafe {
            std::env::remove_var(THRESHOLD);
            std::env::remove_var(MODEL);
        }
    }
}
