//! Reports (polars): campaign profitability built from the live-tracking figures; the API
//! serves the frame as JSON, CSV or Parquet (`platform::reports::serve`). Pure: rows in,
//! frame out.

use polars::prelude::*;

/// One campaign's figures, as strings for exact decimals (`None` where unknown).
#[derive(Debug, Clone, Default)]
pub struct ProfitabilityRow {
    pub campaign_id: String,
    pub name: Option<String>,
    pub defined: bool,
    pub currency: Option<String>,
    pub budget: Option<String>,
    pub spend: String,
    pub attributed_revenue: String,
    pub contribution: Option<String>,
    /// Contribution − spend.
    pub profit: Option<String>,
    pub roas: Option<String>,
    pub breakeven_roas: Option<String>,
    pub progress_percent: Option<String>,
    pub breakeven_reached: bool,
    pub at_risk: bool,
    pub projected_breakeven_date: Option<String>,
}

/// The campaign profitability frame: one row per campaign id, defined campaigns first,
/// then by id. Money stays decimal text so that no reader rounds it through a float.
pub fn campaign_profitability(rows: &[ProfitabilityRow]) -> PolarsResult<DataFrame> {
    let s = |f: fn(&ProfitabilityRow) -> Option<&str>| -> Vec<Option<&str>> {
        rows.iter().map(f).collect()
    };
    let df = df! {
        "campaign_id" => rows.iter().map(|r| r.campaign_id.as_str()).collect::<Vec<_>>(),
        "name" => s(|r| r.name.as_deref()),
        "defined" => rows.iter().map(|r| r.defined).collect::<Vec<_>>(),
        "currency" => s(|r| r.currency.as_deref()),
        "budget" => s(|r| r.budget.as_deref()),
        "spend" => s(|r| Some(r.spend.as_str())),
        "attributed_revenue" => s(|r| Some(r.attributed_revenue.as_str())),
        "contribution" => s(|r| r.contribution.as_deref()),
        "profit" => s(|r| r.profit.as_deref()),
        "roas" => s(|r| r.roas.as_deref()),
        "breakeven_roas" => s(|r| r.breakeven_roas.as_deref()),
        "progress_percent" => s(|r| r.progress_percent.as_deref()),
        "breakeven_reached" => rows.iter().map(|r| r.breakeven_reached).collect::<Vec<_>>(),
        "at_risk" => rows.iter().map(|r| r.at_risk).collect::<Vec<_>>(),
        "projected_breakeven_date" => s(|r| r.projected_breakeven_date.as_deref()),
    }?;
    df.lazy()
        .sort_by_exprs(
            [col("defined"), col("campaign_id")],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defined_campaigns_first_then_by_id() {
        let rows = [
            ProfitabilityRow {
                campaign_id: "z".into(),
                defined: true,
                spend: "10".into(),
                attributed_revenue: "30".into(),
                ..Default::default()
            },
            ProfitabilityRow {
                campaign_id: "a".into(),
                spend: "5".into(),
                attributed_revenue: "0".into(),
                ..Default::default()
            },
            ProfitabilityRow {
                campaign_id: "b".into(),
                defined: true,
                spend: "1".into(),
                attributed_revenue: "0".into(),
                ..Default::default()
            },
        ];
        let df = campaign_profitability(&rows).unwrap();
        let ids: Vec<&str> = df
            .column("campaign_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap_or_default())
            .collect();
        assert_eq!(ids, ["b", "z", "a"]);
        assert_eq!(df.width(), 15);
    }
}
