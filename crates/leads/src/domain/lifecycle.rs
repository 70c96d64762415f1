//! Lifecycle stages of a lead and the rule for which moves between them are allowed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a lead stands in the lifecycle. The first seven form the forward path, in order;
/// `disqualified` sits beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Subscriber,
    Lead,
    Mql,
    Sql,
    Opportunity,
    Customer,
    Evangelist,
    Disqualified,
}

impl Stage {
    /// The forward path in order, then `disqualified`.
    pub const ALL: [Stage; 8] = [
        Stage::Subscriber,
        Stage::Lead,
        Stage::Mql,
        Stage::Sql,
        Stage::Opportunity,
        Stage::Customer,
        Stage::Evangelist,
        Stage::Disqualified,
    ];

    /// The stage with exactly this snake_case name.
    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|stage| stage.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Subscriber => "subscriber",
            Stage::Lead => "lead",
            Stage::Mql => "mql",
            Stage::Sql => "sql",
            Stage::Opportunity => "opportunity",
            Stage::Customer => "customer",
            Stage::Evangelist => "evangelist",
            Stage::Disqualified => "disqualified",
        }
    }

    /// Position on the forward path, subscriber = 0 .. evangelist = 6; `None` for
    /// disqualified, which is off the path.
    pub fn rank(self) -> Option<u8> {
        match self {
            Stage::Subscriber => Some(0),
            Stage::Lead => Some(1),
            Stage::Mql => Some(2),
            Stage::Sql => Some(3),
            Stage::Opportunity => Some(4),
            Stage::Customer => Some(5),
            Stage::Evangelist => Some(6),
            Stage::Disqualified => None,
        }
    }

    /// Whether a lead in this stage has reached `stage` on the forward path: it is `stage`
    /// or further along. Never true of or for `disqualified`.
    pub fn reaches(self, stage: Stage) -> bool {
        self.rank().zip(stage.rank()).is_some_and(|(s, t)| s >= t)
    }

    /// Whether this stage comes before `stage` on the forward path. Never true of or for
    /// `disqualified`.
    pub fn is_before(self, stage: Stage) -> bool {
        self.rank().zip(stage.rank()).is_some_and(|(s, t)| s < t)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of move an allowed stage change is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveKind {
    /// Further along the forward path, possibly skipping stages.
    Forward,
    /// Out of the pipeline, before the lead became a customer.
    Disqualify,
    /// Back to `lead`, to be worked again.
    Recycle,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("the lead is already in stage {0}")]
    Unchanged(Stage),
    #[error(
        "cannot move a lead from {from} to {to}: only forward moves, disqualification, and recycling to `lead` are allowed"
    )]
    Illegal { from: Stage, to: Stage },
    #[error("recycling a lead back to `lead` needs a reason")]
    RecycleNeedsReason,
}

