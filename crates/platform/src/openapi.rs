//! What every service's OpenAPI document says about the problems the platform's extractors
//! answer with, so that each handler declares only the ones its own logic returns.

use utoipa::Modify;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder, Schema};

use crate::http::problem::PROBLEM_JSON;

/// Adds, to every operation that lacks them, the problem responses the shared extractors
/// produce:
///
/// - a JSON request body ([`crate::http::json::Json`]): 400 (not JSON), 413 (over the
///   body limit), 415 (not a JSON content type) and 422 (a field of the wrong shape);
/// - a UUID path parameter ([`crate::http::query::path_id`]): 422 (not a UUID) and 404 (no
///   such resource);
/// - query parameters ([`crate::http::query::Query`]): 422 (a bad or unknown parameter).
///
/// And the conventions every service keeps (docs/api-conventions.md), which a test checks
/// over every route:
///
/// - a POST that creates (declares 201) takes `Idempotency-Key`;
/// - a PUT or PATCH requires `If-Match`: 428 without it, 412 when stale;
/// - a GET of a resource that has a PUT or PATCH takes `If-None-Match` and answers 304.
///
/// A response or header the handler declares itself is left as it is.
pub struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            operations(item).for_each(add_problems);
            let mutable = item.put.is_some() || item.patch.is_some();
            for op in [&mut item.put, &mut item.patch].into_iter().flatten() {
                header(
                    op,
                    "If-Match",
                    true,
                    "The ETag of your last read of this resource",
                );
                add(
                    op,
                    412,
                    "If-Match is not the current ETag; `current_etag` names it",
                );
                add(op, 428, "If-Match is missing");
            }
            if let Some(op) = item
                .post
                .as_mut()
                .filter(|op| op.responses.responses.contains_key("201"))
            {
                header(
                    op,
                    "Idempotency-Key",
                    false,
                    "Replays the first response to the same key and body for 24 h; another body with the same key is a 422",
                );
            }
            // Every GET refuses an unknown query parameter, whether or not it takes any.
            if let Some(op) = item.get.as_mut() {
                add(
                    op,
                    422,
                    "A query parameter is invalid or unknown; `errors` names it",
                );
            }
            if let Some(op) = item.get.as_mut().filter(|_| mutable) {
                header(
                    op,
                    "If-None-Match",
                    false,
                    "An ETag you hold: 304 when it is current",
                );
                op.responses
                    .responses
                    .entry("304".into())
                    .or_insert_with(|| {
                        ResponseBuilder::new()
                            .description("Not modified: the ETag in If-None-Match is current")
                            .build()
                            .into()
                    });
            }
        }
    }
}

/// Declares a header parameter unless the operation already does (names compared without
/// case).
fn header(op: &mut Operation, name: &str, required: bool, description: &str) {
    let params = op.parameters.get_or_insert_with(Vec::new);
    if params
        .iter()
        .any(|p| p.parameter_in == ParameterIn::Header && p.name.eq_ignore_ascii_case(name))
    {
        return;
    }
    params.push(
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(if required {
                Required::True
            } else {
                Required::False
            })
            .description(Some(description))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build(),
    );
}

/// The operations of a path, whatever their method.
fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

/// Lists the values a string property of the component schema `schema` takes, where the
/// type is a `String` checked against a constant vocabulary, so that clients (and fuzzers)
/// see the vocabulary rather than any string. A nullable property keeps `null`.
pub fn enumerate(openapi: &mut OpenApi, schema: &str, property: &str, values: &[&str]) {
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema) else {
        return;
    };
    let Some(RefOr::T(Schema::Object(field))) = object.properties.get_mut(property) else {
        return;
    };
    let nullable = serde_json::to_value(&field.schema_type)
        .is_ok_and(|t| t == "null" || t.as_array().is_some_and(|a| a.iter().any(|t| t == "null")));
    let mut list: Vec<serde_json::Value> = values.iter().map(|v| (*v).into()).collect();
    if nullable {
        list.push(serde_json::Value::Null);
    }
    field.enum_values = Some(list);
}

