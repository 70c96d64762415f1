//! MEDDICC (and MEDDPICC) qualification: element scores with evidence, and the rule a lead must pass to become an SQL.

use std::collections::BTreeMap;

use platform::validation::{FieldErrors, Invalid};
use serde::{Deserialize, Serialize};

/// The highest score of one element.
pub const MAX_SCORE: u8 = 3;
/// The longest evidence kept for one element, in characters.
pub const MAX_EVIDENCE_CHARS: usize = 2000;
/// Every element name, in the framework's order; the last, `paper_process`, is optional and
/// turns MEDDICC into MEDDPICC.
pub const ELEMENT_NAMES: [&str; 8] = [
    "metrics",
    "economic_buyer",
    "decision_criteria",
    "decision_process",
    "identify_pain",
    "champion",
    "competition",
    "paper_process",
];
/// The one element a card may leave out.
const OPTIONAL_ELEMENT: &str = "paper_process";

/// One element's score, 0 (nothing known) to 3 (confirmed), and what it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Element {
    pub score: u8,
    #[serde(default)]
    pub evidence: Option<String>,
}

/// A scored MEDDICC card. With `paper_process` it is a MEDDPICC card. Stored as this JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meddicc {
    pub metrics: Element,
    pub economic_buyer: Element,
    pub decision_criteria: Element,
    pub decision_process: Element,
    pub identify_pain: Element,
    pub champion: Element,
    pub competition: Element,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper_process: Option<Element>,
}

/// A MEDDICC card as a client sent it: the elements it has, by name (see
/// [`ELEMENT_NAMES`]), unchecked. Any may be missing, so that each is reported by name.
pub type MeddiccDraft = BTreeMap<&'static str, ElementDraft>;

/// One element as a client sent it, unchecked.
#[derive(Debug, Clone, Default)]
pub struct ElementDraft {
    pub score: Option<i64>,
    pub evidence: Option<String>,
}

impl ElementDraft {
    /// A draft with this score and no evidence.
    pub fn scored(score: i64) -> Self {
        ElementDraft {
            score: Some(score),
            evidence: None,
        }
    }
}

impl Meddicc {
    /// Checks every element and reports all problems together: the seven MEDDICC elements are
    /// required, `paper_process` is optional; scores are 0 to 3; evidence is trimmed, blank
    /// means none, and it may be at most 2000 characters. Field paths are like
    /// `champion.score`, or just `competition` for a missing element.
    pub fn parse(mut input: MeddiccDraft) -> Result<Meddicc, Invalid> {
        let mut errors = FieldErrors::new();
        let mut parsed = ELEMENT_NAMES.map(|name| {
            let element = input.remove(name);
            let element = if name == OPTIONAL_ELEMENT {
                element
            } else {
                errors.require(name, element)
            };
            element.and_then(|e| parse_element(&mut errors, name, e))
        });
        errors.check()?;
        let mut required = |i: usize| parsed[i].take().expect("checked");
        Ok(Meddicc {
            metrics: required(0),
            economic_buyer: required(1),
            decision_criteria: required(2),
            decision_process: required(3),
            identify_pain: required(4),
            champion: required(5),
            competition: required(6),
            paper_process: parsed[7].take(),
        })
    }

    /// Whether `paper_process` is scored, which makes the card MEDDPICC.
    pub fn is_meddpicc(&self) -> bool {
        self.paper_process.is_some()
    }

    /// `MEDDICC`, or `MEDDPICC` when `paper_process` is scored.
    pub fn variant(&self) -> &'static str {
        if self.is_meddpicc() {
            "MEDDPICC"
        } else {
            "MEDDICC"
        }
    }

    /// The element with this name, if it is scored.
    pub fn element(&self, name: &str) -> Option<&Element> {
        match name {
            "metrics" => Some(&self.metrics),
            "economic_buyer" => Some(&self.economic_buyer),
            "decision_criteria" => Some(&self.decision_criteria),
            "decision_process" => Some(&self.decision_process),
            "identify_pain" => Some(&self.identify_pain),
            "champion" => Some(&self.champion),
            "competition" => Some(&self.competition),
            "paper_process" => self.paper_process.as_ref(),
            _ => None,
        }
    }

    /// The sum of every scored element's score, `paper_process` included when present.
    pub fn total(&self) -> u32 {
        ELEMENT_NAMES
            .iter()
            .filter_map(|name| self.element(name))
            .map(|e| u32::from(e.score))
            .sum()
    }

    /// The highest possible total: 21, or 24 with `paper_process`.
    pub fn max_total(&self) -> u32 {
        let elements = if self.is_meddpicc() { 8 } else { 7 };
        elements * u32::from(MAX_SCORE)
    }
}

