//! The API conventions (docs/api-conventions.md) over every route of every service, driven
//! from the aggregated OpenAPI document rather than a hand-kept list of routes:
//!
//! - statically, over every operation: parameters sit where the path says, `limit` is
//!   bounded, no collection is a bare array and every page takes `limit` and `cursor`,
//!   every creating POST takes `Idempotency-Key`, every PUT and PATCH requires `If-Match`;
//! - through the gateway, against the real services loaded with the demo data: every GET
//!   refuses an unknown query parameter by name (and so does every write), every page pages with its cursor and
//!   bounds `limit`, every mutable resource answers ETag, 304, 428 and 412, and every
//!   top-level creating POST replays its response for the same key and body and refuses
//!   another body with the same key.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{Suite, bin, repo, unique_id};

/// The aggregated document as checked in (another test keeps it current).
fn checked_in() -> Doc {
    let text = std::fs::read_to_string(repo().join("deploy/gateway/openapi.json"))
        .expect("deploy/gateway/openapi.json");
    Doc(serde_json::from_str(&text).expect("JSON"))
}

struct Doc(Value);

/// One operation of the document.
struct Op<'a> {
    path: &'a str,
    method: &'a str,
    op: &'a Value,
}

impl Op<'_> {
    fn name(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.path)
    }

    fn params(&self) -> impl Iterator<Item = &Value> {
        self.op["parameters"].as_array().into_iter().flatten()
    }

    fn header(&self, name: &str) -> Option<&Value> {
        self.params().find(|p| {
            p["in"] == "header"
                && p["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    }

    fn responds(&self, status: u16) -> bool {
        self.op["responses"].get(status.to_string()).is_some()
    }
}

impl Doc {
    fn ops(&self) -> Vec<Op<'_>> {
        let mut out = Vec::new();
        for (path, item) in self.0["paths"].as_object().expect("paths") {
            for method in ["get", "put", "post", "patch", "delete"] {
                if let Some(op) = item.get(method) {
                    out.push(Op { path, method, op });
                }
            }
        }
        out
    }

    fn has(&self, path: &str, method: &str) -> bool {
        self.0["paths"][path].get(method).is_some()
    }

    /// A schema with its `$ref` followed.
    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(r) => {
                let name = r.trim_start_matches("#/components/schemas/");
                self.resolve(&self.0["components"]["schemas"][name])
            }
            None => schema,
        }
    }

    /// The JSON schema of a response or of the request body.
    fn json_schema<'a>(&'a self, holder: &'a Value) -> Option<&'a Value> {
        holder["content"]["application/json"]
            .get("schema")
            .map(|s| self.resolve(s))
    }

    fn ok_schema<'a>(&'a self, op: &Op<'a>) -> Option<&'a Value> {
        self.json_schema(&op.op["responses"]["200"])
    }

    /// `{"items": [...], "next_cursor": ...}`.
    fn is_page(&self, schema: &Value) -> bool {
        let props = &schema["properties"];
        props.get("next_cursor").is_some()
            && props
                .get("items")
                .is_some_and(|i| self.resolve(i)["type"] == "array")
    }

    fn is_bare_array(&self, schema: &Value) -> bool {
        schema["type"] == "array"
    }
}

/// Whether the GET's 200 also comes as NDJSON (`format=ndjson`), as a large report does.
fn offers_ndjson(op: &Op<'_>) -> bool {
    op.op["responses"]["200"]["content"]
        .get("application/x-ndjson")
        .is_some()
}

/// The `{name}`s of a path template.
fn template_names(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.split('}').next())
        .collect()
}