/// Declares `fields` required in schema `name`: an input whose fields are all `Option` in
/// Rust (so that the domain names each missing one) still documents which it needs.
pub fn require(openapi: &mut OpenApi, name: &str, fields: &[&str]) {
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(name) {
        for f in fields {
            if object.properties.contains_key(*f) && !object.required.iter().any(|r| r == f) {
                object.required.push((*f).to_string());
            }
        }
    }
}

/// Lists the values a string query parameter of `GET path` takes, where its Rust type is a
/// `String` checked against a domain vocabulary.
pub fn enumerate_query(openapi: &mut OpenApi, path: &str, name: &str, values: &[&str]) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let Some(op) = openapi
        .paths
        .paths
        .get_mut(path)
        .and_then(|item| item.get.as_mut())
    else {
        return;
    };
    for p in op.parameters.iter_mut().flatten() {
        if p.parameter_in == ParameterIn::Query && p.name == name {
            let schema = ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(values.iter().copied()))
                .build();
            p.schema = Some(schema.into());
        }
    }
}

/// Rewrites schema `name`, an `allOf` of a referenced `oneOf` (a `#[serde(flatten)]`ed
/// tagged enum) and an object of its own fields, into a `oneOf` of objects each holding a
/// variant's fields and its own: the same JSON, in a form client generators can read (most
/// cannot take `allOf` of a `oneOf`).
pub fn distribute_all_of(openapi: &mut OpenApi, name: &str) {
    use serde_json::{Value, json};
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    let Ok(schema) = serde_json::to_value(components.schemas.get(name)) else {
        return;
    };
    let parts = schema["allOf"].as_array().cloned().unwrap_or_default();
    let variants = parts
        .iter()
        .filter_map(|p| p["$ref"].as_str())
        .filter_map(|r| r.strip_prefix("#/components/schemas/"))
        .find_map(|r| serde_json::to_value(components.schemas.get(r)).ok())
        .and_then(|v| v["oneOf"].as_array().cloned());
    let own = parts.iter().find(|p| p.get("$ref").is_none());
    let (Some(variants), Some(own)) = (variants, own) else {
        return;
    };
    let one_of: Vec<Value> = variants
        .into_iter()
        .map(|mut v| {
            for (k, p) in own["properties"].as_object().into_iter().flatten() {
                v["properties"][k] = p.clone();
            }
            let required = v["required"].as_array().cloned().unwrap_or_default();
            let own_required = own["required"].as_array().cloned().unwrap_or_default();
            v["required"] = required.into_iter().chain(own_required).collect();
            v
        })
        .collect();
    let mut merged = json!({ "oneOf": one_of });
    if let Some(d) = schema.get("description") {
        merged["description"] = d.clone();
    }
    if let Ok(schema) = serde_json::from_value(merged) {
        components.schemas.insert(name.to_string(), schema);
    }
}

/// Removes a response [`ProblemResponses`] added to every operation of `path` where the
/// handler can never give it (e.g. a 404 where an unknown id reads as an empty result).
pub fn never_answers(openapi: &mut OpenApi, path: &str, status: u16) {
    let Some(item) = openapi.paths.paths.get_mut(path) else {
        return;
    };
    for op in operations(item) {
        op.responses.responses.remove(&status.to_string());
    }
}

fn add_problems(op: &mut Operation) {
    let json_body = op.request_body.as_ref().is_some_and(|b| {
        b.content.keys().any(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct == "application/json" || (ct.starts_with("application/") && ct.ends_with("+json"))
        })
    });
    let params = op.parameters.as_deref().unwrap_or_default();
    let uuid_in_path = params.iter().any(|p| {
        p.parameter_in == ParameterIn::Path
            && serde_json::to_value(&p.schema)
                .is_ok_and(|s| s.get("format").and_then(|f| f.as_str()) == Some("uuid"))
    });
    let query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
    if json_body {
        add(op, 400, "The body is not valid JSON");
        add(op, 413, "The body is larger than the limit");
        add(op, 415, "The content type is not JSON");
        add(op, 422, "Invalid fields, each named in `errors`");
    }
    if uuid_in_path {
        add(op, 404, "No resource has this id");
        add(op, 422, "The id is not a UUID");
    }
    if query {
        add(
            op,
            422,
            "A query parameter is invalid or unknown; `errors` names it",
        );
    }
    add(
        op,
        503,
        "The service is busy or its database unreachable: retry after `Retry-After` seconds",
    );
}