fn parse_element(errors: &mut FieldErrors, name: &str, input: ElementDraft) -> Option<Element> {
    let score = match input.score {
        None => {
            errors.add(&format!("{name}.score"), "is required");
            None
        }
        Some(s) => match u8::try_from(s) {
            Ok(s) if s <= MAX_SCORE => Some(s),
            _ => {
                errors.add(
                    &format!("{name}.score"),
                    format!("must be between 0 and {MAX_SCORE}"),
                );
                None
            }
        },
    };
    let evidence = evidence(errors, &format!("{name}.evidence"), input.evidence);
    Some(Element {
        score: score?,
        evidence: evidence.ok()?,
    })
}

/// Trimmed evidence, `None` when blank. Line breaks and tabs are fine in free text; other
/// control characters are not.
fn evidence(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<String>,
) -> Result<Option<String>, ()> {
    let Some(v) = value
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
    else {
        return Ok(None);
    };
    if v.chars().count() > MAX_EVIDENCE_CHARS {
        errors.add(
            field,
            format!("must be at most {MAX_EVIDENCE_CHARS} characters"),
        );
        return Err(());
    }
    if v.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        errors.add(field, "must not contain control characters");
        return Err(());
    }
    Ok(Some(v))
}

/// What a card needs to pass qualification: a minimum total, and minimums on some elements.
/// Stored as this JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualificationRule {
    pub min_total: u32,
    /// Element name to the lowest score it may have.
    pub minimums: BTreeMap<String, u8>,
}

impl Default for QualificationRule {
    /// A total of 14, with metrics at least 2, an identified economic buyer, and pain at
    /// least 2.
    fn default() -> Self {
        QualificationRule {
            min_total: 14,
            minimums: BTreeMap::from([
                ("metrics".to_string(), 2),
                ("economic_buyer".to_string(), 1),
                ("identify_pain".to_string(), 2),
            ]),
        }
    }
}

impl QualificationRule {
    /// Checks that every minimum names a known element and is at most 3, and that the total
    /// is reachable, reporting all problems together with paths like `minimums.champion`.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut errors = FieldErrors::new();
        let max_total = ELEMENT_NAMES.len() as u32 * u32::from(MAX_SCORE);
        if self.min_total > max_total {
            errors.add(
                "min_total",
                format!("must be at most {max_total}, the MEDDPICC maximum"),
            );
        }
        for (name, &minimum) in &self.minimums {
            let field = format!("minimums.{name}");
            if !ELEMENT_NAMES.contains(&name.as_str()) {
                errors.add(
                    &field,
                    format!(
                        "is not a MEDDPICC element; expected one of {}",
                        ELEMENT_NAMES.join(", ")
                    ),
                );
            } else if minimum > MAX_SCORE {
                errors.add(&field, format!("must be at most {MAX_SCORE}"));
            }
        }
        errors.check()
    }
}

/// One check of a qualification rule: the total, or one element's minimum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// `total`, or the element's name.
    pub name: String,
    pub required: u32,
    pub actual: u32,
    pub passed: bool,
}

/// The outcome of a qualification rule applied to a card, with every gate so that a failure
/// can be explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// Sum of the element scores, `paper_process` included when present.
    pub total: u32,
    /// 21, or 24 for MEDDPICC.
    pub max: u32,
    /// Whether every gate passed.
    pub passed: bool,
    /// The total first, then each minimum in name order.
    pub gates: Vec<Gate>,
    /// `MEDDICC` or `MEDDPICC`.
    pub variant: &'static str,
}

