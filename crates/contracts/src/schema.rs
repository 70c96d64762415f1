//! The JSON Schema of the envelope, and the key order of the generated files.

use schemars::Schema;
use serde_json::{Map, Value, json};

use crate::envelope::{DATA_CONTENT_TYPE, SPEC_VERSION};
pub use crate::payload::payload_schema;
use crate::service::Service;

/// Where the generated files live relative to the repository's `docs/` folder.
pub const ENVELOPE_SCHEMA_FILE: &str = "events/cloudevent-envelope.json";
pub const ASYNCAPI_FILE: &str = "asyncapi.yaml";

pub fn event_schema_file(ty: &str) -> String {
    format!("events/{ty}.json")
}

const TYPE_PATTERN: &str =
    r"^touchstone\.(leads|funnel|touchpoints|breakeven)\.[a-z_]+\.[a-z_]+\.v[0-9]+$";
const TRACEPARENT_PATTERN: &str = "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$";

/// The envelope's own attributes. `event` pins `type` and `source` to one event type;
/// without it they are patterns over the whole catalog.
pub(crate) fn envelope_properties(event: Option<(&str, Service)>, data: Value) -> Value {
    let (ty, source) = match event {
        Some((ty, service)) => (
            json!({"type": "string", "const": ty, "description": "Event type; also the AMQP routing key."}),
            json!({"type": "string", "const": service.source(), "description": "The producing service."}),
        ),
        None => {
            let services = Service::ALL.map(Service::as_str).join("|");
            (
                json!({
                    "type": "string",
                    "pattern": TYPE_PATTERN,
                    "description": "Event type, touchstone.<service>.<entity>.<verb>.v<N>; also the AMQP routing key.",
                }),
                json!({
                    "type": "string",
                    "pattern": format!("^/touchstone/({services})$"),
                    "description": "The producing service.",
                }),
            )
        }
    };
    json!({
        "specversion": {"type": "string", "const": SPEC_VERSION},
        "id": {
            "type": "string",
            "format": "uuid",
            "description": "Unique per event (UUIDv7) and equal to the AMQP message_id. Deduplicate on it.",
        },
        "source": source,
        "type": ty,
        "subject": {"type": "string", "description": "Id of the aggregate the event is about."},
        "time": {
            "type": "string",
            "format": "date-time",
            "description": "When the event happened, RFC 3339 in UTC.",
        },
        "datacontenttype": {"type": "string", "const": DATA_CONTENT_TYPE},
        "traceparent": {
            "type": "string",
            "pattern": TRACEPARENT_PATTERN,
            "description": "W3C trace context (CloudEvents distributed-tracing extension); also an AMQP header.",
        },
        "data": data,
    })
}

pub(crate) const ENVELOPE_REQUIRED: [&str; 7] = [
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "datacontenttype",
    "data",
];

/// Schema of any Touchstone event in CloudEvents 1.0 structured JSON mode.
pub fn envelope_schema() -> Schema {
    let data = json!({
        "description": "The payload; its schema is events/<type>.json beside this file.",
    });
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Touchstone CloudEvent",
        "description": "A Touchstone event in CloudEvents 1.0 structured JSON mode (content type application/cloudevents+json). In batch mode (application/cloudevents-batch+json) a message body is a non-empty JSON array of these. Consumers must ignore attributes and data fields they do not know.",
        "type": "object",
        "properties": envelope_properties(None, data),
        "required": ENVELOPE_REQUIRED,
    });
    Schema::try_from(schema).expect("an object is a schema")
}

// Key order is fixed here rather than left to serde_json, whose map order changes when any
// crate in the build enables its `preserve_order` feature; the checked-in files must not.
const KEY_RANK: &[&str] = &[
    "asyncapi",
    "$schema",
    "$id",
    "$ref",
    "address",
    "action",
    "channel",
    "name",
    "title",
    "summary",
    "version",
    "description",
    "info",
    "defaultContentType",
    "servers",
    "host",
    "protocol",
    "protocolVersion",
    "contentType",
    "type",
    "const",
    "format",
    "pattern",
    "enum",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "items",
    "properties",
    "required",
    "additionalProperties",
    "anyOf",
    "oneOf",
    "allOf",
    "headers",
    "payload",
    "messages",
    "bindings",
    "channels",
    "operations",
    "components",
    "$defs",
    "schemas",
];

/// Maps keyed by names (properties, definitions, channel ids) rather than by keywords.
pub(crate) const NAME_MAPS: &[&str] = &[
    "properties",
    "$defs",
    "schemas",
    "channels",
    "operations",
    "messages",
    "servers",
    "patternProperties",
];

/// The entries of `map` in the order the generated files use, given the key that holds it.
pub(crate) fn ordered_entries<'a>(
    map: &'a Map<String, Value>,
    parent_key: Option<&str>,
) -> Vec<(&'a String, &'a Value)> {
    let mut entries: Vec<_> = map.iter().collect();
    if parent_key.is_some_and(|k| NAME_MAPS.contains(&k)) {
        entries.sort_by(|a, b| a.0.cmp(b.0));
    } else {
        let rank = |k: &str| match k {
            // Binding objects read better with their version last.
            "bindingVersion" => KEY_RANK.len() + 1,
            _ => KEY_RANK
                .iter()
                .position(|r| *r == k)
                .unwrap_or(KEY_RANK.len()),
        };
        entries.sort_by(|a, b| (rank(a.0), a.0).cmp(&(rank(b.0), b.0)));
    }
    entries
}

/// Pretty JSON in the layout of `serde_json::to_string_pretty`, with a trailing newline.
pub(crate) fn to_pretty_json(value: &Value) -> String {
    let mut out = String::new();
    write_json(&mut out, value, None, 0);
    out.push('\n');
    out
}

fn write_json(out: &mut String, value: &Value, parent_key: Option<&str>, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('{');
            for (i, (key, item)) in ordered_entries(map, parent_key).into_iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                push_indent(out, indent + 1);
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push_str(": ");
                // A schema named like a keyword inside `properties` is still a schema.
                let key = if parent_key.is_some_and(|k| NAME_MAPS.contains(&k)) {
                    None
                } else {
                    Some(key.as_str())
                };
                write_json(out, item, key, indent + 1);
            }
            out.push('\n');
            push_indent(out, indent);
            out.push('}');
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                push_indent(out, indent + 1);
                write_json(out, item, None, indent + 1);
            }
            out.push('\n');
            push_indent(out, indent);
            out.push(']');
        }
        scalar_or_empty => out.push_str(&scalar_or_empty.to_string()),
    }
}

fn push_indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_json_matches_serde_json_layout_for_sorted_input() {
        let value = json!({"a": [1, {"b": null, "c": []}], "d": {}, "e": "x\"y"});
        assert_eq!(
            to_pretty_json(&value),
            serde_json::to_string_pretty(&value).unwrap() + "\n"
        );
    }

    #[test]
    fn keywords_are_ranked_but_property_names_are_alphabetical() {
        let value = json!({
            "properties": {"type": {}, "amount": {}},
            "type": "object",
            "title": "t",
        });
        let text = to_pretty_json(&value);
        let pos = |needle: &str| text.find(needle).unwrap();
        assert!(pos("\"title\"") < pos("\"type\": \"object\""));
        assert!(pos("\"type\": \"object\"") < pos("\"properties\""));
        assert!(pos("\"amount\"") < pos("\"type\": {}"));
    }
}