fn add(op: &mut Operation, status: u16, description: &str) {
    let responses = &mut op.responses.responses;
    let code = status.to_string();
    if responses.contains_key(&code) {
        return;
    }
    let response = ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build();
    responses.insert(code, response.into());
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::OpenApi as _;

    #[derive(utoipa::ToSchema, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
    }

    #[utoipa::path(
        post, path = "/things/{id}",
        params(("id" = uuid::Uuid, Path), ("q" = Option<String>, Query)),
        request_body = Body,
        responses((status = 200), (status = 422, description = "Mine"))
    )]
    #[allow(dead_code)]
    fn post_thing() {}

    #[utoipa::path(get, path = "/things", responses((status = 200)))]
    #[allow(dead_code)]
    fn list_things() {}

    #[utoipa::path(put, path = "/things/{id}", request_body = Body, responses((status = 200)))]
    #[allow(dead_code)]
    fn put_thing() {}

    #[utoipa::path(get, path = "/things/{id}", responses((status = 200)))]
    #[allow(dead_code)]
    fn get_thing() {}

    #[utoipa::path(post, path = "/things", request_body = Body, responses((status = 201)))]
    #[allow(dead_code)]
    fn create_thing() {}

    #[derive(utoipa::OpenApi)]
    #[openapi(paths(post_thing, list_things), modifiers(&ProblemResponses))]
    struct Doc;

    #[derive(utoipa::OpenApi)]
    #[openapi(paths(put_thing, get_thing, create_thing, list_things), modifiers(&ProblemResponses))]
    struct Versioned;

    #[test]
    fn declares_if_match_if_none_match_and_idempotency_key_by_the_conventions() {
        let doc = serde_json::to_value(Versioned::openapi()).unwrap();
        let headers = |op: &serde_json::Value| -> Vec<(String, bool)> {
            op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "header")
                .map(|p| {
                    (
                        p["name"].as_str().unwrap().to_string(),
                        p["required"] == true,
                    )
                })
                .collect()
        };
        let put = &doc["paths"]["/things/{id}"]["put"];
        assert_eq!(headers(put), [("If-Match".to_string(), true)]);
        assert!(put["responses"].get("412").is_some() && put["responses"].get("428").is_some());
        let get = &doc["paths"]["/things/{id}"]["get"];
        assert_eq!(headers(get), [("If-None-Match".to_string(), false)]);
        assert!(get["responses"].get("304").is_some());
        let create = &doc["paths"]["/things"]["post"];
        assert_eq!(headers(create), [("Idempotency-Key".to_string(), false)]);
        let list = &doc["paths"]["/things"]["get"];
        assert!(headers(list).is_empty() && list["responses"].get("304").is_none());
    }

    #[test]
    fn enumerate_lists_the_values_and_keeps_null() {
        #[derive(utoipa::ToSchema)]
        #[allow(dead_code)]
        struct Input {
            kind: String,
            other: Option<String>,
        }
        #[derive(utoipa::OpenApi)]
        #[openapi(components(schemas(Input)))]
        struct Doc;
        let mut doc = Doc::openapi();
        enumerate(&mut doc, "Input", "kind", &["a", "b"]);
        enumerate(&mut doc, "Input", "other", &["c"]);
        enumerate(&mut doc, "Missing", "kind", &["x"]);
        let doc = serde_json::to_value(doc).unwrap();
        let props = &doc["components"]["schemas"]["Input"]["properties"];
        assert_eq!(props["kind"]["enum"], serde_json::json!(["a", "b"]));
        assert_eq!(props["other"]["enum"], serde_json::json!(["c", null]));
    }

    #[test]
    fn adds_the_extractors_problems_and_keeps_the_handlers_own() {
        let doc = serde_json::to_value(Doc::openapi()).unwrap();
        let post = &doc["paths"]["/things/{id}"]["post"]["responses"];
        for code in ["200", "400", "404", "413", "415", "422"] {
            assert!(post.get(code).is_some(), "{code} missing: {post}");
        }
        assert_eq!(post["422"]["description"], "Mine");
        assert_eq!(post["404"]["description"], "No resource has this id");
        assert_eq!(
            post["415"]["content"][PROBLEM_JSON]["schema"]["$ref"],
            "#/components/schemas/Problem"
        );
        // A GET without parameters still refuses an unknown one (422), and may be busy (503).
        let get = &doc["paths"]["/things"]["get"]["responses"];
        let codes: Vec<&String> = get.as_object().unwrap().keys().collect();
        assert_eq!(codes, ["200", "422", "503"], "{get}");

        let mut doc = Doc::openapi();
        never_answers(&mut doc, "/things/{id}", 404);
        let doc = serde_json::to_value(doc).unwrap();
        let post = &doc["paths"]["/things/{id}"]["post"]["responses"];
        assert!(
            post.get("404").is_none() && post.get("422").is_some(),
            "{post}"
        );
    }

    #[derive(utoipa::ToSchema, serde::Serialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Shape {
        Circle { radius: f64 },
        Square { side: f64 },
    }

    #[derive(utoipa::ToSchema, serde::Serialize)]
    #[allow(dead_code)]
    struct Named {
        name: String,
        #[serde(flatten)]
        shape: Shape,
    }

    #[test]
    fn distributes_an_all_of_of_a_one_of_into_a_one_of_of_whole_objects() {
        #[derive(utoipa::OpenApi)]
        #[openapi(components(schemas(Named, Shape)))]
        struct Doc;
        let mut doc = Doc::openapi();
        let before = serde_json::to_value(&doc).unwrap();
        assert!(before["components"]["schemas"]["Named"]["allOf"].is_array());
        distribute_all_of(&mut doc, "Named");
        let named = serde_json::to_value(&doc).unwrap()["components"]["schemas"]["Named"].clone();
        assert!(named.get("allOf").is_none(), "{named}");
        let variants = named["oneOf"].as_array().unwrap();
        assert_eq!(variants.len(), 2);
        let mut seen = Vec::new();
        for v in variants {
            let props: Vec<&str> = v["properties"]
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.as_str())
                .collect();
            let mut required: Vec<&str> = v["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            required.sort();
            assert!(props.contains(&"name") && props.contains(&"kind"), "{v}");
            seen.push((
                v["properties"]["kind"]["enum"][0]
                    .as_str()
                    .unwrap()
                    .to_string(),
                required,
            ));
        }
        seen.sort();
        assert_eq!(
            seen,
            [
                ("circle".to_string(), vec!["kind", "name", "radius"]),
                ("square".to_string(), vec!["kind", "name", "side"]),
            ]
        );
    }

    #[test]
    fn require_lists_the_fields_an_all_optional_input_needs() {
        #[derive(utoipa::ToSchema)]
        #[allow(dead_code)]
        struct Input {
            email: Option<String>,
            phone: Option<String>,
        }
        #[derive(utoipa::OpenApi)]
        #[openapi(components(schemas(Input)))]
        struct Doc;
        let mut doc = Doc::openapi();
        require(&mut doc, "Input", &["email", "no_such_field"]);
        require(&mut doc, "Input", &["email"]);
        let v = serde_json::to_value(&doc).unwrap();
        assert_eq!(
            v["components"]["schemas"]["Input"]["required"],
            serde_json::json!(["email"])
        );
    }
}
