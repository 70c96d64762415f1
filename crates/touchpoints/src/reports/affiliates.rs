//! The affiliate report: leads referred, conversions in the cookie window, commission under
//! the affiliate's model and the clawback of deals lost after they were counted.

use std::collections::BTreeMap;

use polars::prelude::*;
use rust_decimal::Decimal;

use super::{ints, money, read_csv};
use crate::domain::affiliate::{AffiliateFigures, AffiliateTerms, DEFAULT_COOKIE_WINDOW_DAYS};

/// Per affiliate, from the store's `affiliates_sql` export: `affiliate_id`, `leads`,
/// `conversions`, `value_micros`, `clawed_back_conversions`, `clawed_back_micros`.
pub fn affiliate_figures(csv: &[u8]) -> PolarsResult<DataFrame> {
    let raw = read_csv(
        csv,
        &[
            ("kind", DataType::String),
            ("affiliate_id", DataType::String),
            ("value_micros", DataType::Int64),
            ("clawed_back", DataType::Int64),
        ],
    )?;
    let is = |k: &str| col("kind").eq(lit(k)).cast(DataType::Int64);
    raw.lazy()
        .group_by([col("affiliate_id")])
        .agg([
            is("lead").sum().alias("leads"),
            is("conversion").sum().alias("conversions"),
            col("value_micros").sum().alias("value_micros"),
            col("clawed_back").sum().alias("clawed_back_conversions"),
            (col("value_micros") * col("clawed_back"))
                .sum()
                .alias("clawed_back_micros"),
        ])
        .sort(["affiliate_id"], SortMultipleOptions::default())
        .collect()
}

/// One row per affiliate that has terms or activity, sorted by id. Affiliates without terms
/// show their figures with null commission.
pub fn affiliates_report(
    figures: &DataFrame,
    terms: &[(String, AffiliateTerms)],
) -> PolarsResult<DataFrame> {
    let mut by_id: BTreeMap<String, (Option<&AffiliateTerms>, AffiliateFigures)> = terms
        .iter()
        .map(|(id, t)| (id.clone(), (Some(t), AffiliateFigures::default())))
        .collect();
    let ids = figures.column("affiliate_id")?.str()?.clone();
    let leads = ints(figures, "leads")?;
    let conversions = ints(figures, "conversions")?;
    let value = ints(figures, "value_micros")?;
    let clawed = ints(figures, "clawed_back_conversions")?;
    let clawed_value = ints(figures, "clawed_back_micros")?;
    for (i, id) in ids.iter().enumerate() {
        let Some(id) = id else { continue };
        let entry = by_id
            .entry(id.to_string())
            .or_insert((None, AffiliateFigures::default()));
        entry.1 = AffiliateFigures {
            leads: leads[i],
            conversions: conversions[i],
            conversion_value: money(value[i]),
            clawed_back_conversions: clawed[i],
            clawed_back_value: money(clawed_value[i]),
        };
    }
    let mut c: Vec<Vec<Option<String>>> = vec![Vec::new(); 9];
    let mut numbers: Vec<Vec<i64>> = vec![Vec::new(); 4];
    for (id, (terms, f)) in &by_id {
        let commission = terms.map(|t| t.commission(f));
        let s = |d: Decimal| Some(d.to_string());
        c[0].push(Some(id.clone()));
        c[1].push(terms.and_then(|t| t.name.clone()));
        c[2].push(terms.map(|t| t.model_name().to_string()));
        c[3].push(s(f.conversion_value));
        c[4].push(commission.as_ref().and_then(|x| s(x.gross)));
        c[5].push(commission.as_ref().and_then(|x| s(x.clawback)));
        c[6].push(commission.as_ref().and_then(|x| s(x.net)));
        c[7].push(terms.map(|t| t.currency.to_string()));
        c[8].push(s(f.clawed_back_value));
        numbers[0].push(terms.map_or(DEFAULT_COOKIE_WINDOW_DAYS, |t| t.cookie_window_days) as i64);
        numbers[1].push(f.leads);
        numbers[2].push(f.conversions);
        numbers[3].push(f.clawed_back_conversions);
    }
    let text = |name: &str, i: usize| Column::new(name.into(), c[i].clone());
    let int = |name: &str, i: usize| Column::new(name.into(), numbers[i].clone());
    DataFrame::new(
        by_id.len(),
        vec![
            text("affiliate_id", 0),
            text("name", 1),
            text("model", 2),
            int("cookie_window_days", 0),
            int("leads", 1),
            int("conversions", 2),
            text("conversion_value", 3),
            text("commission", 4),
            int("clawed_back_conversions", 3),
            text("clawed_back_value", 8),
            text("clawback", 5),
            text("net_commission", 6),
            text("currency", 7),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "kind,affiliate_id,value_micros,clawed_back
lead,a1,0,0
lead,a1,0,0
conversion,a1,1000000000,0
conversion,a1,500000000,1
lead,a2,0,0
";

    #[test]
    fn figures_and_commission_by_hand() {
        let f = affiliate_figures(CSV.as_bytes()).unwrap();
        let terms = AffiliateTerms::parse(crate::domain::AffiliateDraft {
            model: "revenue_share".into(),
            revenue_share_percent: Some(Decimal::TEN),
            currency: "EUR".into(),
            ..Default::default()
        })
        .unwrap();
        let df = affiliates_report(&f, &[("a1".into(), terms)]).unwrap();
        assert_eq!(df.height(), 2);
        let get = |name: &str, row: usize| df.column(name).unwrap().get(row).unwrap().to_string();
        assert_eq!(get("leads", 0), "2");
        assert_eq!(get("conversions", 0), "2");
        assert_eq!(get("conversion_value", 0), "\"1500\"");
        // 10% of 1500 = 150; clawback 10% of 500 = 50.
        assert_eq!(get("commission", 0), "\"150\"");
        assert_eq!(get("clawback", 0), "\"50\"");
        assert_eq!(get("net_commission", 0), "\"100\"");
        assert_eq!(get("leads", 1), "1");
        assert_eq!(get("commission", 1), "null");
        assert_eq!(get("cookie_window_days", 1), "30");
    }
}
