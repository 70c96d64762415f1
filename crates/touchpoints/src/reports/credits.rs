//! An attribution report's credits as rows, for CSV and Parquet.

use polars::prelude::*;

use crate::domain::valuation::ValuedReport;

/// One row per model and channel: `model`, `order` (Markov only), `channel`, `conversions`
/// and, per currency, `value_<CURRENCY>` (a decimal string; `value` for ad-hoc paths, whose
/// values carry no currency).
pub fn frame(report: &ValuedReport) -> PolarsResult<DataFrame> {
    let (mut model, mut order, mut channel, mut conversions) = (vec![], vec![], vec![], vec![]);
    let mut values: Vec<Vec<String>> = vec![Vec::new(); report.total_values.len()];
    for r in &report.results {
        for c in &r.credits {
            model.push(r.model);
            order.push(r.order.map(i64::from));
            channel.push(c.channel.clone());
            conversions.push(c.conversions);
            for (column, v) in values.iter_mut().zip(&c.values) {
                column.push(v.amount.to_string());
            }
        }
    }
    let height = model.len();
    let mut columns = vec![
        Column::new("model".into(), model),
        Column::new("markov_order".into(), order),
        Column::new("channel".into(), channel),
        Column::new("conversions".into(), conversions),
    ];
    for (total, column) in report.total_values.iter().zip(values) {
        let name = match &total.currency {
            Some(currency) => format!("value_{currency}"),
            None => "value".to_string(),
        };
        columns.push(Column::new(name.into(), column));
    }
    DataFrame::new(height, columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::valuation::{CurrencyAmount, ValuedCredit, ValuedResult};
    use rust_decimal::Decimal;

    fn amount(currency: Option<&str>, cents: i64) -> CurrencyAmount {
        CurrencyAmount {
            currency: currency.map(str::to_string),
            amount: Decimal::new(cents, 2),
        }
    }

    #[test]
    fn one_value_column_per_currency() {
        let credit = |channel: &str, conversions: f64, eur: i64, usd: i64| ValuedCredit {
            channel: channel.into(),
            conversions,
            values: vec![amount(Some("EUR"), eur), amount(Some("USD"), usd)],
        };
        let report = ValuedReport {
            total_conversions: 2.0,
            total_values: vec![amount(Some("EUR"), 10_010), amount(Some("USD"), 5_000)],
            results: vec![ValuedResult {
                model: "linear",
                order: None,
                credits: vec![
                    credit("email", 0.5, 5_005, 0),
                    credit("paid_search", 1.5, 5_005, 5_000),
                ],
                removal_effects: None,
                transition_matrix: None,
            }],
        };
        let df = frame(&report).unwrap();
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "model",
                "markov_order",
                "channel",
                "conversions",
                "value_EUR",
                "value_USD"
            ]
        );
        let get = |name: &str, row: usize| df.column(name).unwrap().get(row).unwrap().to_string();
        assert_eq!(get("value_EUR", 1), "\"50.05\"");
        assert_eq!(get("value_USD", 1), "\"50.00\"");
        assert_eq!(get("conversions", 0), "0.5");
    }
}
