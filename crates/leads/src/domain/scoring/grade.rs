//! Grades: a fit band and an engagement band, written `A1`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A lead's grade: fit band `A`/`B`/`C` and engagement band `1`/`2`/`3`. Written `A1`, on the
/// wire too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grade {
    /// `A`, `B` or `C`.
    pub fit: char,
    /// 1, 2 or 3.
    pub engagement: u8,
}

impl Grade {
    /// All nine grades, best first.
    pub const ALL: [&'static str; 9] = ["A1", "A2", "A3", "B1", "B2", "B3", "C1", "C2", "C3"];
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.fit, self.engagement)
    }
}

impl FromStr for Grade {
    type Err = String;

    fn from_str(s: &str) -> Result<Grade, String> {
        let mut chars = s.chars();
        match (chars.next(), chars.next(), chars.next()) {
            (Some(fit @ 'A'..='C'), Some(e @ '1'..='3'), None) => Ok(Grade {
                fit,
                engagement: e as u8 - b'0',
            }),
            _ => Err(format!(
                "invalid grade {s:?}: expected A, B or C followed by 1, 2 or 3, e.g. A1"
            )),
        }
    }
}

impl Serialize for Grade {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Grade {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Grade, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_are_strings_on_the_wire() {
        let g = Grade {
            fit: 'B',
            engagement: 1,
        };
        assert_eq!(g.to_string(), "B1");
        assert_eq!(serde_json::to_string(&g).unwrap(), "\"B1\"");
        assert_eq!(serde_json::from_str::<Grade>("\"B1\"").unwrap(), g);
        for s in Grade::ALL {
            assert_eq!(s.parse::<Grade>().unwrap().to_string(), s);
        }
        for bad in ["", "A", "D1", "A0", "A4", "a1", "A1 ", "A12"] {
            assert!(bad.parse::<Grade>().is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<Grade>("\"Z9\"").is_err());
    }
}
