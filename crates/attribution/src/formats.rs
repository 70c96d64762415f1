//! Aggregated paths from and to text: the JSON request body and ChannelAttribution's CSV.
//!
//! Both parsers check what [`PathSet::new`](crate::PathSet::new) checks, so their errors name
//! the JSON field or CSV line at fault; `PathSet::new` on their output can then fail only on
//! more than 65,535 distinct channels.
//!
//! Numbers may be JSON numbers or decimal strings. Strings are read with `rust_decimal`, so
//! only plain decimals (or scientific notation) pass, then converted to the nearest `f64`:
//! attribution shares are fractional estimates and the engine computes in `f64`.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::Error;
use crate::input::{
    PATH_SEPARATOR, PathStat, check_amount, check_channel, check_value_has_conversions,
};

/// The header ChannelAttribution reads and writes.
pub const CSV_HEADER: &str = "path;total_conversions;total_conversion_value;total_null";
const CSV_COLUMNS: [&str; 4] = [
    "path",
    "total_conversions",
    "total_conversion_value",
    "total_null",
];

/// Reads `{"paths": [{"path": ["email", "paid_search"], "conversions": 3,
/// "value": "120.50", "nulls": 10}, ...]}`. `value` and `nulls` default to 0. Errors name the
/// field, e.g. `paths[2].value`.
pub fn parse_paths_json(input: &str) -> Result<Vec<PathStat>, Error> {
    let body: Value =
        serde_json::from_str(input).map_err(|e| Error::input("body", e.to_string()))?;
    paths_from_json(&body)
}

/// As [`parse_paths_json`], from an already parsed body; keys besides `paths` are left to
/// the caller (a request may carry its models alongside).
pub fn paths_from_json(body: &Value) -> Result<Vec<PathStat>, Error> {
    let paths = body
        .get("paths")
        .ok_or_else(|| Error::input("paths", "missing"))?
        .as_array()
        .ok_or_else(|| Error::input("paths", "must be an array"))?;
    paths
        .iter()
        .enumerate()
        .map(|(i, p)| path_from_json(i, p))
        .collect()
}

fn path_from_json(i: usize, p: &Value) -> Result<PathStat, Error> {
    let at = |field: &str| format!("paths[{i}].{field}");
    let object = p
        .as_object()
        .ok_or_else(|| Error::input(format!("paths[{i}]"), "must be an object"))?;
    if let Some(unknown) = object
        .keys()
        .find(|k| !["path", "conversions", "value", "nulls"].contains(&k.as_str()))
    {
        return Err(Error::input(
            at(unknown),
            "unknown field; expected path, conversions, value, nulls",
        ));
    }
    let channels = object
        .get("path")
        .ok_or_else(|| Error::input(at("path"), "missing"))?
        .as_array()
        .ok_or_else(|| Error::input(at("path"), "must be an array of channel names"))?;
    if channels.is_empty() {
        return Err(Error::input(
            at("path"),
            "a path needs at least one channel",
        ));
    }
    let channels = channels
        .iter()
        .enumerate()
        .map(|(j, c)| {
            let location = || format!("paths[{i}].path[{j}]");
            let name = c
                .as_str()
                .ok_or_else(|| Error::input(location(), "must be a string"))?;
            check_channel(name).map_err(|m| Error::input(location(), m))?;
            Ok(name.to_owned())
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let number = |field: &str, required: bool| -> Result<f64, Error> {
        match object.get(field) {
            None if required => Err(Error::input(at(field), "missing")),
            None | Some(Value::Null) => Ok(0.0),
            Some(Value::Number(n)) => {
                let x = n
                    .as_f64()
                    .ok_or_else(|| Error::input(at(field), "not a finite number"))?;
                check_amount(x).map_err(|m| Error::input(at(field), m))
            }
            Some(Value::String(s)) => amount(s).map_err(|m| Error::input(at(field), m)),
            Some(_) => Err(Error::input(
                at(field),
                "must be a number or a decimal string",
            )),
        }
    };
    let conversions = number("conversions", true)?;
    let value = number("value", false)?;
    let nulls = number("nulls", false)?;
    check_value_has_conversions(conversions, value).map_err(|m| Error::input(at("value"), m))?;
    Ok(PathStat {
        channels,
        conversions,
        value,
        nulls,
    })
}

/// A decimal string as the nearest `f64`, finite and non-negative.
fn amount(s: &str) -> Result<f64, String> {
    // Counts are mostly small integers: exact in f64, no decimal needed.
    if (1..=15).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(s.parse::<u64>().map_err(|e| e.to_string())? as f64);
    }
    let decimal = Decimal::from_str(s)
        .or_else(|_| Decimal::from_scientific(s))
        .map_err(|_| format!("{s:?} is not a decimal number"))?;
    // Decimal's own digits through the correctly rounded std parser: exact round trips for
    // anything the CSV writer printed.
    let x: f64 = decimal
        .to_string()
        .parse()
        .map_err(|_| format!("{s:?} is not a decimal number"))?;
    check_amount(x)
}

/// Splits a `;`-separated line, honouring double-quoted fields (`""` inside quotes is a
/// quote), as spreadsheet tools and pandas write them.
fn split_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, ';') => fields.push(std::mem::take(&mut field)),
            (false, '"') if field.is_empty() => quoted = true,
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => {
                quoted = false;
                if !matches!(chars.peek(), None | Some(';')) {
                    return Err("text after a closing quote".into());
                }
            }
            (_, c) => field.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    fields.push(field);
    Ok(fields)
}

