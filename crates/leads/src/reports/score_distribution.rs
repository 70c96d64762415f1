//! Score distribution: histograms of fit and engagement, and the grade matrix (fit band × engagement level).

use polars::prelude::*;

use super::Window;

const SCORES: [&str; 2] = ["fit", "engagement"];
const FIT_BANDS: [&str; 3] = ["A", "B", "C"];
const ENGAGEMENT_LEVELS: [&str; 3] = ["1", "2", "3"];

/// How close, in bucket widths, a score must be to the next edge to count as on it. Decimal
/// widths are inexact in binary (0.3 / 0.1 = 2.9999999999999996), and a score a person reads as
/// exactly on an edge must land in the upper bucket.
const EDGE_TOLERANCE: f64 = 1e-9;

/// Returns `(histogram, grade_matrix)` for the leads created in `window`.
///
/// `histogram` has one row per non-empty bucket, the `fit` rows then the `engagement` rows, each
/// by ascending bucket: `score` (str), `bucket_from`, `bucket_to` (f64, the half-open
/// `[from, to)` of width `bucket_width`, aligned on 0), `leads` (u32). Null and NaN scores are
/// not counted.
///
/// `grade_matrix` always has the three rows `A`, `B`, `C` in `fit_band` (str), and one u32
/// count column per engagement level, `engagement_1`, `engagement_2` and `engagement_3`; a grade outside A–C × 1–3 is not counted.
///
/// `bucket_width` must be finite and positive.
pub fn score_distribution(
    leads: &DataFrame,
    window: Window,
    bucket_width: f64,
) -> PolarsResult<(DataFrame, DataFrame)> {
    if !(bucket_width.is_finite() && bucket_width > 0.0) {
        polars_bail!(InvalidOperation: "bucket width must be a positive number, got {bucket_width}");
    }
    let in_window = window.apply(leads);

    let mut histogram = DataFrame::empty();
    for score in SCORES {
        let part = histogram_of(in_window.clone(), score, bucket_width)?;
        if histogram.width() == 0 {
            histogram = part;
        } else {
            histogram.vstack_mut_owned(part)?;
        }
    }
    Ok((histogram, grade_matrix(in_window)?))
}

fn histogram_of(leads: LazyFrame, score: &str, width: f64) -> PolarsResult<DataFrame> {
    // Truncation is floor only for non-negative quotients, hence the correction step.
    let truncated = col("quotient").cast(DataType::Int64);
    let floor = when(
        truncated
            .clone()
            .cast(DataType::Float64)
            .gt(col("quotient")),
    )
    .then(truncated.clone() - lit(1i64))
    .otherwise(truncated);
    let next = col("floor") + lit(1i64);
    let bucket =
        when((next.clone().cast(DataType::Float64) - col("quotient")).lt_eq(lit(EDGE_TOLERANCE)))
            .then(next)
            .otherwise(col("floor"));
    let edge = |offset: i64| (col("bucket") + lit(offset)).cast(DataType::Float64) * lit(width);

    leads
        .select([col(score).cast(DataType::Float64).alias("value")])
        .filter(col("value").is_not_null().and(col("value").is_not_nan()))
        .select([(col("value") / lit(width)).alias("quotient")])
        .with_columns([floor.alias("floor")])
        .select([bucket.alias("bucket")])
        // A quotient beyond i64 casts to null; such a score has no meaningful bucket.
        .filter(col("bucket").is_not_null())
        .group_by([col("bucket")])
        .agg([len().alias("leads")])
        .sort(["bucket"], SortMultipleOptions::default())
        .select([
            lit(score).alias("score"),
            edge(0).alias("bucket_from"),
            edge(1).alias("bucket_to"),
            col("leads"),
        ])
        .collect()
}

