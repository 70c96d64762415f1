//! Journey reports: the distribution of journey lengths, and the most frequent paths
//! (the channel sequence of a journey) with how often each converted.

use polars::prelude::*;

use super::{ints, money, money_column, read_csv};

fn journeys(csv: &[u8]) -> PolarsResult<DataFrame> {
    read_csv(
        csv,
        &[
            ("kind", DataType::String),
            ("touches", DataType::Int64),
            ("path", DataType::String),
            ("value_micros", DataType::Int64),
        ],
    )
}

/// `kind` (won, lost, micro), `touches` (journey length) and `journeys` (how many).
pub fn journey_lengths(csv: &[u8]) -> PolarsResult<DataFrame> {
    journeys(csv)?
        .lazy()
        .group_by([col("kind"), col("touches")])
        .agg([len().cast(DataType::Int64).alias("journeys")])
        .sort(["kind", "touches"], SortMultipleOptions::default())
        .collect()
}

/// The `limit` most converting paths: `path`, `touches`, `conversions` (won),
/// `non_conversions` (lost), `micro_conversions`, `conversion_rate` (won / (won + lost)) and
/// `conversion_value`. Journeys with no touches are left out.
pub fn top_paths(csv: &[u8], limit: u32) -> PolarsResult<DataFrame> {
    let is = |k: &str| col("kind").eq(lit(k)).cast(DataType::Int64);
    let df = journeys(csv)?
        .lazy()
        .filter(col("touches").gt(lit(0)))
        .group_by([col("path")])
        .agg([
            col("touches").first().alias("touches"),
            is("won").sum().alias("conversions"),
            is("lost").sum().alias("non_conversions"),
            is("micro").sum().alias("micro_conversions"),
            (col("value_micros") * is("won"))
                .sum()
                .alias("value_micros"),
        ])
        .with_columns([super::rate(
            col("conversions"),
            col("conversions") + col("non_conversions"),
        )
        .alias("conversion_rate")])
        .sort(
            ["conversions", "non_conversions", "path"],
            SortMultipleOptions::default().with_order_descending_multi([true, true, false]),
        )
        .limit(limit)
        .collect()?;
    let value = ints(&df, "value_micros")?;
    let value = money_column(
        "conversion_value",
        value.into_iter().map(|v| Some(money(v))),
    );
    df.select([
        "path",
        "touches",
        "conversions",
        "non_conversions",
        "micro_conversions",
        "conversion_rate",
    ])
    .and_then(|mut d| d.with_column(value).map(|d| d.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "kind,touches,path,value_micros
won,2,email > direct,1000000
won,2,email > direct,2000000
lost,2,email > direct,0
lost,1,display,0
won,0,,5000000
micro,1,display,0
";

    #[test]
    fn lengths_and_paths_by_hand() {
        let lengths = journey_lengths(CSV.as_bytes()).unwrap();
        let rows: Vec<String> = (0..lengths.height())
            .map(|i| format!("{:?}", lengths.get_row(i).unwrap().0))
            .collect();
        assert_eq!(lengths.height(), 5, "{rows:?}");
        let paths = top_paths(CSV.as_bytes(), 10).unwrap();
        assert_eq!(paths.height(), 2);
        let get =
            |name: &str, row: usize| paths.column(name).unwrap().get(row).unwrap().to_string();
        assert_eq!(get("path", 0), "\"email > direct\"");
        assert_eq!(get("conversions", 0), "2");
        assert_eq!(get("non_conversions", 0), "1");
        assert_eq!(get("conversion_value", 0), "\"3\"");
        assert_eq!(get("conversion_rate", 1), "0.0");
        assert_eq!(get("micro_conversions", 1), "1");
    }
}
