//! The gateway's one OpenAPI document, merged from the services' own, and the routing
//! maps derived from the same paths, so that what the document says and where the gateway
//! sends a request can never disagree.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

/// POST routes that compute and store nothing: a `<service>:read` key may call them.
pub const READ_ONLY_POSTS: &[&str] = &["/v1/attribution/compute", "/v1/breakeven/calculate"];

/// Where the aggregated document says the API is.
pub const GATEWAY_URL: &str = "http://127.0.0.1:8080";

const COMPONENT_SECTIONS: &[&str] = &[
    "schemas",
    "responses",
    "parameters",
    "requestBodies",
    "headers",
    "examples",
    "links",
    "callbacks",
];
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One service's own document.
pub struct ServiceDoc {
    pub service: String,
    pub doc: Value,
}

/// The generated files: the document and the three maps of `deploy/gateway`.
#[derive(Debug, PartialEq)]
pub struct Generated {
    pub openapi: String,
    pub routes_map: String,
    pub reads_map: String,
    pub bulk_map: String,
}

impl Generated {
    pub fn files(&self) -> [(&'static str, &str); 4] {
        [
            ("openapi.json", &self.openapi),
            ("routes.map", &self.routes_map),
            ("reads.map", &self.reads_map),
            ("bulk.map", &self.bulk_map),
        ]
    }
}

/// `/v1/leads/{id}` and `/v1/leads/{lead_id}` are the same route.
fn normalize(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

fn paths(doc: &Value) -> impl Iterator<Item = (&String, &Value)> {
    doc.get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.iter())
}

/// Paths that more than one service declares (after normalising parameter names).
pub fn shared_paths(docs: &[ServiceDoc]) -> Vec<(String, Vec<String>)> {
    let mut owners: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for d in docs {
        for (path, _) in paths(&d.doc) {
            owners
                .entry(normalize(path))
                .or_default()
                .insert(d.service.clone());
        }
    }
    owners
        .into_iter()
        .filter(|(_, s)| s.len() > 1)
        .map(|(p, s)| (p, s.into_iter().collect()))
        .collect()
}

/// An anchored regular expression matching the concrete paths of an OpenAPI path.
pub fn path_regex(path: &str) -> String {
    let mut re = String::from("^");
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            re.push('/');
        }
        if seg.starts_with('{') && seg.ends_with('}') {
            re.push_str("[^/]+");
        } else {
            for c in seg.chars() {
                if !c.is_ascii_alphanumeric() && !matches!(c, '-' | '_' | '/') {
                    re.push('\\');
                }
                re.push(c);
            }
        }
    }
    re.push('$');
    re
}

/// Map lines `regex value`, literal routes before templated ones so that
/// `/v1/leads/import` never falls to `/v1/leads/{id}`.
fn regex_map(entries: impl IntoIterator<Item = (String, String)>) -> String {
    let mut rows: Vec<(usize, String, String)> = entries
        .into_iter()
        .map(|(path, value)| (path.matches('{').count(), path, value))
        .collect();
    rows.sort();
    rows.dedup();
    let mut out = String::new();
    for (_, path, value) in rows {
        out.push_str(&format!("{} {value}\n", path_regex(&path)));
    }
    out
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// Rewrites `$ref`s to renamed components, in place.
fn rewrite_refs(v: &mut Value, renames: &BTreeMap<String, String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if k == "$ref" {
                    if let Some(to) = child.as_str().and_then(|r| renames.get(r)) {
                        *child = Value::String(to.clone());
                    }
                } else {
                    rewrite_refs(child, renames);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| rewrite_refs(c, renames)),
        _ => {}
    }
}

fn problem_response(description: &str, headers: Option<Value>) -> Value {
    let mut r = json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/GatewayProblem"}}}
    });
    if let Some(h) = headers {
        r["headers"] = h;
    }
    r
}

