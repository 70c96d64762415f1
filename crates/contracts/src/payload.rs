//! What every event payload is: the trait its type implements, and its JSON Schema.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::service::Service;

/// A typed event payload: the `data` member of one event type in the catalog.
pub trait EventPayload:
    Serialize
    + DeserializeOwned
    + schemars::JsonSchema
    + Clone
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    const TYPE: &'static str;
    const SERVICE: Service;
    /// The aggregate id, used as the CloudEvents `subject`.
    fn subject(&self) -> String;
}

/// Schema of a payload as producers write it: the serialize contract, so decimals are
/// strings and fields that producers always write are required.
pub fn payload_schema<T: EventPayload>() -> Schema {
    let mut schema = root_schema_for::<T>();
    schema.insert("title".to_owned(), Value::from(T::TYPE));
    let mut value = schema.to_value();
    unwrap_descriptions(&mut value);
    Schema::try_from(value).expect("still an object")
}

/// Joins the hard-wrapped lines of doc comments, keeping paragraph breaks, so that schema
/// viewers can reflow descriptions to their own width.
fn unwrap_descriptions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                match item {
                    Value::String(text) if key == "description" => {
                        *text = text
                            .split("\n\n")
                            .map(|paragraph| paragraph.split('\n').collect::<Vec<_>>().join(" "))
                            .collect::<Vec<_>>()
                            .join("\n\n");
                    }
                    other => unwrap_descriptions(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(unwrap_descriptions),
        _ => {}
    }
}

fn root_schema_for<T: JsonSchema>() -> Schema {
    SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>()
}
