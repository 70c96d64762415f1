//! The generated files checked in under `docs/`: each event's schema, the envelope's, and
//! the AsyncAPI document.

use crate::asyncapi;
use crate::catalog::catalog;
use crate::schema::{
    ASYNCAPI_FILE, ENVELOPE_SCHEMA_FILE, envelope_schema, event_schema_file, to_pretty_json,
};

/// Every generated file, as (path relative to `docs/`, content).
pub fn generated_docs() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = catalog()
        .iter()
        .map(|info| {
            let schema = (info.schema)();
            (
                event_schema_file(info.ty),
                to_pretty_json(schema.as_value()),
            )
        })
        .collect();
    files.push((
        ENVELOPE_SCHEMA_FILE.to_owned(),
        to_pretty_json(envelope_schema().as_value()),
    ));
    files.push((ASYNCAPI_FILE.to_owned(), asyncapi::render()));
    files
}
