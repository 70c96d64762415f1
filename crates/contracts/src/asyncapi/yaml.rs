//! A small block-style YAML writer for JSON values, enough for the generated AsyncAPI document.

use serde_json::{Map, Value};

use crate::schema::ordered_entries;

/// YAML for `value` with the key order of the generated JSON files and a trailing newline.
pub(crate) fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_mapping(&mut out, map, None, 0),
        Value::Array(items) if !items.is_empty() => write_sequence(&mut out, items, 0),
        scalar => {
            write_scalar(&mut out, scalar, 0);
            out.push('\n');
        }
    }
    out
}

fn write_mapping(
    out: &mut String,
    map: &Map<String, Value>,
    parent_key: Option<&str>,
    indent: usize,
) {
    let names_only = parent_key.is_some_and(|k| crate::schema::NAME_MAPS.contains(&k));
    for (key, value) in ordered_entries(map, parent_key) {
        push_indent(out, indent);
        out.push_str(&scalar_text(key));
        out.push(':');
        let child_key = if names_only { None } else { Some(key.as_str()) };
        write_node(out, value, child_key, indent);
    }
}

fn write_sequence(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        push_indent(out, indent);
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                // The first entry shares the line with the dash: write the mapping one level
                // deeper and replace that line's indentation with "- ".
                let mut nested = String::new();
                write_mapping(&mut nested, map, None, indent + 1);
                out.push(' ');
                out.push_str(&nested[2 * (indent + 1)..]);
            }
            other => write_node(out, other, None, indent),
        }
    }
}

/// Writes what follows `key:` or `-`, where `indent` is the level of that key or dash.
fn write_node(out: &mut String, value: &Value, key: Option<&str>, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_mapping(out, map, key, indent + 1);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_sequence(out, items, indent + 1);
        }
        scalar => {
            out.push(' ');
            write_scalar(out, scalar, indent + 1);
            out.push('\n');
        }
    }
}

fn write_scalar(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::String(text) => match block_literal_header(text) {
            Some(header) => {
                out.push_str(header);
                for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
                    out.push('\n');
                    if !line.is_empty() {
                        push_indent(out, indent);
                        out.push_str(line);
                    }
                }
            }
            None => out.push_str(&scalar_text(text)),
        },
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
        other => out.push_str(&other.to_string()),
    }
}

/// `|` or `|-` when `text` reads well as a literal block; None when it must be quoted.
fn block_literal_header(text: &str) -> Option<&'static str> {
    let multiline = text.trim_end_matches('\n').contains('\n');
    let printable = text.chars().all(|c| c == '\n' || !c.is_control());
    let leading_space = text.trim_start_matches('\n').starts_with(' ');
    if !multiline || !printable || leading_space || text.ends_with("\n\n") {
        None
    } else if text.ends_with('\n') {
        Some("|")
    } else {
        Some("|-")
    }
}

/// A single-line scalar: plain when no YAML reader could take it for anything but this
/// string, otherwise double-quoted (JSON string escapes are valid YAML escapes).
fn scalar_text(text: &str) -> String {
    if is_plain_safe(text) {
        text.to_owned()
    } else {
        Value::from(text).to_string()
    }
}

fn is_plain_safe(text: &str) -> bool {
    const RESERVED: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
    ];
    let Some(first) = text.chars().next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || matches!(first, '/' | '_' | '$' | '('))
        && !text.ends_with(' ')
        && !text.contains("  ")
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " _-./$(),;'+=<>^*?&!%@".contains(c))
        && !RESERVED.contains(&text.to_ascii_lowercase().as_str())
}

fn push_indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_nested_blocks() {
        let value = json!({
            "asyncapi": "3.0.0",
            "info": {"title": "T", "description": "line one\nline two\n"},
            "list": [{"$ref": "#/a", "b": true}, "plain", 1.5, []],
            "empty": {},
        });
        let expected = "\
asyncapi: \"3.0.0\"
info:
  title: T
  description: |
    line one
    line two
empty: {}
list:
  - $ref: \"#/a\"
    b: true
  - plain
  - 1.5
  - []
";
        assert_eq!(to_yaml(&value), expected);
    }

    #[test]
    fn quotes_whatever_a_reader_could_misread() {
        for text in [
            "", "yes", "No", "1.0", "-x", "a: b", "a #b", "[x]", "x ", "#/c", "0.9.1",
        ] {
            assert!(scalar_text(text).starts_with('"'), "{text:?} left plain");
        }
        for text in [
            "touchstone.events",
            "/touchstone/leads",
            "amqp",
            "$ref",
            "Bind a queue.",
        ] {
            assert_eq!(scalar_text(text), text);
        }
    }
}