/// Decides whether a lead may move from `from` to `to`, and what kind of move it is.
///
/// - Forward: both stages are on the path and `to` is further along; skipping is allowed.
/// - Disqualify: to `disqualified` from subscriber, lead, mql, sql or opportunity. A customer
///   or evangelist has already bought, so it is never disqualified.
/// - Recycle: to `lead` from mql, sql, opportunity or disqualified, with a non-blank
///   `reason`, because someone will later ask why the lead went backwards.
///
/// Anything else is illegal; the same stage is `Unchanged`. `reason` matters only for a
/// recycle.
pub fn check_move(from: Stage, to: Stage, reason: Option<&str>) -> Result<MoveKind, MoveError> {
    use Stage::*;

    if from == to {
        return Err(MoveError::Unchanged(from));
    }
    if let (Some(f), Some(t)) = (from.rank(), to.rank())
        && t > f
    {
        return Ok(MoveKind::Forward);
    }
    match (from, to) {
        (Subscriber | Lead | Mql | Sql | Opportunity, Disqualified) => Ok(MoveKind::Disqualify),
        (Mql | Sql | Opportunity | Disqualified, Lead) => {
            if reason.is_some_and(|r| !r.trim().is_empty()) {
                Ok(MoveKind::Recycle)
            } else {
                Err(MoveError::RecycleNeedsReason)
            }
        }
        _ => Err(MoveError::Illegal { from, to }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected outcome of every move, written out by hand. Rows are `from`, columns are
    /// `to`, both in the order of `Stage::ALL`:
    /// `=` unchanged, `F` forward, `D` disqualify, `R` recycle (needs a reason), `x` illegal.
    const EXPECTED: [&str; 8] = [
        // sub lead mql sql opp cust evan disq
        "=FFFFFFD", // subscriber
        "x=FFFFFD", // lead
        "xR=FFFFD", // mql
        "xRx=FFFD", // sql
        "xRxx=FFD", // opportunity
        "xxxxx=Fx", // customer
        "xxxxxx=x", // evangelist
        "xRxxxxx=", // disqualified
    ];

    #[test]
    fn every_move_matches_the_hand_written_table() {
        for (row, from) in EXPECTED.iter().zip(Stage::ALL) {
            for (cell, to) in row.chars().zip(Stage::ALL) {
                let with_reason = check_move(from, to, Some("budget frozen until Q3"));
                let without_reason = check_move(from, to, None);
                let (expected_with, expected_without) = match cell {
                    '=' => (
                        Err(MoveError::Unchanged(from)),
                        Err(MoveError::Unchanged(from)),
                    ),
                    'F' => (Ok(MoveKind::Forward), Ok(MoveKind::Forward)),
                    'D' => (Ok(MoveKind::Disqualify), Ok(MoveKind::Disqualify)),
                    'R' => (Ok(MoveKind::Recycle), Err(MoveError::RecycleNeedsReason)),
                    'x' => (
                        Err(MoveError::Illegal { from, to }),
                        Err(MoveError::Illegal { from, to }),
                    ),
                    other => panic!("bad cell {other:?} in the expected table"),
                };
                assert_eq!(with_reason, expected_with, "{from} -> {to} with a reason");
                assert_eq!(
                    without_reason, expected_without,
                    "{from} -> {to} without one"
                );
            }
        }
    }

    #[test]
    fn the_table_covers_the_whole_matrix() {
        assert_eq!(EXPECTED.len(), Stage::ALL.len());
        assert!(EXPECTED.iter().all(|row| row.chars().count() == 8));
    }

    #[test]
    fn recycling_needs_a_non_blank_reason() {
        for reason in [None, Some(""), Some("   "), Some("\t\n")] {
            assert_eq!(
                check_move(Stage::Sql, Stage::Lead, reason),
                Err(MoveError::RecycleNeedsReason),
                "reason {reason:?}"
            );
        }
        assert_eq!(
            check_move(Stage::Disqualified, Stage::Lead, Some(" new budget ")),
            Ok(MoveKind::Recycle)
        );
    }

    #[test]
    fn a_reason_does_not_make_an_illegal_move_legal() {
        assert_eq!(
            check_move(Stage::Customer, Stage::Lead, Some("churned")),
            Err(MoveError::Illegal {
                from: Stage::Customer,
                to: Stage::Lead
            })
        );
    }

    #[test]
    fn display_and_parse_round_trip() {
        for stage in Stage::ALL {
            assert_eq!(Stage::parse(&stage.to_string()), Some(stage));
        }
        assert_eq!(Stage::Mql.to_string(), "mql");
        assert_eq!(Stage::parse("MQL"), None);
        assert_eq!(Stage::parse(" lead"), None);
        assert_eq!(Stage::parse(""), None);
    }

    #[test]
    fn serde_names_match_as_str() {
        for stage in Stage::ALL {
            let json = serde_json::to_string(&stage).unwrap();
            assert_eq!(json, format!("\"{}\"", stage.as_str()));
            assert_eq!(serde_json::from_str::<Stage>(&json).unwrap(), stage);
        }
    }

    #[test]
    fn names_match_the_published_contract() {
        let names: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, contracts::leads::LIFECYCLE_STAGES);
    }

    #[test]
    fn ranks_follow_the_forward_path() {
        let ranks: Vec<Option<u8>> = Stage::ALL.iter().map(|s| s.rank()).collect();
        assert_eq!(
            ranks,
            [
                Some(0),
                Some(1),
                Some(2),
                Some(3),
                Some(4),
                Some(5),
                Some(6),
                None
            ]
        );
    }

    #[test]
    fn reaching_and_coming_before_follow_the_forward_path() {
        assert!(Stage::Sql.reaches(Stage::Mql) && Stage::Sql.reaches(Stage::Sql));
        assert!(!Stage::Mql.reaches(Stage::Sql));
        assert!(Stage::Lead.is_before(Stage::Sql) && !Stage::Sql.is_before(Stage::Sql));
        for stage in Stage::ALL {
            assert!(!Stage::Disqualified.reaches(stage) && !stage.reaches(Stage::Disqualified));
            assert!(!Stage::Disqualified.is_before(stage) && !stage.is_before(Stage::Disqualified));
        }
    }

    #[test]
    fn error_messages_name_the_stages() {
        let e = check_move(Stage::Evangelist, Stage::Mql, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot move a lead from evangelist to mql: only forward moves, disqualification, \
             and recycling to `lead` are allowed"
        );
        assert_eq!(
            MoveError::Unchanged(Stage::Sql).to_string(),
            "the lead is already in stage sql"
        );
    }
}
