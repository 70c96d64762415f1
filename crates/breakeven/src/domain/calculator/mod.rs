//! The stateless calculator behind `POST /v1/breakeven/calculate`: the inputs as given
//! in, every analysis whose inputs are present out. No I/O: the inputs are read and
//! checked field by field first ([`inputs`]), then analysed ([`analysis`]).

mod analysis;
mod inputs;
mod request;

use chrono::NaiveDate;
use platform::validation::{FieldError, Invalid};

use super::cvp::CalcError;

pub use analysis::{
    Analysis, Basis, Leverage, ProjectionFrom, SafetyMargin, TargetPoint, UnitMargin,
};
pub use inputs::{CoreInputs, core_inputs};
pub use request::{
    CalculateRequest, MarketingInput, MixProductInput, ProjectionInput, SensitivityInput,
};

/// Why the calculator gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// A field is invalid.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The figures have no answer (break-even unreachable, or too large).
    #[error(transparent)]
    Calc(#[from] CalcError),
}

impl Rejection {
    /// The same rejection with each field named as it sits under `prefix` in a larger
    /// body (`inputs` makes `price` into `inputs.price`).
    pub fn within(self, prefix: &str) -> Rejection {
        let nest = |field: &str| format!("{prefix}.{field}");
        match self {
            Rejection::Invalid(Invalid(errors)) => Rejection::Invalid(Invalid(
                errors
                    .into_iter()
                    .map(|e| FieldError {
                        field: nest(&e.field),
                        message: e.message,
                    })
                    .collect(),
            )),
            Rejection::Calc(CalcError::Unreachable { field }) => {
                Rejection::Calc(CalcError::Unreachable {
                    field: nest(&field),
                })
            }
            other => other,
        }
    }
}

/// Reads and checks `req`, then runs every analysis its inputs allow; `today` starts a
/// projection that names no start.
pub fn calculate(req: &CalculateRequest, today: NaiveDate) -> Result<Analysis, Rejection> {
    let inputs = inputs::read(req, today)?;
    Ok(analysis::analyse(&inputs)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cvp::present;
    use rust_decimal::Decimal;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    fn today() -> NaiveDate {
        "2025-01-01".parse().unwrap()
    }

    fn hicks() -> CalculateRequest {
        CalculateRequest {
            currency: "USD".into(),
            fixed_costs: s("18000"),
            price: s("100"),
            variable_cost: s("60"),
            ..Default::default()
        }
    }

    fn fields(r: Rejection) -> Vec<String> {
        match r {
            Rejection::Invalid(i) => i.0.into_iter().map(|e| e.field).collect(),
            Rejection::Calc(e) => panic!("{e}"),
        }
    }

    #[test]
    fn hicks_blocks_appear_with_their_inputs() {
        let out = calculate(&hicks(), today()).unwrap();
        assert_eq!(out.breakeven.as_ref().unwrap().units, d("450"));
        assert_eq!(out.breakeven.unwrap().revenue, d("45000"));
        assert!(out.margin_of_safety.is_none() && out.sales_mix.is_none());

        let req = CalculateRequest {
            actual_units: s("1000"),
            target_profit: s("16000"),
            ..hicks()
        };
        let out = calculate(&req, today()).unwrap();
        let mos = out.margin_of_safety.unwrap();
        assert_eq!(
            (mos.basis, mos.margin.percent),
            (Basis::Actual, Some(d("55")))
        );
        assert_eq!(out.target_profit.unwrap().units_exact, d("850"));
        let degree = out.operating_leverage.unwrap().degree.unwrap();
        assert_eq!(present::ratio(degree), d("1.818182"));
    }

    #[test]
    fn nested_fields_are_named_under_their_prefix() {
        let req = CalculateRequest {
            price: s("ten"),
            ..hicks()
        };
        assert_eq!(
            fields(calculate(&req, today()).unwrap_err().within("inputs")),
            ["inputs.price"]
        );
        let req = CalculateRequest {
            price: s("60"),
            ..hicks()
        };
        assert_eq!(
            calculate(&req, today()).unwrap_err().within("inputs"),
            Rejection::Calc(CalcError::Unreachable {
                field: "inputs.price".into()
            })
        );
    }

    #[test]
    fn unreachable_is_a_rejection_not_infinity() {
        let req = CalculateRequest {
            price: s("60"),
            ..hicks()
        };
        assert!(matches!(
            calculate(&req, today()),
            Err(Rejection::Calc(CalcError::Unreachable { .. }))
        ));
    }

    #[test]
    fn bad_fields_are_all_named() {
        let req = CalculateRequest {
            currency: "usd".into(),
            fixed_costs: s("-5"),
            price: s("ten"),
            ..hicks()
        };
        assert_eq!(
            fields(calculate(&req, today()).unwrap_err()),
            ["currency", "fixed_costs", "price"]
        );
        let req = CalculateRequest {
            products: Some(vec![
                MixProductInput {
                    price: "10".into(),
                    variable_cost: "5".into(),
                    mix: "0.5".into(),
                    currency: s("EUR"),
                    ..Default::default()
                },
                MixProductInput {
                    price: "10".into(),
                    variable_cost: "5".into(),
                    mix: "0.4".into(),
                    ..Default::default()
                },
            ]),
            ..hicks()
        };
        assert_eq!(
            fields(calculate(&req, today()).unwrap_err()),
            ["products[0].currency", "products"]
        );
    }

    #[test]
    fn marketing_alone_uses_the_gross_margin() {
        let req = CalculateRequest {
            currency: "EUR".into(),
            marketing: Some(MarketingInput {
                gross_margin: s("0.4"),
                average_order_value: s("80"),
                ..Default::default()
            }),
            ..Default::default()
        };
        let out = calculate(&req, today()).unwrap();
        let m = out.marketing.unwrap();
        assert_eq!(m.breakeven_roas, Some(d("2.5")));
        assert_eq!(m.breakeven_cpa, Some(d("32")));
    }

    #[test]
    fn projection_and_sensitivity() {
        let req = CalculateRequest {
            projection: Some(ProjectionInput {
                monthly_units: s("200"),
                ..Default::default()
            }),
            sensitivity: Some(SensitivityInput {
                range_percent: "10".into(),
                step_percent: "10".into(),
            }),
            ..hicks()
        };
        let out = calculate(&req, today()).unwrap();
        let p = out.projection.unwrap().projection.unwrap();
        assert_eq!(p.months, d("2.25"));
        assert_eq!(p.date, "2025-03-09".parse().unwrap());
        assert_eq!(out.sensitivity.unwrap().units[1][1], Some(d("450")));
    }
}
