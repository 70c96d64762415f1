//! Typed frames built from the CSV the store exports with `COPY … TO STDOUT (FORMAT csv, HEADER)`.

use std::io::Cursor;

use polars::prelude::*;

/// The lead timestamps, exported as epoch microseconds and typed here as `Datetime(us, UTC)`.
const LEAD_TIMESTAMPS: [&str; 4] = ["created_at", "mql_at", "sql_at", "customer_at"];

/// Text spellings of a boolean that PostgreSQL (`t`/`f`) or a hand-written export may use.
const TRUE_SPELLINGS: [&str; 4] = ["t", "true", "T", "TRUE"];
const FALSE_SPELLINGS: [&str; 4] = ["f", "false", "F", "FALSE"];

/// Parses the leads export into a frame with these columns, in this order:
///
/// | column | dtype |
/// | --- | --- |
/// | `id`, `source`, `grade` | `String` |
/// | `campaign_id`, `account_id` | `String`, null when empty |
/// | `created_at`, `mql_at`, `sql_at`, `customer_at` | `Datetime(us, UTC)`, the stage ones null when empty |
/// | `fit`, `engagement` | `Float64` |
///
/// Columns are matched by header name, so the export's column order does not matter; a missing
/// column is an error.
pub fn leads_frame(csv: &[u8]) -> PolarsResult<DataFrame> {
    let schema = Schema::from_iter([
        Field::new("id".into(), DataType::String),
        Field::new("source".into(), DataType::String),
        Field::new("campaign_id".into(), DataType::String),
        Field::new("account_id".into(), DataType::String),
        Field::new("created_at".into(), DataType::Int64),
        Field::new("fit".into(), DataType::Float64),
        Field::new("engagement".into(), DataType::Float64),
        Field::new("grade".into(), DataType::String),
        Field::new("mql_at".into(), DataType::Int64),
        Field::new("sql_at".into(), DataType::Int64),
        Field::new("customer_at".into(), DataType::Int64),
    ]);
    let columns: Vec<Expr> = schema
        .iter_names()
        .map(|name| match name.as_str() {
            "campaign_id" | "account_id" => empty_as_null(col(name.clone())).alias(name.clone()),
            _ => col(name.clone()),
        })
        .collect();
    let mut leads = read_csv(csv, schema)?.lazy().select(columns).collect()?;
    // Wrapped eagerly rather than cast: without polars' `timezones` feature a cast to a
    // zoned `Datetime` silently drops the zone (and the lazy schema then mismatches).
    for name in LEAD_TIMESTAMPS {
        let micros = leads.column(name)?.i64()?.clone();
        let utc = micros.into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        leads.replace(name, utc.into_column())?;
    }
    Ok(leads)
}

/// Parses the accounts export into a frame with these columns, in this order:
///
/// | column | dtype |
/// | --- | --- |
/// | `id`, `name`, `abm_tier`, `buying_stage` | `String` |
/// | `target` | `Boolean` (from `t`/`f` or `true`/`false`) |
/// | `engaged_leads` | `Int64` |
/// | `engagement`, `engagement_30d_ago` | `Float64` |
///
/// A `target` spelled any other way is an error rather than a silent `false`.
pub fn accounts_frame(csv: &[u8]) -> PolarsResult<DataFrame> {
    let schema = Schema::from_iter([
        Field::new("id".into(), DataType::String),
        Field::new("name".into(), DataType::String),
        Field::new("abm_tier".into(), DataType::String),
        Field::new("target".into(), DataType::String),
        Field::new("engaged_leads".into(), DataType::Int64),
        Field::new("engagement".into(), DataType::Float64),
        Field::new("engagement_30d_ago".into(), DataType::Float64),
        Field::new("buying_stage".into(), DataType::String),
    ]);
    let raw = read_csv(csv, schema.clone())?;

    let spelled = |spellings: [&str; 4]| {
        spellings
            .into_iter()
            .map(|s| col("target").eq(lit(s)))
            .reduce(|a, b| a.or(b))
            .expect("spellings are not empty")
    };
    let unknown = raw
        .clone()
        .lazy()
        .filter(
            col("target")
                .is_not_null()
                .and(spelled(TRUE_SPELLINGS).not())
                .and(spelled(FALSE_SPELLINGS).not()),
        )
        .select([col("target")])
        .limit(1)
        .collect()?;
    // Not `get(0)` nor `first()`: both panic on an empty ChunkedArray.
    if let Some(value) = unknown.column("target")?.str()?.iter().next().flatten() {
        polars_bail!(ComputeError: "accounts export: `target` must be t/f or true/false, got {value:?}");
    }

    let columns: Vec<Expr> = schema
        .iter_names()
        .map(|name| match name.as_str() {
            "target" => spelled(TRUE_SPELLINGS)
                .fill_null(lit(false))
                .alias("target"),
            _ => col(name.clone()),
        })
        .collect();
    raw.lazy().select(columns).collect()
}