fn grade_matrix(leads: LazyFrame) -> PolarsResult<DataFrame> {
    let grade = |band: &str, level: &str| format!("{band}{level}");
    let counts = leads
        .select(
            FIT_BANDS
                .iter()
                .flat_map(|band| {
                    ENGAGEMENT_LEVELS
                        .iter()
                        .map(move |level| grade(band, level))
                })
                .map(|g| {
                    col("grade")
                        .eq(lit(g.as_str()))
                        .sum()
                        .cast(DataType::UInt32)
                        .alias(g.as_str())
                })
                .collect::<Vec<_>>(),
        )
        .collect()?;

    let mut columns = vec![Column::new("fit_band".into(), FIT_BANDS)];
    for level in ENGAGEMENT_LEVELS {
        let per_band = FIT_BANDS
            .iter()
            .map(|band| {
                Ok(counts
                    .column(&grade(band, level))?
                    .u32()?
                    .get(0)
                    .unwrap_or(0))
            })
            .collect::<PolarsResult<Vec<u32>>>()?;
        // SQL-safe: a column name may not start with a digit.
        columns.push(Column::new(format!("engagement_{level}").into(), per_band));
    }
    DataFrame::new(FIT_BANDS.len(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::fixtures::{LEADS_CSV, at, column_names};
    use crate::reports::leads_frame;

    fn histogram_rows(histogram: &DataFrame) -> Vec<(String, f64, f64, u32)> {
        let score = histogram.column("score").unwrap().str().unwrap();
        let from = histogram.column("bucket_from").unwrap().f64().unwrap();
        let to = histogram.column("bucket_to").unwrap().f64().unwrap();
        let leads = histogram.column("leads").unwrap().u32().unwrap();
        (0..histogram.height())
            .map(|i| {
                (
                    score.get(i).unwrap().to_owned(),
                    from.get(i).unwrap(),
                    to.get(i).unwrap(),
                    leads.get(i).unwrap(),
                )
            })
            .collect()
    }

    fn matrix_rows(matrix: &DataFrame) -> Vec<(String, [u32; 3])> {
        let names = column_names(matrix);
        assert_eq!(
            names,
            ["fit_band", "engagement_1", "engagement_2", "engagement_3"]
        );
        let band = matrix.column("fit_band").unwrap().str().unwrap();
        let count = |level: &str, i| {
            matrix
                .column(&format!("engagement_{level}"))
                .unwrap()
                .u32()
                .unwrap()
                .get(i)
                .unwrap()
        };
        (0..matrix.height())
            .map(|i| {
                (
                    band.get(i).unwrap().to_owned(),
                    [count("1", i), count("2", i), count("3", i)],
                )
            })
            .collect()
    }

    fn row(score: &str, from: f64, to: f64, leads: u32) -> (String, f64, f64, u32) {
        (score.to_owned(), from, to, leads)
    }

    #[test]
    fn histograms_put_a_score_on_an_edge_in_the_upper_bucket() {
        let leads = leads_frame(LEADS_CSV.as_bytes()).unwrap();
        let (histogram, _) = score_distribution(&leads, Window::default(), 25.0).unwrap();
        assert_eq!(
            histogram_rows(&histogram),
            [
                // fit 20, 10 | 40, 30 | 60, 70, 50 (edge) | 80, 90 | 100 (edge).
                row("fit", 0.0, 25.0, 2),
                row("fit", 25.0, 50.0, 2),
                row("fit", 50.0, 75.0, 3),
                row("fit", 75.0, 100.0, 2),
                row("fit", 100.0, 125.0, 1),
                // engagement 10, 20, 0 (edge) | 30, 40 | 60, 50 (edge), 70 | 80, 90; no 100+.
                row("engagement", 0.0, 25.0, 3),
                row("engagement", 25.0, 50.0, 2),
                row("engagement", 50.0, 75.0, 3),
                row("engagement", 75.0, 100.0, 2),
            ]
        );
    }

    #[test]
    fn histograms_respect_the_window_and_skip_empty_buckets() {
        let leads = leads_frame(LEADS_CSV.as_bytes()).unwrap();
        // [d3, d5): L4 (fit 90, engagement 80) and L5 (fit 20, engagement 50).
        let window = Window {
            from: Some(at(3)),
            to: Some(at(5)),
        };
        let (histogram, _) = score_distribution(&leads, window, 25.0).unwrap();
        assert_eq!(
            histogram_rows(&histogram),
            [
                row("fit", 0.0, 25.0, 1),
                row("fit", 75.0, 100.0, 1),
                row("engagement", 50.0, 75.0, 1),
                row("engagement", 75.0, 100.0, 1),
            ]
        );
    }

    #[test]
    fn a_decimal_edge_goes_to_the_upper_bucket() {
        let csv = "id,source,campaign_id,account_id,created_at,fit,engagement,grade,mql_at,sql_at,customer_at\n\
                   a,web,,,0,0.3,0.29,A1,,,\n";
        let leads = leads_frame(csv.as_bytes()).unwrap();
        let (histogram, _) = score_distribution(&leads, Window::default(), 0.1).unwrap();
        let rows = histogram_rows(&histogram);
        assert_eq!(rows.len(), 2);
        // fit 0.3 is on the 0.3 edge: [0.3, 0.4), although 0.3 / 0.1 < 3 in binary.
        assert_eq!(rows[0].0, "fit");
        assert!(
            (rows[0].1 - 0.3).abs() < 1e-12 && (rows[0].2 - 0.4).abs() < 1e-12,
            "{rows:?}"
        );
        // engagement 0.29 is inside [0.2, 0.3).
        assert_eq!(rows[1].0, "engagement");
        assert!(
            (rows[1].1 - 0.2).abs() < 1e-12 && (rows[1].2 - 0.3).abs() < 1e-12,
            "{rows:?}"
        );
    }

    #[test]
    fn a_bad_bucket_width_is_an_error() {
        let leads = leads_frame(LEADS_CSV.as_bytes()).unwrap();
        for width in [0.0, -5.0, f64::NAN, f64::INFINITY] {
            assert!(
                score_distribution(&leads, Window::default(), width).is_err(),
                "{width}"
            );
        }
    }

    #[test]
    fn grade_matrix_counts_every_grade() {
        let leads = leads_frame(LEADS_CSV.as_bytes()).unwrap();
        let (_, matrix) = score_distribution(&leads, Window::default(), 10.0).unwrap();
        assert_eq!(
            matrix_rows(&matrix),
            [
                // A1: L1, L4, L9.
                ("A".to_owned(), [3, 0, 0]),
                // B1: L7, B2: L2, B3: L6.
                ("B".to_owned(), [1, 1, 1]),
                // C2: L5, L8; C3: L3, L10.
                ("C".to_owned(), [0, 2, 2]),
            ]
        );
    }

    #[test]
    fn grade_matrix_keeps_bands_without_leads() {
        let leads = leads_frame(LEADS_CSV.as_bytes()).unwrap();
        // [d3, d4): only L4, an A1.
        let window = Window {
            from: Some(at(3)),
            to: Some(at(4)),
        };
        let (_, matrix) = score_distribution(&leads, window, 10.0).unwrap();
        assert_eq!(
            matrix_rows(&matrix),
            [
                ("A".to_owned(), [1, 0, 0]),
                ("B".to_owned(), [0, 0, 0]),
                ("C".to_owned(), [0, 0, 0]),
            ]
        );
    }

    #[test]
    fn an_empty_window_gives_an_empty_histogram_and_a_zero_matrix() {
        let leads = leads_frame(LEADS_CSV.as_bytes()).unwrap();
        let window = Window {
            from: None,
            to: Some(at(0)),
        };
        let (histogram, matrix) = score_distribution(&leads, window, 10.0).unwrap();
        assert_eq!(histogram.shape(), (0, 4));
        let zero = [0, 0, 0];
        assert_eq!(
            matrix_rows(&matrix),
            [
                ("A".to_owned(), zero),
                ("B".to_owned(), zero),
                ("C".to_owned(), zero)
            ]
        );
    }
}
