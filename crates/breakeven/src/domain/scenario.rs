//! Comparing two scenarios' results: every figure present in either, side by side with
//! the difference and the relative change.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

use super::cvp::present;

/// One figure of the comparison, named by its JSON path in the results (`breakeven.units`,
/// `sales_mix.products[1].units`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureDiff {
    pub path: String,
    pub base: Option<Decimal>,
    pub other: Option<Decimal>,
    /// other − base, when both are present.
    pub difference: Option<Decimal>,
    /// (other − base) / |base| × 100 (2 places), when both are present and base is not
    /// zero.
    pub change_percent: Option<Decimal>,
}

/// Every decimal-valued leaf of `results`, by path. The sensitivity grid is left out: it
/// is compared cell by cell by nobody.
pub fn figures(results: &Value) -> BTreeMap<String, Decimal> {
    let mut out = BTreeMap::new();
    walk(results, String::new(), &mut out);
    out
}

fn walk(v: &Value, path: String, out: &mut BTreeMap<String, Decimal>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if path.is_empty() && k == "sensitivity" {
                    continue;
                }
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(v, p, out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                walk(v, format!("{path}[{i}]"), out);
            }
        }
        Value::String(s) => {
            if let Ok(d) = Decimal::from_str(s) {
                out.insert(path, d);
            }
        }
        _ => {}
    }
}

pub fn compare(base: &Value, other: &Value) -> Vec<FigureDiff> {
    let a = figures(base);
    let b = figures(other);
    let mut paths: Vec<&String> = a.keys().chain(b.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .map(|p| {
            let (x, y) = (a.get(p).copied(), b.get(p).copied());
            let difference = match (x, y) {
                (Some(x), Some(y)) => y.checked_sub(x),
                _ => None,
            };
            let change_percent = match (x, difference) {
                (Some(x), Some(d)) if !x.is_zero() => d
                    .checked_div(x.abs())
                    .and_then(|r| r.checked_mul(Decimal::ONE_HUNDRED))
                    .map(present::percent),
                _ => None,
            };
            FigureDiff {
                path: p.clone(),
                base: x,
                other: y,
                difference,
                change_percent,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compares_leaf_figures() {
        let a = json!({"currency": "USD", "breakeven": {"units": "450", "revenue": "45000.00"},
                       "sensitivity": {"units": [["1"]]}});
        let b = json!({"currency": "USD", "breakeven": {"units": "400", "revenue": "48000.00"},
                       "target_profit": {"units": "700"}});
        let d = compare(&a, &b);
        let paths: Vec<&str> = d.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "breakeven.revenue",
                "breakeven.units",
                "target_profit.units"
            ]
        );
        assert_eq!(d[1].difference, Some(Decimal::from(-50)));
        assert_eq!(d[1].change_percent, Some(Decimal::new(-1111, 2)));
        assert_eq!(d[2].base, None);
    }
}
