//! Lead quality by source and by campaign: volume, mean scores, stage conversion and speed to mql.

use polars::prelude::*;

use super::Window;

const MICROS_PER_DAY: f64 = 86_400_000_000.0;

/// The value under which leads without a campaign are grouped.
const NO_CAMPAIGN: &str = "(none)";

/// One row per (dimension, value): the `source` rows first, then the `campaign` rows, each block
/// sorted by value. Columns:
///
/// `dimension` (str), `value` (str), `leads` (u32), `mean_fit`, `mean_engagement`, `mql_rate`,
/// `sql_rate`, `customer_rate` (f64: share of the group's leads whose stage timestamp is set),
/// `median_days_to_mql` (f64 over the leads that reached mql; null when none did).
pub fn lead_quality(leads: &DataFrame, window: Window) -> PolarsResult<DataFrame> {
    let in_window = window.apply(leads);
    let mut report = by_dimension(in_window.clone(), "source", col("source"))?;
    let campaign = col("campaign_id").fill_null(lit(NO_CAMPAIGN));
    report.vstack_mut_owned(by_dimension(in_window, "campaign", campaign)?)?;
    Ok(report)
}

fn by_dimension(leads: LazyFrame, dimension: &str, value: Expr) -> PolarsResult<DataFrame> {
    let rate = |stage: &str| col(stage).is_not_null().cast(DataType::Float64).mean();
    let days_to_mql = (col("mql_at").cast(DataType::Int64)
        - col("created_at").cast(DataType::Int64))
    .cast(DataType::Float64)
        / lit(MICROS_PER_DAY);
    leads
        .group_by([value.alias("value")])
        .agg([
            len().alias("leads"),
            col("fit").mean().alias("mean_fit"),
            col("engagement").mean().alias("mean_engagement"),
            rate("mql_at").alias("mql_rate"),
            rate("sql_at").alias("sql_rate"),
            rate("customer_at").alias("customer_rate"),
            days_to_mql.median().alias("median_days_to_mql"),
        ])
        .select([
            lit(dimension).alias("dimension"),
            col("value"),
            col("leads"),
            col("mean_fit").cast(DataType::Float64),
            col("mean_engagement").cast(DataType::Float64),
            col("mql_rate").cast(DataType::Float64),
            col("sql_rate").cast(DataType::Float64),
            col("customer_rate").cast(DataType::Float64),
            col("median_days_to_mql").cast(DataType::Float64),
        ])
        .sort(["value"], SortMultipleOptions::default())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::fixtures::{LEADS_CSV, at, column_names};
    use crate::reports::leads_frame;

    /// One expected report row, written out by hand from the fixture table.
    struct Row {
        dimension: &'static str,
        value: &'static str,
        leads: u32,
        mean_fit: f64,
        mean_engagement: f64,
        mql_rate: f64,
        sql_rate: f64,
        customer_rate: f64,
        median_days_to_mql: Option<f64>,
    }

    /// L4, L5, L6: fit (90+20+70)/3 = 60, engagement (80+50+20)/3 = 50, mql L4 L6 = 2/3,
    /// sql L4 = 1/3, no customer, days to mql 1 and 6.5 -> 3.75. Created in [d1, d10).
    const PAID_SEARCH: Row = Row {
        dimension: "source",
        value: "paid_search",
        leads: 3,
        mean_fit: 60.0,
        mean_engagement: 50.0,
        mql_rate: 2.0 / 3.0,
        sql_rate: 1.0 / 3.0,
        customer_rate: 0.0,
        median_days_to_mql: Some(3.75),
    };

    /// L7, L8, L9: fit (50+30+100)/3 = 60, engagement (90+40+70)/3 = 66.67, mql L7 L9 = 2/3,
    /// sql L7 = 1/3, customer L7 = 1/3, days 3 and 2 -> 2.5. Created in [d1, d10).
    const REFERRAL: Row = Row {
        dimension: "source",
        value: "referral",
        leads: 3,
        mean_fit: 60.0,
        mean_engagement: 200.0 / 3.0,
        mql_rate: 2.0 / 3.0,
        sql_rate: 1.0 / 3.0,
        customer_rate: 1.0 / 3.0,
        median_days_to_mql: Some(2.5),
    };

    /// L3, L6 (quoted empty), L8: fit (40+70+30)/3 = 46.67, engagement (10+20+40)/3 = 23.33,
    /// mql L6 = 1/3, days 6.5. Created in [d1, d10).
    const NO_CAMPAIGN: Row = Row {
        dimension: "campaign",
        value: "(none)",
        leads: 3,
        mean_fit: 140.0 / 3.0,
        mean_engagement: 70.0 / 3.0,
        mql_rate: 1.0 / 3.0,
        sql_rate: 0.0,
        customer_rate: 0.0,
        median_days_to_mql: Some(6.5),
    };

    /// The report over the fixture leads created in [from, to) (fixture days; `None` is
    /// unbounded).
    fn report(from: Option<i64>, to: Option<i64>) -> DataFrame {
        let leads = leads_frame(LEADS_CSV.as_bytes()).unwrap();
        let window = Window {
            from: from.map(at),
            to: to.map(at),
        };
        lead_quality(&leads, window).unwrap()
    }

    fn assert_report(report: &DataFrame, expected: &[Row]) {
        let names = column_names(report);
        assert_eq!(
            names,
            [
                "dimension",
                "value",
                "leads",
                "mean_fit",
                "mean_engagement",
                "mql_rate",
                "sql_rate",
                "customer_rate",
                "median_days_to_mql"
            ]
        );
        assert_eq!(report.height(), expected.len(), "{report}");
        let text = |name: &str| report.column(name).unwrap().str().unwrap().clone();
        let float = |name: &str| report.column(name).unwrap().f64().unwrap().clone();
        let (dimension, value) = (text("dimension"), text("value"));
        let leads = report.column("leads").unwrap().u32().unwrap().clone();
        for (i, row) in expected.iter().enumerate() {
            let at = format!("row {i} ({} {})", row.dimension, row.value);
            assert_eq!(dimension.get(i), Some(row.dimension), "{at}");
            assert_eq!(value.get(i), Some(row.value), "{at}");
            assert_eq!(leads.get(i), Some(row.leads), "{at}");
            for (name, want) in [
                ("mean_fit", row.mean_fit),
                ("mean_engagement", row.mean_engagement),
                ("mql_rate", row.mql_rate),
                ("sql_rate", row.sql_rate),
                ("customer_rate", row.customer_rate),
            ] {
                let got = float(name).get(i).unwrap();
                assert!((got - want).abs() < 1e-9, "{at} {name}: {got} != {want}");
            }
            let got = float("median_days_to_mql").get(i);
            match (got, row.median_days_to_mql) {
                (Some(g), Some(w)) => assert!((g - w).abs() < 1e-9, "{at} median: {g} != {w}"),
                (g, w) => assert_eq!(g, w, "{at} median"),
            }
        }
    }

    #[test]
    fn whole_history_by_source_then_campaign() {
        assert_report(
            &report(None, None),
            &[
                PAID_SEARCH,
                REFERRAL,
                // L1, L2, L3, L10: fit (80+60+40+10)/4 = 47.5, engagement (60+30+10+0)/4 = 25,
                // mql L1 L2 = 0.5, sql L1 = 0.25, customer L1 = 0.25, days 2 and 4 -> 3.
                Row {
                    dimension: "source",
                    value: "webinar",
                    leads: 4,
                    mean_fit: 47.5,
                    mean_engagement: 25.0,
                    mql_rate: 0.5,
                    sql_rate: 0.25,
                    customer_rate: 0.25,
                    median_days_to_mql: Some(3.0),
                },
                NO_CAMPAIGN,
                // L1, L2, L7: fit (80+60+50)/3 = 63.33, engagement (60+30+90)/3 = 60,
                // mql all = 1, sql L1 L7 = 2/3, customer L1 L7 = 2/3, days 2, 4, 3 -> 3.
                Row {
                    dimension: "campaign",
                    value: "c1",
                    leads: 3,
                    mean_fit: 190.0 / 3.0,
                    mean_engagement: 60.0,
                    mql_rate: 1.0,
                    sql_rate: 2.0 / 3.0,
                    customer_rate: 2.0 / 3.0,
                    median_days_to_mql: Some(3.0),
                },
                // L4, L5, L9, L10: fit (90+20+100+10)/4 = 55, engagement (80+50+70+0)/4 = 50,
                // mql L4 L9 = 0.5, sql L4 = 0.25, no customer, days 1 and 2 -> 1.5.
                Row {
                    dimension: "campaign",
                    value: "c2",
                    leads: 4,
                    mean_fit: 55.0,
                    mean_engagement: 50.0,
                    mql_rate: 0.5,
                    sql_rate: 0.25,
                    customer_rate: 0.0,
                    median_days_to_mql: Some(1.5),
                },
            ],
        );
    }

    #[test]
    fn window_includes_from_and_excludes_to() {
        // [d1, d10): L2 created exactly at d1 is in, L10 created exactly at d10 is out, L1 (d0) out.
        assert_report(
            &report(Some(1), Some(10)),
            &[
                // Unchanged from the whole history.
                PAID_SEARCH,
                REFERRAL,
                // L2, L3: fit (60+40)/2 = 50, engagement (30+10)/2 = 20, mql L2 = 0.5, days 4.
                Row {
                    dimension: "source",
                    value: "webinar",
                    leads: 2,
                    mean_fit: 50.0,
                    mean_engagement: 20.0,
                    mql_rate: 0.5,
                    sql_rate: 0.0,
                    customer_rate: 0.0,
                    median_days_to_mql: Some(4.0),
                },
                // Unchanged.
                NO_CAMPAIGN,
                // L2, L7: fit (60+50)/2 = 55, engagement (30+90)/2 = 60, mql 1, sql L7 = 0.5,
                // customer L7 = 0.5, days 4 and 3 -> 3.5.
                Row {
                    dimension: "campaign",
                    value: "c1",
                    leads: 2,
                    mean_fit: 55.0,
                    mean_engagement: 60.0,
                    mql_rate: 1.0,
                    sql_rate: 0.5,
                    customer_rate: 0.5,
                    median_days_to_mql: Some(3.5),
                },
                // L4, L5, L9: fit (90+20+100)/3 = 70, engagement (80+50+70)/3 = 66.67,
                // mql L4 L9 = 2/3, sql L4 = 1/3, days 1 and 2 -> 1.5.
                Row {
                    dimension: "campaign",
                    value: "c2",
                    leads: 3,
                    mean_fit: 70.0,
                    mean_engagement: 200.0 / 3.0,
                    mql_rate: 2.0 / 3.0,
                    sql_rate: 1.0 / 3.0,
                    customer_rate: 0.0,
                    median_days_to_mql: Some(1.5),
                },
            ],
        );
    }

    #[test]
    fn median_days_is_null_when_no_lead_reached_mql() {
        // [d2, d3) holds only L3: webinar, no campaign, never an mql.
        let only_l3 = |dimension, value| Row {
            dimension,
            value,
            leads: 1,
            mean_fit: 40.0,
            mean_engagement: 10.0,
            mql_rate: 0.0,
            sql_rate: 0.0,
            customer_rate: 0.0,
            median_days_to_mql: None,
        };
        assert_report(
            &report(Some(2), Some(3)),
            &[only_l3("source", "webinar"), only_l3("campaign", "(none)")],
        );
    }

    #[test]
    fn an_empty_window_gives_an_empty_report_with_the_same_columns() {
        assert_report(&report(Some(100), None), &[]);
    }
}
