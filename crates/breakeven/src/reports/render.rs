//! Rendering a report frame as JSON, CSV or Parquet bytes.

use std::io::Write;

use chrono::{DateTime, SecondsFormat};
use polars::prelude::*;
use serde_json::Value;

/// The formats a report can be downloaded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Parquet,
}

impl Format {
    /// Parses a `format` query value, ASCII case-insensitively; no value means JSON.
    pub fn parse(s: Option<&str>) -> Result<Format, String> {
        match s {
            None => Ok(Format::Json),
            Some(s) if s.eq_ignore_ascii_case("json") => Ok(Format::Json),
            Some(s) if s.eq_ignore_ascii_case("csv") => Ok(Format::Csv),
            Some(s) if s.eq_ignore_ascii_case("parquet") => Ok(Format::Parquet),
            Some(s) => Err(format!(
                "unknown report format {s:?}; expected one of json, csv, parquet"
            )),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Parquet => "application/vnd.apache.parquet",
        }
    }
}

/// Renders `df` in `format`.
///
/// - JSON: an array of row objects whose keys follow the column order; nulls, NaN and ±inf are
///   `null`, numbers are JSON numbers, datetimes are RFC 3339 strings in UTC.
/// - CSV: a header line, then one line per row; nulls are empty fields.
/// - Parquet: one file (zstd-compressed), readable by pyarrow and pandas.
pub fn render(df: &mut DataFrame, format: Format) -> PolarsResult<Vec<u8>> {
    let mut out = Vec::new();
    match format {
        Format::Json => write_json(df, &mut out)?,
        Format::Csv => CsvWriter::new(&mut out).include_header(true).finish(df)?,
        Format::Parquet => {
            ParquetWriter::new(&mut out).finish(df)?;
        }
    }
    Ok(out)
}

/// Written by hand rather than with polars' JSON writer: that needs the `json` feature (and
/// `dtype-struct`), and serde_json's map would sort the keys instead of keeping column order.
fn write_json(df: &DataFrame, out: &mut Vec<u8>) -> PolarsResult<()> {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|name| serde_json::to_string(name.as_str()).map_err(to_polars))
        .collect::<PolarsResult<_>>()?;
    let columns: Vec<Vec<Value>> = df
        .columns()
        .iter()
        .map(json_values)
        .collect::<PolarsResult<_>>()?;

    out.push(b'[');
    for row in 0..df.height() {
        if row > 0 {
            out.push(b',');
        }
        out.push(b'{');
        for (i, (name, values)) in names.iter().zip(&columns).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(name.as_bytes());
            out.push(b':');
            serde_json::to_writer(&mut *out, &values[row]).map_err(to_polars)?;
        }
        out.push(b'}');
    }
    out.push(b']');
    out.flush().map_err(to_polars)?;
    Ok(())
}

fn json_values(column: &Column) -> PolarsResult<Vec<Value>> {
    let series = column.as_materialized_series();
    let or_null = |v: Option<Value>| v.unwrap_or(Value::Null);
    let values = match series.dtype() {
        DataType::Boolean => series
            .bool()?
            .iter()
            .map(|v| or_null(v.map(Value::from)))
            .collect(),
        DataType::String => series
            .str()?
            .iter()
            .map(|v| or_null(v.map(Value::from)))
            .collect(),
        dtype if dtype.is_unsigned_integer() => {
            let series = series.cast(&DataType::UInt64)?;
            series
                .u64()?
                .iter()
                .map(|v| or_null(v.map(Value::from)))
                .collect()
        }
        dtype if dtype.is_signed_integer() => {
            let series = series.cast(&DataType::Int64)?;
            series
                .i64()?
                .iter()
                .map(|v| or_null(v.map(Value::from)))
                .collect()
        }
        dtype if dtype.is_float() => {
            let series = series.cast(&DataType::Float64)?;
            // `Number::from_f64` refuses NaN and ±inf, which JSON cannot represent.
            series
                .f64()?
                .iter()
                .map(|v| or_null(v.and_then(serde_json::Number::from_f64).map(Value::Number)))
                .collect()
        }
        DataType::Datetime(unit, _) => {
            let unit = *unit;
            let series = series.cast(&DataType::Int64)?;
            series
                .i64()?
                .iter()
                .map(|v| or_null(v.and_then(|v| rfc3339(v, unit)).map(Value::from)))
                .collect()
        }
        _ => {
            let series = series.cast(&DataType::String)?;
            series
                .str()?
                .iter()
                .map(|v| or_null(v.map(Value::from)))
                .collect()
        }
    };
    Ok(values)
}

fn rfc3339(value: i64, unit: TimeUnit) -> Option<String> {
    let instant = match unit {
        TimeUnit::Nanoseconds => Some(DateTime::from_timestamp_nanos(value)),
        TimeUnit::Microseconds => DateTime::from_timestamp_micros(value),
        TimeUnit::Milliseconds => DateTime::from_timestamp_millis(value),
    }?;
    Some(instant.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

fn to_polars(err: impl std::fmt::Display) -> PolarsError {
    PolarsError::ComputeError(format!("rendering report: {err}").into())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn frame() -> DataFrame {
        df! {
            "campaign_id" => ["a", "b"],
            "spend" => [Some("10.00"), None],
            "at_risk" => [true, false],
        }
        .unwrap()
    }

    #[test]
    fn formats_parse() {
        assert_eq!(Format::parse(None), Ok(Format::Json));
        assert_eq!(Format::parse(Some("CSV")), Ok(Format::Csv));
        assert!(Format::parse(Some("xlsx")).is_err());
    }

    #[test]
    fn json_csv_and_parquet() {
        let json = render(&mut frame(), Format::Json).unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            r#"[{"campaign_id":"a","spend":"10.00","at_risk":true},{"campaign_id":"b","spend":null,"at_risk":false}]"#
        );
        let csv = String::from_utf8(render(&mut frame(), Format::Csv).unwrap()).unwrap();
        assert_eq!(csv.lines().next(), Some("campaign_id,spend,at_risk"));
        let parquet = render(&mut frame(), Format::Parquet).unwrap();
        let back = ParquetReader::new(Cursor::new(parquet)).finish().unwrap();
        assert!(back.equals_missing(&frame()));
    }
}
