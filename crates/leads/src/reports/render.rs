//! Rendering checks over the leads report fixtures.

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use crate::reports::fixtures::LEADS_CSV;
    use crate::reports::{Window, lead_quality, leads_frame};
    use platform::reports::*;
    use polars::prelude::*;
    use serde_json::Value;

    fn report() -> DataFrame {
        let leads = leads_frame(LEADS_CSV.as_bytes()).unwrap();
        lead_quality(&leads, Window::default()).unwrap()
    }

    #[test]
    fn format_parses_query_values() {
        assert_eq!(Format::parse(None), Ok(Format::Json));
        assert_eq!(Format::parse(Some("json")), Ok(Format::Json));
        assert_eq!(Format::parse(Some("CSV")), Ok(Format::Csv));
        assert_eq!(Format::parse(Some("parquet")), Ok(Format::Parquet));
        assert_eq!(Format::parse(Some("NDJSON")), Ok(Format::Ndjson));
        let err = Format::parse(Some("xlsx")).unwrap_err();
        assert!(
            err.contains("xlsx") && err.contains("json, ndjson, csv, parquet"),
            "{err}"
        );
    }

    #[test]
    fn format_content_types() {
        assert_eq!(Format::Json.content_type(), "application/json");
        assert_eq!(Format::Csv.content_type(), "text/csv; charset=utf-8");
        assert_eq!(
            Format::Parquet.content_type(),
            "application/vnd.apache.parquet"
        );
    }

    #[test]
    fn ndjson_is_the_json_rows_one_per_line() {
        let json = render(&mut report(), Format::Json).unwrap();
        let rows: Vec<Value> = serde_json::from_slice(&json).unwrap();
        let text = String::from_utf8(render(&mut report(), Format::Ndjson).unwrap()).unwrap();
        assert!(text.ends_with('\n'), "{text}");
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 6);
        assert_eq!(lines, rows);
        assert_eq!(Format::Ndjson.content_type(), "application/x-ndjson");
    }

    #[test]
    fn json_is_an_array_of_row_objects_in_column_order() {
        let bytes = render(&mut report(), Format::Json).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.starts_with(
                r#"[{"dimension":"source","value":"paid_search","leads":3,"mean_fit":60.0,"#
            ),
            "{text}"
        );
        let rows: Vec<serde_json::Map<String, Value>> = serde_json::from_str(&text).unwrap();
        assert_eq!(rows.len(), 6);
        let first = &rows[0];
        assert_eq!(first.len(), 9);
        assert_eq!(first["leads"], Value::from(3));
        assert_eq!(first["median_days_to_mql"], Value::from(3.75));
        assert_eq!(first["customer_rate"], Value::from(0.0));
        assert_eq!(rows[3]["value"], Value::from("(none)"));
        assert_eq!(rows[5]["value"], Value::from("c2"));
        assert_eq!(rows[5]["leads"], Value::from(4));
    }

    #[test]
    fn json_writes_null_for_null_nan_and_infinity() {
        let mut df = df! {
            "name" => [Some("a"), None, Some("c\"d")],
            "x" => [Some(1.5), Some(f64::NAN), Some(f64::INFINITY)],
            "n" => [Some(1i64), None, Some(-2)],
            "ok" => [Some(true), Some(false), None],
        }
        .unwrap();
        let bytes = render(&mut df, Format::Json).unwrap();
        let rows: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            rows,
            serde_json::json!([
                {"name": "a", "x": 1.5, "n": 1, "ok": true},
                {"name": null, "x": null, "n": null, "ok": false},
                {"name": "c\"d", "x": null, "n": -2, "ok": null},
            ])
        );
    }

    #[test]
    fn json_of_an_empty_frame_is_an_empty_array() {
        let mut df = report().head(Some(0));
        assert_eq!(render(&mut df, Format::Json).unwrap(), b"[]");
    }

    #[test]
    fn json_writes_datetimes_as_rfc3339() {
        let mut leads = leads_frame(LEADS_CSV.as_bytes()).unwrap().head(Some(1));
        let bytes = render(&mut leads, Format::Json).unwrap();
        let rows: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(rows[0]["created_at"], Value::from("2025-01-01T00:00:00Z"));
        assert_eq!(rows[0]["customer_at"], Value::from("2025-01-21T00:00:00Z"));
        assert_eq!(rows[0]["fit"], Value::from(80.0));
    }

    #[test]
    fn csv_has_a_header_line() {
        let bytes = render(&mut report(), Format::Csv).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(
                "dimension,value,leads,mean_fit,mean_engagement,mql_rate,sql_rate,customer_rate,median_days_to_mql"
            )
        );
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("source,paid_search,3,60.0,50.0,")
        );
        assert_eq!(lines.count(), 5);
    }

    #[test]
    fn parquet_keeps_utc_datetimes() {
        let mut leads = leads_frame(LEADS_CSV.as_bytes()).unwrap();
        let bytes = render(&mut leads, Format::Parquet).unwrap();
        let back = ParquetReader::new(Cursor::new(bytes)).finish().unwrap();
        assert_eq!(back.schema(), leads.schema());
        assert!(back.equals_missing(&leads));
    }

    #[test]
    fn parquet_is_a_parquet_file_that_reads_back() {
        let mut df = report();
        let bytes = render(&mut df, Format::Parquet).unwrap();
        assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
        let back = ParquetReader::new(Cursor::new(bytes)).finish().unwrap();
        assert_eq!(back.shape(), (6, 9));
        assert_eq!(back.get_column_names(), df.get_column_names());
        assert!(back.equals_missing(&df));
    }

    #[test]
    fn unsigned_counts_are_written_as_signed_integers() {
        let mut df = DataFrame::new(
            2,
            vec![
                Column::new("leads".into(), [3u32, 4]),
                Column::new("share".into(), [0.5f64, 0.25]),
            ],
        )
        .unwrap();
        let bytes = render(&mut df, Format::Parquet).unwrap();
        let back = ParquetReader::new(Cursor::new(bytes)).finish().unwrap();
        assert_eq!(back.column("leads").unwrap().dtype(), &DataType::Int64);
        assert_eq!(back.column("share").unwrap().dtype(), &DataType::Float64);
        let leads: Vec<Option<i64>> = back
            .column("leads")
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(leads, [Some(3), Some(4)]);
        let csv = String::from_utf8(render(&mut df, Format::Csv).unwrap()).unwrap();
        assert_eq!(csv, "leads,share\n3,0.5\n4,0.25\n");
    }
}