#[test]
fn every_operation_declares_the_conventions() {
    let doc = checked_in();
    let mut broken: Vec<String> = Vec::new();
    let ops = doc.ops();
    assert!(ops.len() > 60, "{} operations", ops.len());
    for op in &ops {
        let name = op.name();
        let in_template = template_names(op.path);
        for p in op.params() {
            let pname = p["name"].as_str().unwrap_or_default();
            let declared_path = p["in"] == "path";
            if declared_path != in_template.contains(&pname) {
                broken.push(format!("{name}: parameter `{pname}` is in: {}", p["in"]));
            }
            if pname == "limit" && p["in"] == "query" {
                let s = &p["schema"];
                if s["maximum"] != json!(500) || s["minimum"] != json!(1) {
                    broken.push(format!("{name}: limit is not bounded 1..=500: {s}"));
                }
            }
        }
        let schema = (op.method == "get").then(|| doc.ok_schema(op)).flatten();
        if let Some(schema) = schema {
            if doc.is_bare_array(schema) && !offers_ndjson(op) {
                broken.push(format!(
                    "{name}: answers a bare array, neither a page nor offered as NDJSON"
                ));
            }
            if doc.is_page(schema) {
                for q in ["limit", "cursor"] {
                    if !op.params().any(|p| p["in"] == "query" && p["name"] == q) {
                        broken.push(format!("{name}: a page without `{q}`"));
                    }
                }
            }
        }
        if op.method == "post" && op.responds(201) && op.header("Idempotency-Key").is_none() {
            broken.push(format!("{name}: creates without Idempotency-Key"));
        }
        if matches!(op.method, "put" | "patch") {
            if op.header("If-Match").is_none_or(|h| h["required"] != true) {
                broken.push(format!("{name}: If-Match is not required"));
            }
            for s in [412, 428] {
                if !op.responds(s) {
                    broken.push(format!("{name}: {s} is not declared"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// The gateway in front of the four services, loaded by `touchstone demo`, and a key that
/// may do everything.
struct Loaded {
    suite: Suite,
    key: String,
}

impl Loaded {
    async fn start() -> Loaded {
        let suite = Suite::start().await;
        let urls: Vec<String> = suite
            .services
            .iter()
            .map(|s| format!("http://{}", s.address()))
            .collect();
        let out = tokio::task::spawn_blocking(move || {
            Command::new(bin("touchstone"))
                .current_dir(repo())
                .args(["demo", "--seed", "7", "--leads", "40"])
                .args(["--leads-url", &urls[0]])
                .args(["--funnel-url", &urls[1]])
                .args(["--touchpoints-url", &urls[2]])
                .args(["--breakeven-url", &urls[3]])
                .output()
                .expect("the demo runs")
        })
        .await
        .unwrap();
        assert!(
            out.status.success(),
            "demo: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let key = suite
            .gw
            .create_key("conventions", &["*"], Some("1000000/min"));
        Loaded { suite, key }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.suite
            .gw
            .client
            .request(method, self.suite.gw.url(path))
            .bearer_auth(&self.key)
    }

    async fn get(&self, path: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        send(self.request(reqwest::Method::GET, path)).await
    }

    /// Ids of the collection a `{id}` path hangs from (its first items).
    async fn some_ids(&self, collection: &str) -> Vec<String> {
        let (status, _, body) = self.get(&format!("{collection}?limit=50")).await;
        assert_eq!(status, 200, "GET {collection}: {body}");
        let ids: Vec<String> = body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["id"].as_str().map(str::to_string))
            .collect();
        assert!(!ids.is_empty(), "the demo left {collection} empty: {body}");
        ids
    }

    /// The path with every `{…}` filled from the collection it hangs from: the first item,
    /// or for the last `{…}` the first item whose path answers a GET (a lead that has a
    /// MEDDICC card, say).
    async fn concrete(&self, template: &str) -> String {
        let segments: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
        let last = segments.iter().rposition(|s| s.starts_with('{'));
        let mut out = String::new();
        for (i, seg) in segments.iter().enumerate() {
            let Some(rest) = seg.strip_prefix('{') else {
                out.push('/');
                out.push_str(seg);
                continue;
            };
            let ids = self.some_ids(&out).await;
            let mut chosen = ids[0].clone();
            if Some(i) == last {
                for id in &ids {
                    let candidate = fill(template, &out, i, id);
                    if self.get(&candidate).await.0 == 200 {
                        chosen = id.clone();
                        break;
                    }
                }
            }
            let suffix = rest.split_once('}').map(|(_, s)| s).unwrap_or_default();
            out.push_str(&format!("/{chosen}{suffix}"));
        }
        out
    }
}

/// `prefix` (the first `at` segments of `template`, filled) with `id` in segment `at` and
/// the template's remaining literal segments.
fn fill(template: &str, prefix: &str, at: usize, id: &str) -> String {
    let segments: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    let suffix = segments[at]
        .split_once('}')
        .map(|(_, s)| s)
        .unwrap_or_default();
    let mut out = format!("{prefix}/{id}{suffix}");
    for seg in &segments[at + 1..] {
        out.push('/');
        out.push_str(seg);
    }
    out
}

async fn send(req: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = req.send().await.expect("request sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("a body");
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, headers, body)
}

fn named(body: &Value, field: &str) -> bool {
    body["errors"]
        .as_array()
        .is_some_and(|e| e.iter().any(|e| e["field"] == field))
}

/// The fields of `value` the request schema declares, so that a resource as read can be
/// sent back as a request: from `value` itself, or from the member of it with more of the
/// request's fields (a rule read as `{"version": 3, "rule": {...}}`). A `oneOf` request (one
/// object or an array of them) takes its object form.
fn as_request(doc: &Doc, request: &Value, value: &Value) -> Value {
    let request = match request["oneOf"].as_array() {
        Some(alternatives) => alternatives
            .iter()
            .map(|a| doc.resolve(a))
            .find(|a| a["properties"].is_object())
            .unwrap_or(request),
        None => request,
    };
    let props = request["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    // The object (the value or one of its members) with the most fields of the request.
    let shared = |v: &Value| {
        v.as_object()
            .map_or(0, |o| o.keys().filter(|k| props.contains_key(*k)).count())
    };
    let source = value
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, v)| v)
        .fold(
            value,
            |best, v| if shared(v) > shared(best) { v } else { best },
        );
    let mut out = serde_json::Map::new();
    for (k, v) in source.as_object().into_iter().flatten() {
        // A value the request does not take (a lead read at `opportunity`, created only as
        // `subscriber` or `lead`) is left out.
        let refused = props
            .get(k)
            .and_then(|p| p["enum"].as_array())
            .is_some_and(|allowed| !allowed.contains(v));
        if props.contains_key(k) && !v.is_null() && !refused {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// A copy of an existing resource made unique where resources usually must be: new names,
/// emails, domains and external ids; a UUID id left out (the service gives one); a deal's
/// stage left out (it opens in the first).
fn unique_copy(mut body: Value, tag: &str) -> Value {
    if let Some(obj) = body.as_object_mut() {
        obj.remove("stage");
        if obj
            .get("id")
            .and_then(Value::as_str)
            .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok())
        {
            obj.remove("id");
        }
        for (k, v) in obj.iter_mut() {
            match (k.as_str(), v.as_str()) {
                ("email", Some(_)) => *v = json!(format!("conv-{tag}@example.com")),
                ("domain", Some(_)) => *v = json!(format!("conv-{tag}.example.com")),
                ("id" | "external_id" | "key" | "name" | "title", Some(s)) => {
                    *v = json!(format!("{s}-{tag}"))
                }
                ("domains", _) => *v = json!([format!("conv-{tag}.example.com")]),
                _ => {}
            }
        }
    }
    body
}

#[tokio::test]
async fn every_route_keeps_the_conventions_through_the_gateway() {
    let suite = Loaded::start().await;
    let (status, _, doc) = suite.get("/openapi.json").await;
    assert_eq!(status, 200);
    let doc = Doc(doc);
    let mut broken: Vec<String> = Vec::new();
    let mut checked: BTreeMap<&str, Vec<String>> = BTreeMap::new();

    for op in doc.ops() {
        // The probes are for orchestrators, not API clients: they take no part in these.
        if op.path.starts_with("/health/") {
            continue;
        }
        let name = op.name();
        let path = suite.concrete(op.path).await;
        if matches!(op.method, "post" | "put" | "patch" | "delete") {
            // A write refuses an unknown query parameter by name too, before its body.
            let method = reqwest::Method::from_bytes(op.method.to_uppercase().as_bytes())
                .expect("an HTTP method");
            let (s, _, body) = send(
                suite
                    .request(method, &format!("{path}?zz_unknown=1"))
                    .json(&json!({})),
            )
            .await;
            if s != 422 || !named(&body, "zz_unknown") {
                broken.push(format!("{name}: unknown query parameter gave {s}: {body}"));
            }
            checked
                .entry("unknown query on writes")
                .or_default()
                .push(name.clone());
        }
        match op.method {
            "get" => {
                // An unknown query parameter is a 422 that names it.
                let (s, _, body) = suite.get(&format!("{path}?zz_unknown=1")).await;
                if s != 422 || !named(&body, "zz_unknown") {
                    broken.push(format!("{name}: unknown query parameter gave {s}: {body}"));
                }
                checked
                    .entry("unknown query")
                    .or_default()
                    .push(name.clone());
                if offers_ndjson(&op) {
                    check_ndjson(&suite, &name, &path, &mut broken).await;
                    checked.entry("NDJSON").or_default().push(name.clone());
                }
                if doc.ok_schema(&op).is_some_and(|s| doc.is_page(s)) {
                    check_paging(&suite, &name, &path, &mut broken).await;
                    checked.entry("pages").or_default().push(name.clone());
                }
                if doc.has(op.path, "put") || doc.has(op.path, "patch") {
                    let (s, headers, body) = suite.get(&path).await;
                    let etag = headers.get("etag").and_then(|v| v.to_str().ok());
                    match (s, etag) {
                        (200, Some(etag)) => {
                            let (s, _, _) = send(
                                suite
                                    .request(reqwest::Method::GET, &path)
                                    .header("if-none-match", etag),
                            )
                            .await;
                            if s != 304 {
                                broken.push(format!("{name}: If-None-Match {etag} gave {s}"));
                            }
                        }
                        _ => broken.push(format!("{name}: {s} without an ETag: {body}")),
                    }
                    checked
                        .entry("ETag and 304")
                        .or_default()
                        .push(name.clone());
                }
            }
            "put" | "patch" => {
                check_if_match(&suite, &doc, &op, &path, &mut broken).await;
                checked.entry("If-Match").or_default().push(name.clone());
            }
            "post" if op.responds(201) && template_names(op.path).is_empty() => {
                check_idempotency(&suite, &doc, &op, &mut broken).await;
                checked
                    .entry("Idempotency-Key")
                    .or_default()
                    .push(name.clone());
            }
            _ => {}
        }
    }
    eprintln!("conventions checked: {checked:#?}");
    for (what, at_least) in [
        ("unknown query", 40),
        ("unknown query on writes", 25),
        ("pages", 12),
        ("ETag and 304", 8),
        ("If-Match", 10),
        ("Idempotency-Key", 8),
        ("NDJSON", 6),
    ] {
        let n = checked.get(what).map_or(0, Vec::len);
        assert!(n >= at_least, "only {n} routes checked for {what}");
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// `limit=1` gives one item and a cursor to a different one; `limit` outside 1..=500 is a
/// 422 naming it.
async fn check_paging(suite: &Loaded, name: &str, path: &str, broken: &mut Vec<String>) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let (s, _, first) = suite.get(&format!("{path}{sep}limit=1")).await;
    let items = first["items"].as_array().map(Vec::len);
    if s != 200 || items.is_none_or(|n| n > 1) {
        broken.push(format!("{name}?limit=1 gave {s}: {first}"));
        return;
    }
    if let Some(cursor) = first["next_cursor"].as_str() {
        let (s, _, second) = suite
            .get(&format!("{path}{sep}limit=1&cursor={cursor}"))
            .await;
        if s != 200 || second["items"].get(0).is_none() || second["items"][0] == first["items"][0] {
            broken.push(format!("{name}: the next page gave {s}: {second}"));
        }
    }
    for bad in ["0", "501"] {
        let (s, _, body) = suite.get(&format!("{path}{sep}limit={bad}")).await;
        if s != 422 || !named(&body, "limit") {
            broken.push(format!("{name}?limit={bad} gave {s}: {body}"));
        }
    }
}

/// `format=ndjson` answers `application/x-ndjson`, one JSON object per line; where the JSON
/// answer is an array of rows, the lines are those rows.
async fn check_ndjson(suite: &Loaded, name: &str, path: &str, broken: &mut Vec<String>) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let resp = suite
        .request(reqwest::Method::GET, &format!("{path}{sep}format=ndjson"))
        .send()
        .await
        .expect("request sent");
    let status = resp.status().as_u16();
    let (_, _, json) = suite.get(path).await;
    if status == 422 && !json.is_array() {
        // A report whose JSON is one object (several parts) names the part its files take.
        return;
    }
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = resp.text().await.unwrap_or_default();
    let lines: Result<Vec<Value>, _> = text.lines().map(serde_json::from_str).collect();
    let Ok(lines) = lines else {
        broken.push(format!(
            "{name}?format=ndjson: a line is not JSON: {text:.300}"
        ));
        return;
    };
    if status != 200 || ct != "application/x-ndjson" || !lines.iter().all(Value::is_object) {
        broken.push(format!(
            "{name}?format=ndjson gave {status} {ct}: {text:.300}"
        ));
        return;
    }
    if let Some(rows) = json.as_array() {
        let differs = |i: usize| match (rows.get(i), lines.get(i)) {
            (Some(a), Some(b)) => !same(a, b),
            _ => true,
        };
        if let Some(i) = (0..rows.len().max(lines.len())).find(|&i| differs(i)) {
            broken.push(format!(
                "{name}: NDJSON line {} is {:?}, JSON row {i} is {:?} ({} lines, {} rows)",
                i + 1,
                lines.get(i),
                rows.get(i),
                lines.len(),
                rows.len()
            ));
        }
    }
}

/// Equal, numbers to a relative 1e-6: a report computed at two instants (engagement decays
/// with time) differs in the last digits.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x == y || (x - y).abs() <= 1e-6 * x.abs().max(y.abs())
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w))
        }
        _ => a == b,
    }
}

/// Without If-Match 428, with a stale one 412, with the current ETag a success.
async fn check_if_match(
    suite: &Loaded,
    doc: &Doc,
    op: &Op<'_>,
    path: &str,
    broken: &mut Vec<String>,
) {
    let name = op.name();
    let method = reqwest::Method::from_bytes(op.method.to_uppercase().as_bytes()).unwrap();
    let (s, headers, current) = suite.get(path).await;
    let Some(etag) = headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        broken.push(format!("{name}: its GET gave {s} without an ETag"));
        return;
    };
    let body = if op.method == "patch" {
        json!({})
    } else {
        let request = doc
            .json_schema(&op.op["requestBody"])
            .expect("a PUT takes a JSON body");
        as_request(doc, request, &current)
    };
    let attempt = |if_match: Option<&str>| {
        let mut req = suite.request(method.clone(), path).json(&body);
        if let Some(m) = if_match {
            req = req.header("if-match", m);
        }
        send(req)
    };
    let (s, _, b) = attempt(None).await;
    if s != 428 || !named(&b, "header:if-match") {
        broken.push(format!("{name} without If-Match gave {s}: {b}"));
    }
    let (s, _, b) = attempt(Some("\"999999\"")).await;
    if s != 412 {
        broken.push(format!("{name} with a stale If-Match gave {s}: {b}"));
    }
    let (s, headers, b) = attempt(Some(&etag)).await;
    if !(200..300).contains(&s) || headers.get("etag").is_none() {
        broken.push(format!("{name} with the current ETag {etag} gave {s}: {b}"));
    }
}

/// A copy of an existing resource, created with a key: the same key and body replay the
/// answer; the same key with another body is a 422 naming the header.
async fn check_idempotency(suite: &Loaded, doc: &Doc, op: &Op<'_>, broken: &mut Vec<String>) {
    let name = op.name();
    let Some(request) = doc.json_schema(&op.op["requestBody"]) else {
        broken.push(format!("{name}: creates without a JSON body"));
        return;
    };
    let existing = {
        let (s, _, list) = suite.get(&format!("{}?limit=1", op.path)).await;
        match list["items"].get(0) {
            Some(item) if s == 200 => item.clone(),
            _ => {
                broken.push(format!(
                    "{name}: no item to copy from GET {} ({s})",
                    op.path
                ));
                return;
            }
        }
    };
    let tag = unique_id();
    let body =
        serde_json::to_string(&unique_copy(as_request(doc, request, &existing), &tag)).unwrap();
    let key = format!("conventions-{tag}");
    let post = |body: String| {
        send(
            suite
                .request(reqwest::Method::POST, op.path)
                .header("content-type", "application/json")
                .header("idempotency-key", &key)
                .body(body),
        )
    };
    let (s1, _, first) = post(body.clone()).await;
    if s1 != 201 {
        broken.push(format!(
            "{name}: a copy of an existing item gave {s1}: {first} (sent {body})"
        ));
        return;
    }
    let (s2, headers, again) = post(body.clone()).await;
    let replayed = headers
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true");
    if s2 != 201 || again != first || !replayed {
        broken.push(format!(
            "{name}: the repeat gave {s2} (replayed: {replayed}): {again}"
        ));
    }
    let (s3, _, other) = post(format!("{body} ")).await;
    if s3 != 422 || !named(&other, "header:idempotency-key") {
        broken.push(format!(
            "{name}: another body with the same key gave {s3}: {other}"
        ));
    }
}
