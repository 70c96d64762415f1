//! What every service's OpenAPI document says about the problems the platform's extractors
//! answer with, so that each handler declares only the ones its own logic returns.

use utoipa::Modify;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder, Schema};

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
/// A response the handler declares itself is left as it is.
pub struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            operations(item).for_each(add_problems);
        }
    }
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

    #[derive(utoipa::OpenApi)]
    #[openapi(paths(post_thing, list_things), modifiers(&ProblemResponses))]
    struct Doc;

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
        let get = &doc["paths"]["/things"]["get"]["responses"];
        assert_eq!(get.as_object().unwrap().len(), 1, "{get}");

        let mut doc = Doc::openapi();
        never_answers(&mut doc, "/things/{id}", 404);
        let doc = serde_json::to_value(doc).unwrap();
        let post = &doc["paths"]["/things/{id}"]["post"]["responses"];
        assert!(
            post.get("404").is_none() && post.get("422").is_some(),
            "{post}"
        );
    }
}