/// Reads the export with every column's dtype fixed by name, so no dtype depends on inference
/// over data that may be empty or all-null.
fn read_csv(csv: &[u8], schema: Schema) -> PolarsResult<DataFrame> {
    let names: Vec<Expr> = schema.iter_names().map(|n| col(n.clone())).collect();
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_schema_overwrite(Some(Arc::new(schema)))
        .into_reader_with_file_handle(Cursor::new(csv))
        .finish()?;
    // Selecting by name drops unexpected extra columns and fails loudly on a missing one.
    frame.lazy().select(names).collect()
}

/// PostgreSQL's CSV writes NULL unquoted and '' quoted, so an empty text may survive parsing;
/// both mean "none" for an optional reference. The result is named after the `then` branch (a
/// literal), so the caller re-aliases it.
fn empty_as_null(column: Expr) -> Expr {
    when(column.clone().eq(lit("")))
        .then(lit(Null {}).cast(DataType::String))
        .otherwise(column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::fixtures::{ACCOUNTS_CSV, LEADS_CSV, day};

    #[test]
    fn leads_frame_types_the_columns() {
        let leads = leads_frame(LEADS_CSV.as_bytes()).unwrap();
        assert_eq!(leads.shape(), (10, 11));
        let utc_micros = DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        assert_eq!(leads.column("created_at").unwrap().dtype(), &utc_micros);
        assert_eq!(leads.column("mql_at").unwrap().dtype(), &utc_micros);
        assert_eq!(leads.column("fit").unwrap().dtype(), &DataType::Float64);

        let created = leads
            .column("created_at")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap();
        assert_eq!(created.i64().unwrap().get(1), Some(day(1)));
        // L3 (row 2) never reached mql; L1 (row 0) did on day 2.
        let mql = leads
            .column("mql_at")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap();
        assert_eq!(mql.i64().unwrap().get(0), Some(day(2)));
        assert_eq!(mql.i64().unwrap().get(2), None);
    }

    #[test]
    fn leads_frame_treats_an_empty_campaign_as_null() {
        let leads = leads_frame(LEADS_CSV.as_bytes()).unwrap();
        let campaign = leads.column("campaign_id").unwrap().str().unwrap();
        assert_eq!(campaign.get(0), Some("c1"));
        // L3 has an unquoted empty campaign, L6 a quoted empty one: both are "none".
        assert_eq!(campaign.get(2), None);
        assert_eq!(campaign.get(5), None);
        assert_eq!(campaign.null_count(), 3);
    }

    #[test]
    fn leads_frame_of_a_header_only_export_is_empty_but_typed() {
        let header = LEADS_CSV.lines().next().unwrap();
        let leads = leads_frame(format!("{header}\n").as_bytes()).unwrap();
        assert_eq!(leads.shape(), (0, 11));
        assert_eq!(
            leads.column("customer_at").unwrap().dtype(),
            &DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        );
    }

    #[test]
    fn leads_frame_fails_on_a_missing_column() {
        let csv = "id,source\n1,webinar\n";
        assert!(leads_frame(csv.as_bytes()).is_err());
    }

    #[test]
    fn accounts_frame_accepts_both_boolean_spellings() {
        let accounts = accounts_frame(ACCOUNTS_CSV.as_bytes()).unwrap();
        assert_eq!(accounts.shape(), (7, 8));
        let target: Vec<Option<bool>> = accounts
            .column("target")
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .collect();
        // t, true, f, true, false, t, t as written in the fixture.
        let expected = [true, true, false, true, false, true, true].map(Some);
        assert_eq!(target, expected);
        // The quoted name with a comma survives.
        let names = accounts.column("name").unwrap().str().unwrap();
        assert_eq!(names.get(4), Some("Hooli, Inc."));
    }

    #[test]
    fn accounts_frame_rejects_an_unknown_target_spelling() {
        let csv = "id,name,abm_tier,target,engaged_leads,engagement,engagement_30d_ago,buying_stage\n\
                   a,Acme,none,yes,1,1.0,1.0,awareness\n";
        let err = accounts_frame(csv.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("yes"), "{err}");
    }
}
