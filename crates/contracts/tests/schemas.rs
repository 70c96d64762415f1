//! The checked-in JSON Schemas and AsyncAPI document must equal what the code generates; `UPDATE_SCHEMAS=1` rewrites them.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use contracts::docs::generated_docs;
use contracts::{asyncapi, catalog};
use serde_json::Value;

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

#[test]
fn schemas_are_up_to_date() {
    let docs = docs_dir();
    let update = std::env::var("UPDATE_SCHEMAS").is_ok_and(|v| v == "1");
    let generated = generated_docs();
    let mut stale = Vec::new();

    for (relative, content) in &generated {
        let path = docs.join(relative);
        let current = fs::read_to_string(&path).ok();
        if current.as_deref() == Some(content.as_str()) {
            continue;
        }
        if update {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, content).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        } else {
            stale.push(relative.clone());
        }
    }

    // A schema left behind by a renamed or removed event would mislead readers.
    let expected: BTreeSet<String> = generated
        .iter()
        .filter_map(|(relative, _)| relative.strip_prefix("events/").map(str::to_owned))
        .collect();
    for entry in fs::read_dir(docs.join("events")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") && !expected.contains(&name) {
            if update {
                fs::remove_file(docs.join("events").join(&name)).unwrap();
            } else {
                stale.push(format!("events/{name} (no longer generated)"));
            }
        }
    }

    assert!(
        stale.is_empty(),
        "generated docs differ from the checked-in files: {stale:?}\n\
         run `UPDATE_SCHEMAS=1 cargo test -p contracts --test schemas` and commit the result"
    );
}

#[test]
fn every_payload_schema_is_titled_by_its_type_and_described() {
    for info in catalog() {
        let schema = (info.schema)();
        assert_eq!(schema.get("title"), Some(&Value::from(info.ty)));
        let description = schema.get("description").and_then(Value::as_str);
        assert!(
            description.is_some_and(|d| !d.is_empty()),
            "{} has no description",
            info.ty
        );
    }
}

/// Every `$ref` of a value, recursively.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                match item {
                    Value::String(target) if key == "$ref" => out.push(target.clone()),
                    other => refs(other, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
        _ => {}
    }
}

#[test]
fn decimals_are_strings_with_a_decimal_pattern_in_the_schema() {
    let schema = (contracts::lookup("touchstone.funnel.deal.won.v1")
        .unwrap()
        .schema)();
    let amount = &schema.as_value()["properties"]["amount"];
    assert_eq!(amount["type"], "string");
    assert_eq!(amount["pattern"], r"^-?\d+(\.\d+)?$");
}

#[test]
fn every_ref_in_the_asyncapi_document_resolves() {
    let document = asyncapi::document();
    let mut targets = Vec::new();
    refs(&document, &mut targets);
    assert!(!targets.is_empty());
    for target in targets {
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{target} is not a local reference"));
        assert!(
            document.pointer(pointer).is_some(),
            "{target} does not resolve"
        );
    }
}

#[test]
fn asyncapi_has_a_send_for_every_type_and_a_receive_for_every_consumer() {
    let document = asyncapi::document();
    let operations = document["operations"].as_object().unwrap();
    for info in catalog() {
        let send = format!("{}.send.{}", info.service.as_str(), info.ty);
        assert_eq!(operations[&send]["action"], "send", "{send}");
        for consumer in info.consumers {
            let receive = format!("{}.receive.{}", consumer.as_str(), info.ty);
            assert_eq!(operations[&receive]["action"], "receive", "{receive}");
        }
        let channel = &document["channels"][info.ty];
        assert_eq!(channel["address"], info.ty);
        assert_eq!(
            channel["bindings"]["amqp"]["exchange"]["name"],
            "touchstone.events"
        );
    }
    let expected = catalog()
        .iter()
        .map(|info| 1 + info.consumers.len())
        .sum::<usize>();
    assert_eq!(operations.len(), expected);
}