/// Reads ChannelAttribution's CSV: the header [`CSV_HEADER`], then one path per line with
/// channels joined by `" > "`. Blank lines are skipped; errors name the 1-based line.
pub fn parse_channel_attribution_csv(input: &str) -> Result<Vec<PathStat>, Error> {
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let mut lines = input
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .filter(|(_, l)| !l.trim().is_empty());
    let line_at = |n: usize| format!("line {n}");
    let (n, header) = lines
        .next()
        .ok_or_else(|| Error::input("line 1", format!("missing header {CSV_HEADER:?}")))?;
    let names = split_fields(header).map_err(|m| Error::input(line_at(n), m))?;
    if names.iter().map(|s| s.trim()).ne(CSV_COLUMNS) {
        return Err(Error::input(
            line_at(n),
            format!("expected the header {CSV_HEADER:?}"),
        ));
    }
    lines
        .map(|(n, line)| {
            let fail = |m: String| Error::input(line_at(n), m);
            let fields = split_fields(line).map_err(fail)?;
            if fields.len() != CSV_COLUMNS.len() {
                return Err(fail(format!(
                    "expected {} fields separated by ';', found {}",
                    CSV_COLUMNS.len(),
                    fields.len()
                )));
            }
            let channels = fields[0]
                .split(PATH_SEPARATOR)
                .map(|c| {
                    let c = c.trim();
                    check_channel(c).map_err(|m| fail(format!("path: {m}")))?;
                    Ok(c.to_owned())
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let number = |k: usize| {
                amount(fields[k].trim()).map_err(|m| fail(format!("{}: {m}", CSV_COLUMNS[k])))
            };
            let (conversions, value, nulls) = (number(1)?, number(2)?, number(3)?);
            check_value_has_conversions(conversions, value)
                .map_err(|m| fail(format!("{}: {m}", CSV_COLUMNS[2])))?;
            Ok(PathStat {
                channels,
                conversions,
                value,
                nulls,
            })
        })
        .collect()
}

/// Writes paths as ChannelAttribution's CSV, which [`parse_channel_attribution_csv`] reads
/// back to the same paths. Channels may not contain `;` or `"` (no quoting is written), and
/// numbers must fit a decimal of 28 digits.
pub fn write_channel_attribution_csv(paths: &[PathStat]) -> Result<String, Error> {
    let mut out = String::with_capacity(CSV_HEADER.len() + 1 + paths.len() * 48);
    out.push_str(CSV_HEADER);
    out.push('\n');
    for (i, p) in paths.iter().enumerate() {
        if p.channels.is_empty() {
            return Err(Error::input(
                format!("paths[{i}].channels"),
                "a path needs at least one channel",
            ));
        }
        for (j, c) in p.channels.iter().enumerate() {
            let location = || format!("paths[{i}].channels[{j}]");
            check_channel(c).map_err(|m| Error::input(location(), m))?;
            if c.contains([';', '"']) {
                return Err(Error::input(
                    location(),
                    format!("channel {c:?} contains ';' or '\"', which the CSV cannot hold"),
                ));
            }
            if j > 0 {
                out.push_str(PATH_SEPARATOR);
            }
            out.push_str(c);
        }
        for (field, x) in [
            ("conversions", p.conversions),
            ("value", p.value),
            ("nulls", p.nulls),
        ] {
            let location = || format!("paths[{i}].{field}");
            check_amount(x).map_err(|m| Error::input(location(), m))?;
            // f64's Display is the shortest text that parses back to the same number.
            let text = x.to_string();
            if Decimal::from_str(&text).is_err() {
                return Err(Error::input(
                    location(),
                    format!("{text} does not fit a 28-digit decimal"),
                ));
            }
            out.push(';');
            out.push_str(&text);
        }
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::path;

    #[test]
    fn json_with_decimal_strings_and_numbers() {
        let paths = parse_paths_json(
            r#"{"paths": [
                {"path": ["email", "paid_search"], "conversions": 3, "value": "120.50", "nulls": 10},
                {"path": ["direct"], "conversions": "2", "value": 7.25},
                {"path": ["email"], "conversions": 0, "nulls": 4}
            ]}"#,
        )
        .unwrap();
        assert_eq!(
            paths,
            [
                path(&["email", "paid_search"], 3.0, 120.5, 10.0),
                path(&["direct"], 2.0, 7.25, 0.0),
                path(&["email"], 0.0, 0.0, 4.0),
            ]
        );
    }

    #[test]
    fn json_errors_name_the_field() {
        let cases = [
            (
                r#"{"paths": [{"path": ["a"], "conversions": 1}, {"path": ["b"], "conversions": 1, "value": "12,5"}]}"#,
                "paths[1].value: \"12,5\" is not a decimal number",
            ),
            (
                r#"{"paths": [{"path": [], "conversions": 1}]}"#,
                "paths[0].path: a path needs at least one channel",
            ),
            (
                r#"{"paths": [{"path": ["a", 3], "conversions": 1}]}"#,
                "paths[0].path[1]: must be a string",
            ),
            (
                r#"{"paths": [{"path": ["a"]}]}"#,
                "paths[0].conversions: missing",
            ),
            (
                r#"{"paths": [{"path": ["a"], "conversions": -1}]}"#,
                "paths[0].conversions: must be a finite number >= 0, got -1",
            ),
            (
                r#"{"paths": [{"path": ["a"], "conversions": 1, "value": 1e308}]}"#,
                "paths[0].value: must be at most 7.922816251426434e28, got 1e308",
            ),
            (
                r#"{"paths": [{"path": ["a"], "conversions": 1, "null": 2}]}"#,
                "paths[0].null: unknown field; expected path, conversions, value, nulls",
            ),
            (
                r#"{"paths": [{"path": ["a"], "conversions": 0, "value": "3"}]}"#,
                "paths[0].value: value 3 without conversions",
            ),
            (
                r#"{"paths": [{"path": ["a"], "conversions": true}]}"#,
                "paths[0].conversions: must be a number or a decimal string",
            ),
            (r#"{"paths": {}}"#, "paths: must be an array"),
            (r#"{}"#, "paths: missing"),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_paths_json(input).unwrap_err().to_string(), expected);
        }
        let err = parse_paths_json(r#"{"paths": [}"#).unwrap_err();
        assert!(err.to_string().starts_with("body: "), "{err}");
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn csv_reads_channel_attribution_data() {
        let input = "path;total_conversions;total_conversion_value;total_null\r\n\
                     eta > iota > alpha > eta;1;0.244;3\r\n\
                     \r\n\
                     \"iota > iota\";2;1e1;0\n";
        assert_eq!(
            parse_channel_attribution_csv(input).unwrap(),
            [
                path(&["eta", "iota", "alpha", "eta"], 1.0, 0.244, 3.0),
                path(&["iota", "iota"], 2.0, 10.0, 0.0),
            ]
        );
    }

    #[test]
    fn malformed_csv_rows_name_the_line() {
        let header = CSV_HEADER;
        let cases = [
            (
                format!("{header}\na;1;2;3\nb;1;x;3\n"),
                "line 3: total_conversion_value: \"x\" is not a decimal number",
            ),
            (
                format!("{header}\na;1;2\n"),
                "line 2: expected 4 fields separated by ';', found 3",
            ),
            (
                format!("{header}\n\na >  > b;1;2;3\n"),
                "line 3: path: channel name is empty",
            ),
            (
                format!("{header}\na;-1;0;3\n"),
                "line 2: total_conversions: must be a finite number >= 0, got -1",
            ),
            (
                format!("{header}\n\"a;1;0;3\n"),
                "line 2: unterminated quote",
            ),
            (
                "path,total_conversions\n".to_string(),
                "line 1: expected the header \"path;total_conversions;total_conversion_value;total_null\"",
            ),
            (
                String::new(),
                "line 1: missing header \"path;total_conversions;total_conversion_value;total_null\"",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse_channel_attribution_csv(&input)
                    .unwrap_err()
                    .to_string(),
                expected
            );
        }
    }

    #[test]
    fn csv_round_trips() {
        let paths = vec![
            path(&["email", "paid_search", "email"], 3.0, 120.5, 10.0),
            path(&["direct"], 0.1 + 0.2, 1234567.8912345, 0.0),
            path(&["a b", "c-d", "é"], 1e-9, 7e15, 123456789.0),
            path(&["x"], 0.0, 0.0, 0.0),
        ];
        let text = write_channel_attribution_csv(&paths).unwrap();
        assert!(text.starts_with(&format!(
            "{CSV_HEADER}\nemail > paid_search > email;3;120.5;10\n"
        )));
        assert_eq!(parse_channel_attribution_csv(&text).unwrap(), paths);
    }

    #[test]
    fn csv_writer_refuses_what_it_cannot_write() {
        let err = write_channel_attribution_csv(&[path(&["a;b"], 1.0, 0.0, 0.0)]).unwrap_err();
        assert!(
            err.to_string().starts_with("paths[0].channels[0]:"),
            "{err}"
        );
        let err = write_channel_attribution_csv(&[path(&["a"], 1.0, 1e40, 0.0)]).unwrap_err();
        assert!(err.to_string().starts_with("paths[0].value:"), "{err}");
    }
}