/// The responses the gateway itself can give for any operation.
fn gateway_responses(has_body: bool, bulk: bool) -> Vec<(&'static str, Value)> {
    let mut out = vec![
        (
            "401",
            problem_response(
                "No API key, or an unknown or revoked one.",
                Some(json!({"WWW-Authenticate": {"schema": {"type": "string"}}})),
            ),
        ),
        (
            "403",
            problem_response(
                "The API key lacks the scope this operation needs (`scope`).",
                None,
            ),
        ),
        (
            "429",
            problem_response(
                "The API key is over its rate limit.",
                Some(
                    json!({"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}),
                ),
            ),
        ),
        (
            "503",
            problem_response("No healthy instance of the service is available.", None),
        ),
    ];
    if has_body {
        out.push((
            "413",
            problem_response(
                if bulk {
                    "The body is over the gateway's bulk limit (2 GiB by default)."
                } else {
                    "The body is over 1 MiB."
                },
                None,
            ),
        ));
    }
    out
}

/// An operation whose body may be other than JSON (NDJSON, CSV): streamed, large limit.
fn is_bulk(op: &Value) -> bool {
    op.pointer("/requestBody/content")
        .and_then(Value::as_object)
        .is_some_and(|c| {
            c.keys()
                .any(|k| k != "application/json" && !k.ends_with("+json"))
        })
}

/// Merges the services' documents into the gateway's, with the routing maps.
pub fn generate(docs: &[ServiceDoc]) -> anyhow::Result<Generated> {
    let shared = shared_paths(docs);
    if !shared.is_empty() {
        let list: Vec<String> = shared
            .iter()
            .map(|(p, s)| format!("{p} ({})", s.join(", ")))
            .collect();
        anyhow::bail!(
            "more than one service declares these paths, so the gateway cannot route them: {}",
            list.join("; ")
        );
    }

    // Components defined differently by several services get the service's name in front.
    let mut definitions: BTreeMap<(String, String), Vec<(usize, Value)>> = BTreeMap::new();
    for (i, d) in docs.iter().enumerate() {
        for section in COMPONENT_SECTIONS {
            if let Some(m) = d
                .doc
                .pointer(&format!("/components/{section}"))
                .and_then(Value::as_object)
            {
                for (name, v) in m {
                    definitions
                        .entry((section.to_string(), name.clone()))
                        .or_default()
                        .push((i, v.clone()));
                }
            }
        }
    }
    let mut renames: Vec<BTreeMap<String, String>> = vec![BTreeMap::new(); docs.len()];
    for ((section, name), defs) in &definitions {
        let all_same = defs.windows(2).all(|w| w[0].1 == w[1].1);
        if defs.len() > 1 && !all_same {
            for (i, _) in defs {
                renames[*i].insert(
                    format!("#/components/{section}/{name}"),
                    format!(
                        "#/components/{section}/{}{name}",
                        capitalised(&docs[*i].service)
                    ),
                );
            }
        }
    }

    let mut out_paths = Map::new();
    let mut components: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut tags: BTreeMap<String, Value> = BTreeMap::new();
    let mut routes = Vec::new();
    let mut reads = Vec::new();
    let mut bulk = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        let mut doc = d.doc.clone();
        rewrite_refs(&mut doc, &renames[i]);
        for section in COMPONENT_SECTIONS {
            if let Some(m) = doc
                .pointer(&format!("/components/{section}"))
                .and_then(Value::as_object)
            {
                for (name, v) in m {
                    let key = format!("#/components/{section}/{name}");
                    let new_name = renames[i]
                        .get(&key)
                        .map(|r| r.rsplit('/').next().unwrap_or(name).to_string())
                        .unwrap_or_else(|| name.clone());
                    components
                        .entry(section.to_string())
                        .or_default()
                        .insert(new_name, v.clone());
                }
            }
        }
        for t in doc
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = t.get("name").and_then(Value::as_str) {
                tags.entry(name.to_string()).or_insert_with(|| t.clone());
            }
        }
        for (path, item) in paths(&doc) {
            let mut item = item.clone();
            routes.push((path.clone(), d.service.clone()));
            for method in METHODS {
                let Some(op) = item.get_mut(*method) else {
                    continue;
                };
                let read_only = *method == "get"
                    || *method == "head"
                    || (*method == "post" && READ_ONLY_POSTS.contains(&path.as_str()));
                let scope = format!("{}:{}", d.service, if read_only { "read" } else { "write" });
                if *method == "post" && READ_ONLY_POSTS.contains(&path.as_str()) {
                    reads.push((path.clone(), "1".to_string()));
                }
                let bulky = is_bulk(op);
                if bulky {
                    bulk.push((path.clone(), "1".to_string()));
                }
                if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                    let prefix = format!("{}_", d.service);
                    if !id.starts_with(&prefix) {
                        op["operationId"] = Value::String(format!("{prefix}{id}"));
                    }
                }
                op["x-required-scope"] = Value::String(scope.clone());
                let description = op
                    .get("description")
                    .and_then(Value::as_str)
                    .map(|s| format!("{s}\n\n"))
                    .unwrap_or_default();
                op["description"] =
                    Value::String(format!("{description}Needs the scope `{scope}` (or `*`)."));
                let has_body = op.get("requestBody").is_some();
                let responses = op
                    .as_object_mut()
                    .expect("an operation is an object")
                    .entry("responses")
                    .or_insert_with(|| json!({}));
                for (code, response) in gateway_responses(has_body, bulky) {
                    if let Some(r) = responses.as_object_mut() {
                        r.entry(code).or_insert(response);
                    }
                }
            }
            out_paths.insert(path.clone(), item);
        }
    }
    for path in READ_ONLY_POSTS {
        if !routes.iter().any(|(p, _)| p == path) {
            anyhow::bail!("{path} is listed as a read-only computation but no service declares it");
        }
    }

    out_paths.insert(
        "/health/live".into(),
        json!({"get": {
            "operationId": "gateway_live", "tags": ["gateway"], "security": [],
            "summary": "The gateway is up.",
            "responses": {"200": {"description": "Up.", "content": {"application/json": {"schema": {"type": "object"}}}}}
        }}),
    );
    out_paths.insert(
        "/health/ready".into(),
        json!({"get": {
            "operationId": "gateway_ready", "tags": ["gateway"], "security": [],
            "summary": "Every service has at least one healthy instance.",
            "responses": {
                "200": {"description": "Ready, with the healthy instances per service.", "content": {"application/json": {"schema": {"type": "object"}}}},
                "503": problem_response("A service has no healthy instance; `detail` names which.", None)
            }
        }}),
    );
    let schemas = components.entry("schemas".into()).or_default();
    schemas.insert(
        "GatewayProblem".into(),
        json!({
            "type": "object",
            "description": "An RFC 9457 problem from the gateway.",
            "required": ["type", "title", "status"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string", "description": "The request id."},
                "scope": {"type": "string", "description": "On 403: the scope the operation needs."}
            }
        }),
    );
    let mut components_value = Map::new();
    for (section, m) in components {
        components_value.insert(section, Value::Object(m));
    }
    components_value.insert(
        "securitySchemes".into(),
        json!({"apiKey": {
            "type": "http", "scheme": "bearer",
            "description": "An API key from `touchstone keys create`. Scopes: `<service>:read` (GET, HEAD, and the computations that store nothing), `<service>:write` (everything else; includes read) and `*`."
        }}),
    );
    let mut tags: Vec<Value> = tags.into_values().collect();
    tags.push(json!({"name": "gateway", "description": "The gateway's own health."}));

    let doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Touchstone API",
            "version": docs.iter().find_map(|d| d.doc.pointer("/info/version").and_then(Value::as_str)).unwrap_or("0.0.0"),
            "description": "Every service of the Touchstone suite behind one gateway. Authenticate with `Authorization: Bearer <key>`. Errors are RFC 9457 problems (`application/problem+json`). Every route keeps the same conventions for errors, pages (`limit`, `cursor`, `{items, next_cursor}`), `Idempotency-Key`, `If-Match`/`ETag` and dates: see docs/api-conventions.md in the repository.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}
        },
        "servers": [{"url": GATEWAY_URL, "description": "The gateway started by `make run`."}],
        "security": [{"apiKey": []}],
        "tags": tags,
        "paths": out_paths,
        "components": components_value,
    });
    Ok(Generated {
        openapi: serde_json::to_string_pretty(&doc)? + "\n",
        routes_map: regex_map(routes),
        reads_map: regex_map(reads),
        bulk_map: regex_map(bulk),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(service: &str, paths: Value, schemas: Value) -> ServiceDoc {
        ServiceDoc {
            service: service.into(),
            doc: json!({"openapi": "3.1.0", "info": {"title": service, "version": "0.1.0"},
                        "paths": paths, "components": {"schemas": schemas}}),
        }
    }

    #[test]
    fn path_regexes_match_their_concrete_paths_only() {
        assert_eq!(
            path_regex("/v1/leads/{id}/journey"),
            "^/v1/leads/[^/]+/journey$"
        );
        assert_eq!(
            path_regex("/v1/breakeven/chart.svg"),
            "^/v1/breakeven/chart\\.svg$"
        );
    }

    #[test]
    fn a_path_declared_by_two_services_is_refused() {
        let docs = [
            doc("leads", json!({"/v1/things/{id}": {"get": {}}}), json!({})),
            doc(
                "funnel",
                json!({"/v1/things/{thing}": {"get": {}}}),
                json!({}),
            ),
        ];
        assert_eq!(
            shared_paths(&docs),
            vec![(
                "/v1/things/{}".to_string(),
                vec!["funnel".to_string(), "leads".to_string()]
            )]
        );
        assert!(generate(&docs).is_err());
    }

    #[test]
    fn clashing_components_are_renamed_and_refs_follow() {
        let leads = doc(
            "leads",
            json!({"/v1/leads/{id}": {"patch": {"requestBody": {"content": {"application/merge-patch+json": {}}}, "responses": {}}},
                   "/v1/leads": {"get": {"operationId": "list", "responses": {"200": {"description": "", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}}}}},
                   "/v1/attribution/compute": {"post": {"requestBody": {"content": {"application/json": {}}}, "responses": {}}},
                   "/v1/breakeven/calculate": {"post": {"responses": {}}}}),
            json!({"Page": {"type": "object", "title": "leads"}, "Problem": {"type": "object"}}),
        );
        let funnel = doc(
            "funnel",
            json!({"/v1/deals": {"get": {"operationId": "list", "responses": {"200": {"description": "", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}}}}},
                   "/v1/deals/import": {"post": {"requestBody": {"content": {"application/x-ndjson": {}}}, "responses": {}}}}),
            json!({"Page": {"type": "object", "title": "funnel"}, "Problem": {"type": "object"}}),
        );
        let g = generate(&[leads, funnel]).unwrap();
        let v: Value = serde_json::from_str(&g.openapi).unwrap();
        let schemas = v["components"]["schemas"].as_object().unwrap();
        assert!(schemas.contains_key("LeadsPage") && schemas.contains_key("FunnelPage"));
        assert!(!schemas.contains_key("Page"));
        // Identical definitions stay shared under their own name.
        assert!(schemas.contains_key("Problem") && !schemas.contains_key("LeadsProblem"));
        assert_eq!(
            v["paths"]["/v1/deals"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
                ["$ref"],
            "#/components/schemas/FunnelPage"
        );
        assert_eq!(v["paths"]["/v1/deals"]["get"]["operationId"], "funnel_list");
        assert_eq!(
            v["paths"]["/v1/deals"]["get"]["x-required-scope"],
            "funnel:read"
        );
        assert_eq!(
            v["paths"]["/v1/deals/import"]["post"]["x-required-scope"],
            "funnel:write"
        );
        assert_eq!(
            v["paths"]["/v1/attribution/compute"]["post"]["x-required-scope"],
            "leads:read"
        );
        for code in ["401", "403", "429", "503"] {
            assert!(
                v["paths"]["/v1/leads"]["get"]["responses"]
                    .get(code)
                    .is_some(),
                "{code}"
            );
        }
        assert!(
            v["paths"]["/v1/leads"]["get"]["responses"]
                .get("413")
                .is_none()
        );
        assert!(
            v["paths"]["/v1/deals/import"]["post"]["responses"]
                .get("413")
                .is_some()
        );
        assert_eq!(
            g.routes_map,
            "^/v1/attribution/compute$ leads\n^/v1/breakeven/calculate$ leads\n^/v1/deals$ funnel\n^/v1/deals/import$ funnel\n^/v1/leads$ leads\n^/v1/leads/[^/]+$ leads\n"
        );
        assert_eq!(
            g.reads_map,
            "^/v1/attribution/compute$ 1\n^/v1/breakeven/calculate$ 1\n"
        );
        assert_eq!(g.bulk_map, "^/v1/deals/import$ 1\n");
    }

    #[test]
    fn literal_routes_come_before_templated_ones() {
        let m = regex_map([
            ("/v1/leads/{id}".to_string(), "leads".to_string()),
            (
                "/v1/leads/{id}/journey".to_string(),
                "touchpoints".to_string(),
            ),
            ("/v1/leads/import".to_string(), "leads".to_string()),
        ]);
        assert_eq!(
            m,
            "^/v1/leads/import$ leads\n^/v1/leads/[^/]+$ leads\n^/v1/leads/[^/]+/journey$ touchpoints\n"
        );
    }
}
