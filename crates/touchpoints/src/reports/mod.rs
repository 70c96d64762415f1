//! Touchpoint reports: polars frames built from the store's CSV exports and the report
//! computations (rendered by `platform::reports`). Pure: bytes in, frames out.
//!
//! Rates (viewability, CTR) are `f64`; money (cost, CPM, vCPM, CPC, CPA, conversion value,
//! commission) is computed with `rust_decimal` from exact integer millionths and rendered as
//! decimal strings. A ratio whose denominator is zero is null, never NaN or infinity.

mod affiliates;
pub mod attribution;
mod campaign;
pub mod credits;
mod journeys;

use std::io::Cursor;

use polars::prelude::*;
use rust_decimal::Decimal;

pub use affiliates::{affiliate_figures, affiliates_report};
pub use campaign::campaign_performance;
pub use journeys::{journey_lengths, top_paths};

/// Reads an export with every column's dtype fixed by name, so no dtype depends on inference
/// over data that may be empty.
fn read_csv(csv: &[u8], fields: &[(&str, DataType)]) -> PolarsResult<DataFrame> {
    let schema = Schema::from_iter(
        fields
            .iter()
            .map(|(n, t)| Field::new((*n).into(), t.clone())),
    );
    let names: Vec<Expr> = fields.iter().map(|(n, _)| col(*n)).collect();
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_schema_overwrite(Some(Arc::new(schema)))
        .into_reader_with_file_handle(Cursor::new(csv))
        .finish()?;
    frame.lazy().select(names).collect()
}

/// `a / b` as a float, null when `b` is zero.
fn rate(a: Expr, b: Expr) -> Expr {
    when(b.clone().gt(lit(0)))
        .then(a.cast(DataType::Float64) / b.cast(DataType::Float64))
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// Millionths of a currency unit as an exact amount.
fn money(micros: i64) -> Decimal {
    Decimal::new(micros, 6).normalize()
}

/// `micros × scale / denominator` as an exact amount (to 6 places), or none when the
/// denominator is zero.
fn money_per(micros: i64, scale: i64, denominator: i64) -> Option<Decimal> {
    (denominator > 0).then(|| {
        (Decimal::new(micros, 6) * Decimal::from(scale) / Decimal::from(denominator))
            .round_dp(6)
            .normalize()
    })
}

/// An `i64` column's values, nulls as zero.
fn ints(df: &DataFrame, name: &str) -> PolarsResult<Vec<i64>> {
    Ok(df
        .column(name)?
        .cast(&DataType::Int64)?
        .i64()?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect())
}

/// A text column of decimal amounts.
fn money_column(name: &str, values: impl IntoIterator<Item = Option<Decimal>>) -> Column {
    let v: Vec<Option<String>> = values
        .into_iter()
        .map(|d| d.map(|d| d.to_string()))
        .collect();
    Column::new(name.into(), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_arithmetic_is_exact_and_zero_safe() {
        assert_eq!(money(12_500_000).to_string(), "12.5");
        assert_eq!(money_per(12_500_000, 1000, 4).unwrap().to_string(), "3125");
        assert_eq!(money_per(1_000_000, 1, 3).unwrap().to_string(), "0.333333");
        assert_eq!(money_per(1_000_000, 1, 0), None);
    }
}