/// Applies `rule` to a card. The total counts `paper_process` when it is scored, so a
/// MEDDPICC card has three more points available for the same `min_total`. A minimum on
/// `paper_process` for a MEDDICC card sees a score of 0.
pub fn evaluate(m: &Meddicc, rule: &QualificationRule) -> Evaluation {
    let total = m.total();
    let gate = |name: &str, required: u32, actual: u32| Gate {
        name: name.to_string(),
        required,
        actual,
        passed: actual >= required,
    };
    let gates: Vec<Gate> = std::iter::once(gate("total", rule.min_total, total))
        .chain(rule.minimums.iter().map(|(name, &minimum)| {
            let actual = m.element(name).map_or(0, |e| u32::from(e.score));
            gate(name, u32::from(minimum), actual)
        }))
        .collect();
    Evaluation {
        total,
        max: m.max_total(),
        passed: gates.iter().all(|g| g.passed),
        gates,
        variant: m.variant(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A MEDDICC card with these scores, in framework order.
    fn card(scores: [u8; 7]) -> Meddicc {
        Meddicc::parse(input(scores.map(i64::from))).unwrap()
    }

    fn failed(ev: &Evaluation) -> Vec<&str> {
        ev.gates
            .iter()
            .filter(|g| !g.passed)
            .map(|g| g.name.as_str())
            .collect()
    }

    /// A MEDDICC draft with these scores, in framework order, and no evidence.
    fn input(scores: [i64; 7]) -> MeddiccDraft {
        ELEMENT_NAMES
            .into_iter()
            .zip(scores)
            .map(|(name, score)| (name, ElementDraft::scored(score)))
            .collect()
    }

    fn element(score: Option<i64>, evidence: &str) -> ElementDraft {
        ElementDraft {
            score,
            evidence: Some(evidence.to_string()),
        }
    }

    fn fields(invalid: &Invalid) -> Vec<&str> {
        invalid.0.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn exactly_at_every_edge_passes() {
        // metrics 2, eb 1, criteria 3, process 3, pain 2, champion 2, competition 1 = 14.
        let ev = evaluate(&card([2, 1, 3, 3, 2, 2, 1]), &QualificationRule::default());
        assert_eq!(ev.total, 14);
        assert_eq!(ev.max, 21);
        assert_eq!(ev.variant, "MEDDICC");
        assert!(ev.passed);
        let gate = |name: &str, score: u32| Gate {
            name: name.into(),
            required: score,
            actual: score,
            passed: true,
        };
        assert_eq!(
            ev.gates,
            [
                gate("total", 14),
                gate("economic_buyer", 1),
                gate("identify_pain", 2),
                gate("metrics", 2),
            ]
        );
    }

    #[test]
    fn each_gate_fails_on_its_own() {
        let cases: [([u8; 7], u32, &str); 3] = [
            // 2 + 1 + 3 + 2 + 2 + 2 + 1 = 13: a total of 13 fails only the total.
            ([2, 1, 3, 2, 2, 2, 1], 13, "total"),
            // 1 + 1 + 3 + 3 + 2 + 3 + 2 = 15 with weak metrics fails only metrics.
            ([1, 1, 3, 3, 2, 3, 2], 15, "metrics"),
            // 3 + 0 + 3 + 3 + 3 + 3 + 3 = 18: no economic buyer fails even so.
            ([3, 0, 3, 3, 3, 3, 3], 18, "economic_buyer"),
        ];
        for (scores, total, gate) in cases {
            let ev = evaluate(&card(scores), &QualificationRule::default());
            assert_eq!((ev.total, ev.passed), (total, false), "{scores:?}");
            assert_eq!(failed(&ev), [gate], "{scores:?}");
        }
        let ev = evaluate(&card([1, 1, 3, 3, 2, 3, 2]), &QualificationRule::default());
        let metrics = ev.gates.iter().find(|g| g.name == "metrics").unwrap();
        assert_eq!((metrics.required, metrics.actual), (2, 1));
    }

    #[test]
    fn paper_process_makes_meddpicc_and_counts_in_the_total() {
        let mut m = card([3, 3, 3, 3, 3, 3, 3]);
        m.paper_process = Some(Element {
            score: 3,
            evidence: Some("MSA with legal".into()),
        });
        let ev = evaluate(&m, &QualificationRule::default());
        assert_eq!(ev.variant, "MEDDPICC");
        assert_eq!((ev.total, ev.max), (24, 24));
        assert!(ev.passed);

        // 13 from MEDDICC plus 1 for paper process reaches 14.
        let mut m = card([2, 1, 3, 2, 2, 2, 1]);
        m.paper_process = Some(Element {
            score: 1,
            evidence: None,
        });
        assert!(evaluate(&m, &QualificationRule::default()).passed);
    }

    #[test]
    fn a_minimum_on_an_absent_paper_process_sees_zero() {
        let mut rule = QualificationRule::default();
        rule.minimums.insert("paper_process".into(), 1);
        let ev = evaluate(&card([3, 3, 3, 3, 3, 3, 3]), &rule);
        let gate = ev.gates.iter().find(|g| g.name == "paper_process").unwrap();
        assert_eq!((gate.required, gate.actual, gate.passed), (1, 0, false));
        assert_eq!(failed(&ev), ["paper_process"]);
    }

    #[test]
    fn parse_keeps_scores_and_trims_evidence() {
        let mut i = input([2, 1, 3, 3, 2, 2, 1]);
        i.insert(
            "champion",
            element(Some(2), "  Dana, VP Ops, sponsors the pilot \n"),
        );
        i.insert("metrics", element(Some(2), "   "));
        let m = Meddicc::parse(i).unwrap();
        assert_eq!(
            m.champion.evidence.as_deref(),
            Some("Dana, VP Ops, sponsors the pilot")
        );
        assert_eq!(m.metrics.evidence, None);
        assert_eq!(m.total(), 14);
        assert_eq!(m.paper_process, None);
    }

    #[test]
    fn parse_names_a_score_out_of_range() {
        let mut i = input([2, 1, 3, 3, 2, 2, 1]);
        i.insert("champion", ElementDraft::scored(4));
        let invalid = Meddicc::parse(i).unwrap_err();
        assert_eq!(fields(&invalid), ["champion.score"]);
        assert_eq!(invalid.0[0].message, "must be between 0 and 3");
    }

    #[test]
    fn parse_names_a_missing_element() {
        let mut i = input([2, 1, 3, 3, 2, 2, 1]);
        i.remove("competition");
        let invalid = Meddicc::parse(i).unwrap_err();
        assert_eq!(fields(&invalid), ["competition"]);
        assert_eq!(invalid.0[0].message, "is required");
    }

    #[test]
    fn parse_reports_every_problem_at_once() {
        let mut i = input([-1, 1, 3, 3, 2, 2, 1]);
        i.remove("economic_buyer");
        i.insert("decision_process", element(None, &"x".repeat(2001)));
        i.insert("identify_pain", element(Some(300), "line one\nline two"));
        i.insert("champion", element(Some(1), "bell\u{7}"));
        i.insert("paper_process", ElementDraft::scored(7));
        let invalid = Meddicc::parse(i).unwrap_err();
        assert_eq!(
            fields(&invalid),
            [
                "metrics.score",
                "economic_buyer",
                "decision_process.score",
                "decision_process.evidence",
                "identify_pain.score",
                "champion.evidence",
                "paper_process.score",
            ]
        );
    }

    #[test]
    fn evidence_of_exactly_2000_characters_is_kept() {
        let mut i = input([2, 1, 3, 3, 2, 2, 1]);
        // Multi-byte characters: the limit is in characters, not bytes.
        i.insert("metrics", element(Some(2), &"é".repeat(2000)));
        let m = Meddicc::parse(i).unwrap();
        assert_eq!(m.metrics.evidence.unwrap().chars().count(), 2000);
    }

    #[test]
    fn parse_accepts_meddpicc() {
        let mut i = input([0, 0, 0, 0, 0, 0, 0]);
        i.insert("paper_process", ElementDraft::scored(3));
        let m = Meddicc::parse(i).unwrap();
        assert!(m.is_meddpicc());
        assert_eq!((m.total(), m.max_total()), (3, 24));
    }

    #[test]
    fn the_default_rule_is_valid_and_a_bad_one_names_each_field() {
        QualificationRule::default().validate().unwrap();
        let rule = QualificationRule {
            min_total: 25,
            minimums: BTreeMap::from([
                ("champion".to_string(), 4),
                ("budget".to_string(), 1),
                ("paper_process".to_string(), 3),
            ]),
        };
        let invalid = rule.validate().unwrap_err();
        assert_eq!(
            fields(&invalid),
            ["min_total", "minimums.budget", "minimums.champion"]
        );
    }

    #[test]
    fn stored_json_shape() {
        let mut m = card([2, 1, 3, 3, 2, 2, 1]);
        m.metrics.evidence = Some("cut CAC 20%".into());
        let value = serde_json::to_value(&m).unwrap();
        assert_eq!(value["metrics"]["score"], 2);
        assert_eq!(value["metrics"]["evidence"], "cut CAC 20%");
        assert!(value.get("paper_process").is_none());
        assert_eq!(serde_json::from_value::<Meddicc>(value).unwrap(), m);
    }
}
