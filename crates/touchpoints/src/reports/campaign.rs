//! Campaign performance by campaign, channel and UTC day.
//!
//! - `impressions` counts `impression` and `viewable_impression` touches (a viewable
//!   impression is an impression measured as viewable, sent instead of the plain one);
//!   `viewable_impressions` counts the latter; `viewability_pct` = viewable / impressions × 100.
//! - `ctr` = clicks / impressions.
//! - `cost` sums the cost of every touch of the group; `cpm` = cost / impressions × 1000,
//!   `vcpm` = cost / viewable impressions × 1000, `cpc` = cost / clicks, `cpa` = cost /
//!   conversions.
//! - A won conversion is credited to the campaign (and channel) of the last touch with a
//!   campaign in its journey (the lookback window before the win), on the UTC day of the win.

use polars::prelude::*;

use super::{ints, money, money_column, money_per, rate, read_csv};

/// The report from the store's `campaign_sql` export.
pub fn campaign_performance(csv: &[u8]) -> PolarsResult<DataFrame> {
    let raw = read_csv(
        csv,
        &[
            ("campaign_id", DataType::String),
            ("channel", DataType::String),
            ("day", DataType::String),
            ("touch_type", DataType::String),
            ("touches", DataType::Int64),
            ("cost_micros", DataType::Int64),
            ("conversions", DataType::Int64),
            ("value_micros", DataType::Int64),
        ],
    )?;
    let of = |ty: &str| col("touches").filter(col("touch_type").eq(lit(ty))).sum();
    let df = raw
        .lazy()
        .group_by([col("campaign_id"), col("channel"), col("day")])
        .agg([
            (of("impression") + of("viewable_impression")).alias("impressions"),
            of("viewable_impression").alias("viewable_impressions"),
            of("click").alias("clicks"),
            col("cost_micros").sum().alias("cost_micros"),
            col("conversions").sum().alias("conversions"),
            col("value_micros").sum().alias("value_micros"),
        ])
        .with_columns([
            (rate(col("viewable_impressions"), col("impressions")) * lit(100.0))
                .alias("viewability_pct"),
            rate(col("clicks"), col("impressions")).alias("ctr"),
        ])
        .sort(
            ["campaign_id", "channel", "day"],
            SortMultipleOptions::default(),
        )
        .collect()?;
    let cost = ints(&df, "cost_micros")?;
    let imps = ints(&df, "impressions")?;
    let viewable = ints(&df, "viewable_impressions")?;
    let clicks = ints(&df, "clicks")?;
    let conversions = ints(&df, "conversions")?;
    let value = ints(&df, "value_micros")?;
    let per = |denominators: &[i64], scale: i64| {
        cost.iter()
            .zip(denominators)
            .map(|(c, d)| money_per(*c, scale, *d))
            .collect::<Vec<_>>()
    };
    let columns = vec![
        df.column("campaign_id")?.clone(),
        df.column("channel")?.clone(),
        df.column("day")?.clone(),
        df.column("impressions")?.clone(),
        df.column("viewable_impressions")?.clone(),
        df.column("viewability_pct")?.clone(),
        df.column("clicks")?.clone(),
        df.column("ctr")?.clone(),
        money_column("cost", cost.iter().map(|c| Some(money(*c)))),
        money_column("cpm", per(&imps, 1000)),
        money_column("vcpm", per(&viewable, 1000)),
        money_column("cpc", per(&clicks, 1)),
        df.column("conversions")?.clone(),
        money_column("conversion_value", value.iter().map(|v| Some(money(*v)))),
        money_column("cpa", per(&conversions, 1)),
    ];
    DataFrame::new(df.height(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str =
        "campaign_id,channel,day,touch_type,touches,cost_micros,conversions,value_micros
c1,display,2026-03-01,impression,3,3000000,0,0
c1,display,2026-03-01,viewable_impression,1,1000000,0,0
c1,display,2026-03-01,click,1,500000,0,0
c1,display,2026-03-01,,0,0,1,1000000000
c2,paid_search,2026-03-02,visit,5,0,0,0
";

    #[test]
    fn hand_computed_figures() {
        let df = campaign_performance(CSV.as_bytes()).unwrap();
        assert_eq!(df.height(), 2);
        let row = |name: &str| df.column(name).unwrap().get(0).unwrap().to_string();
        assert_eq!(row("impressions"), "4");
        assert_eq!(row("viewable_impressions"), "1");
        assert_eq!(row("viewability_pct"), "25.0");
        assert_eq!(row("clicks"), "1");
        assert_eq!(row("ctr"), "0.25");
        // Cost 4.5 over 4 impressions: CPM 1125; over 1 viewable: vCPM 4500; CPC 4.5; CPA 4.5.
        assert_eq!(row("cost"), "\"4.5\"");
        assert_eq!(row("cpm"), "\"1125\"");
        assert_eq!(row("vcpm"), "\"4500\"");
        assert_eq!(row("cpc"), "\"4.5\"");
        assert_eq!(row("cpa"), "\"4.5\"");
        assert_eq!(row("conversion_value"), "\"1000\"");
        let second = |name: &str| df.column(name).unwrap().get(1).unwrap().to_string();
        assert_eq!(second("ctr"), "null");
        assert_eq!(second("cpm"), "null");
        assert_eq!(second("cpa"), "null");
        assert_eq!(second("cost"), "\"0\"");
    }
}
