//! Reports every service serves: a polars frame rendered as JSON, CSV or Parquet bytes, and
//! the HTTP response that carries them.

use std::io::Write;

use chrono::{DateTime, SecondsFormat};
use polars::prelude::*;
use serde_json::Value;

/// A report's rows as JSON: one object per row, its keys in column order (documentation
/// only).
#[derive(utoipa::ToSchema)]
#[schema(value_type = Vec<Object>)]
#[allow(dead_code)]
pub struct JsonRows(Vec<serde_json::Value>);

/// A report as NDJSON (documentation only: the body of a `format=ndjson` answer): one row
/// object per line, keys in column order, so that a large report can be read row by row.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String)]
#[allow(dead_code)]
pub struct NdjsonRows(String);

/// A report as CSV (documentation only: the body of a `format=csv` answer).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String)]
#[allow(dead_code)]
pub struct CsvFile(String);

/// A report as Parquet (documentation only: the body of a `format=parquet` answer).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct ParquetFile(Vec<u8>);

/// The formats a report can be downloaded in (`format`; JSON by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Ndjson,
    Csv,
    Parquet,
}

impl Format {
    /// Parses a `format` query value, ASCII case-insensitively; no value means JSON.
    pub fn parse(s: Option<&str>) -> Result<Format, String> {
        match s {
            None => Ok(Format::Json),
            Some(s) if s.eq_ignore_ascii_case("json") => Ok(Format::Json),
            Some(s) if s.eq_ignore_ascii_case("ndjson") => Ok(Format::Ndjson),
            Some(s) if s.eq_ignore_ascii_case("csv") => Ok(Format::Csv),
            Some(s) if s.eq_ignore_ascii_case("parquet") => Ok(Format::Parquet),
            Some(s) => Err(format!(
                "unknown report format {s:?}; expected one of json, ndjson, csv, parquet"
            )),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Ndjson => "application/x-ndjson",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Parquet => "application/vnd.apache.parquet",
        }
    }
}

/// Renders `df` in `format`.
///
/// - JSON: an array of row objects whose keys follow the column order; nulls, NaN and ±inf are
///   `null`, numbers are JSON numbers, datetimes are RFC 3339 strings in UTC.
/// - NDJSON: the same row objects, one per line, each line ended by `\n`.
/// - CSV: a header line, then one line per row; nulls are empty fields.
/// - Parquet: one file (zstd-compressed), readable by pyarrow and pandas.
///
/// Unsigned integer columns are written as signed 64-bit integers in every format: BigQuery,
/// Spark and many SQL engines have no unsigned types.
pub fn render(df: &mut DataFrame, format: Format) -> PolarsResult<Vec<u8>> {
    signed(df)?;
    let mut out = Vec::new();
    match format {
        Format::Json => write_json(df, &mut out, Layout::Array)?,
        Format::Ndjson => write_json(df, &mut out, Layout::Lines)?,
        Format::Csv => CsvWriter::new(&mut out).include_header(true).finish(df)?,
        Format::Parquet => {
            ParquetWriter::new(&mut out).finish(df)?;
        }
    }
    Ok(out)
}

/// Casts every unsigned integer column to Int64 (every u8, u16 and u32 fits; a u64 over
/// i64::MAX, which no report counts, would be null).
fn signed(df: &mut DataFrame) -> PolarsResult<()> {
    let unsigned: Vec<PlSmallStr> = df
        .columns()
        .iter()
        .filter(|c| c.dtype().is_unsigned_integer())
        .map(|c| c.name().clone())
        .collect();
    for name in unsigned {
        let cast = df.column(&name)?.cast(&DataType::Int64)?;
        df.with_column(cast)?;
    }
    Ok(())
}

/// Rows as one JSON array, or as one object per line (NDJSON).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    Array,
    Lines,
}

/// Written by hand rather than with polars' JSON writer: that needs the `json` feature (and
/// `dtype-struct`), and serde_json's map would sort the keys instead of keeping column order.
fn write_json(df: &DataFrame, out: &mut Vec<u8>, layout: Layout) -> PolarsResult<()> {
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

    if layout == Layout::Array {
        out.push(b'[');
    }
    for row in 0..df.height() {
        if row > 0 && layout == Layout::Array {
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
        if layout == Layout::Lines {
            out.push(b'\n');
        }
    }
    if layout == Layout::Array {
        out.push(b']');
    }
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

/// The response carrying a rendered report; CSV and Parquet come as named downloads.
pub fn respond(name: &str, format: Format, body: Vec<u8>) -> actix_web::HttpResponse {
    let mut r = actix_web::HttpResponse::Ok();
    r.content_type(format.content_type());
    let ext = match format {
        Format::Csv => Some("csv"),
        Format::Parquet => Some("parquet"),
        Format::Json | Format::Ndjson => None,
    };
    if let Some(ext) = ext {
        r.insert_header((
            "content-disposition",
            format!("attachment; filename=\"{name}.{ext}\""),
        ));
    }
    r.body(body)
}

/// Builds a report frame off the async workers and answers it in `format` as `name.<ext>`:
/// the one way every service serves a report.
pub async fn serve<F>(
    name: &str,
    format: Format,
    build: F,
) -> anyhow::Result<actix_web::HttpResponse>
where
    F: FnOnce() -> PolarsResult<DataFrame> + Send + 'static,
{
    let body = compute(move || render(&mut build()?, format)).await?;
    Ok(respond(name, format, body))
}

/// Runs CPU-bound report work (polars, rendering) off the async workers.
pub async fn compute<F>(f: F) -> anyhow::Result<Vec<u8>>
where
    F: FnOnce() -> PolarsResult<Vec<u8>> + Send + 'static,
{
    actix_web::web::block(f)
        .await
        .map_err(|e| anyhow::anyhow!("report task: {e}"))?
        .map_err(|e| anyhow::anyhow!("report: {e}"))
}
