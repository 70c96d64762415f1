//! Account-based marketing engagement: how engaged each target account is, relative to the others.

use polars::prelude::*;

/// The ABM tiers an account may have, as the store writes them.
pub const ABM_TIERS: [&str; 4] = ["one_to_one", "one_to_few", "one_to_many", "none"];

/// One row per target account, restricted to the accounts of tier `tier` when given. Columns:
///
/// `account_id`, `name`, `abm_tier` (str), `engaged_leads` (i64), `engagement_score` (f64,
/// `100 × engagement / max engagement` over the rows of this report, 0 when that maximum is not
/// positive), `trend_30d` (f64, `engagement − engagement_30d_ago`), `buying_stage` (str).
/// Sorted by `engagement_score` descending, then `name`. A missing engagement counts as 0.
///
/// The filter is on exactly one tier; a tier not in [`ABM_TIERS`] is an error rather than an
/// empty report.
pub fn abm_engagement(accounts: &DataFrame, tier: Option<&str>) -> PolarsResult<DataFrame> {
    let mut targets = accounts.clone().lazy().filter(col("target"));
    if let Some(tier) = tier {
        if !ABM_TIERS.contains(&tier) {
            polars_bail!(InvalidOperation: "unknown ABM tier {tier:?}; expected one of {}", ABM_TIERS.join(", "));
        }
        targets = targets.filter(col("abm_tier").eq(lit(tier)));
    }
    let targets = targets
        .with_columns([col("engagement")
            .cast(DataType::Float64)
            .fill_null(lit(0.0))
            .alias("engagement")])
        .collect()?;
    // The maximum is taken eagerly: in polars 0.55 `when(x.max() > 0).then(x / x.max())` panics
    // inside the engine ("height of column '__POLARS_CSER_…' (0) does not match").
    let max = targets.column("engagement")?.f64()?.max().unwrap_or(0.0);
    let score = if max > 0.0 {
        lit(100.0) * col("engagement") / lit(max)
    } else {
        lit(0.0)
    };
    targets
        .lazy()
        .select([
            col("id").alias("account_id"),
            col("name"),
            col("abm_tier"),
            col("engaged_leads").cast(DataType::Int64),
            score.alias("engagement_score"),
            (col("engagement") - col("engagement_30d_ago").cast(DataType::Float64))
                .alias("trend_30d"),
            col("buying_stage"),
        ])
        .sort(
            ["engagement_score", "name"],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, false])
                .with_nulls_last(true),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::accounts_frame;
    use crate::reports::fixtures::{ACCOUNTS_CSV, column_names};

    /// (name, tier, engaged_leads, engagement_score, trend_30d, buying_stage)
    type Row = (String, String, i64, f64, f64, String);

    fn rows(report: &DataFrame) -> Vec<Row> {
        let names = column_names(report);
        assert_eq!(
            names,
            [
                "account_id",
                "name",
                "abm_tier",
                "engaged_leads",
                "engagement_score",
                "trend_30d",
                "buying_stage"
            ]
        );
        let text = |c: &str, i| {
            report
                .column(c)
                .unwrap()
                .str()
                .unwrap()
                .get(i)
                .unwrap()
                .to_owned()
        };
        let float = |c: &str, i| report.column(c).unwrap().f64().unwrap().get(i).unwrap();
        (0..report.height())
            .map(|i| {
                (
                    text("name", i),
                    text("abm_tier", i),
                    report
                        .column("engaged_leads")
                        .unwrap()
                        .i64()
                        .unwrap()
                        .get(i)
                        .unwrap(),
                    float("engagement_score", i),
                    float("trend_30d", i),
                    text("buying_stage", i),
                )
            })
            .collect()
    }

    fn row(name: &str, tier: &str, leads: i64, score: f64, trend: f64, stage: &str) -> Row {
        (name.into(), tier.into(), leads, score, trend, stage.into())
    }

    #[test]
    fn normalises_target_accounts_to_the_most_engaged() {
        let accounts = accounts_frame(ACCOUNTS_CSV.as_bytes()).unwrap();
        let report = abm_engagement(&accounts, None).unwrap();
        // Targets: Acme 200, Globex 50, Umbrella 100, Contoso 0, Betamax 100. Initech (500) is not
        // a target, so the maximum is Acme's 200. Betamax and Umbrella tie at 50: by name.
        assert_eq!(
            rows(&report),
            [
                // 200 - 150 = 50
                row("Acme", "one_to_one", 5, 100.0, 50.0, "decision"),
                // 100 - 0 = 100
                row("Betamax", "one_to_one", 1, 50.0, 100.0, "awareness"),
                // 100 - 100 = 0
                row("Umbrella", "one_to_one", 4, 50.0, 0.0, "consideration"),
                // 100 × 50 / 200 = 25; 50 - 80 = -30
                row("Globex", "one_to_few", 3, 25.0, -30.0, "awareness"),
                // 0 - 10 = -10
                row("Contoso", "none", 0, 0.0, -10.0, "awareness"),
            ]
        );
        let ids = report.column("account_id").unwrap().str().unwrap();
        assert_eq!(ids.get(0), Some("a1"));
    }

    #[test]
    fn a_tier_filter_renormalises_within_the_tier() {
        let accounts = accounts_frame(ACCOUNTS_CSV.as_bytes()).unwrap();
        // one_to_few targets: Globex only (Hooli is not a target), so Globex is the maximum.
        let report = abm_engagement(&accounts, Some("one_to_few")).unwrap();
        assert_eq!(
            rows(&report),
            [row("Globex", "one_to_few", 3, 100.0, -30.0, "awareness")]
        );
        let report = abm_engagement(&accounts, Some("one_to_one")).unwrap();
        assert_eq!(
            rows(&report),
            [
                row("Acme", "one_to_one", 5, 100.0, 50.0, "decision"),
                row("Betamax", "one_to_one", 1, 50.0, 100.0, "awareness"),
                row("Umbrella", "one_to_one", 4, 50.0, 0.0, "consideration"),
            ]
        );
    }

    #[test]
    fn a_zero_maximum_scores_zero_not_nan() {
        let accounts = accounts_frame(ACCOUNTS_CSV.as_bytes()).unwrap();
        // Tier "none": Contoso alone, with engagement 0.
        let report = abm_engagement(&accounts, Some("none")).unwrap();
        assert_eq!(
            rows(&report),
            [row("Contoso", "none", 0, 0.0, -10.0, "awareness")]
        );
    }

    #[test]
    fn a_tier_with_no_target_accounts_is_empty() {
        let accounts = accounts_frame(ACCOUNTS_CSV.as_bytes()).unwrap();
        // Initech is the only one_to_many account and it is not a target.
        let report = abm_engagement(&accounts, Some("one_to_many")).unwrap();
        assert_eq!(report.shape(), (0, 7));
    }

    #[test]
    fn an_unknown_tier_is_an_error() {
        let accounts = accounts_frame(ACCOUNTS_CSV.as_bytes()).unwrap();
        let err = abm_engagement(&accounts, Some("one_to_all")).unwrap_err();
        assert!(err.to_string().contains("one_to_one"), "{err}");
    }
}
