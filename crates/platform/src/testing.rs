//! Test harness: each test gets its own database and its own broker names, so tests
//! run in parallel against the real PostgreSQL and RabbitMQ and leave nothing behind.

use std::time::Duration;

use tokio::sync::oneshot;

pub use crate::fault_proxy::FaultProxy;

use crate::app::{Application, ServiceDefinition, TaskAborter};
use crate::config::Settings;
use crate::db::Db;

/// Broker names shared by the services of one test: a unique exchange and queue prefix.
#[derive(Debug, Clone)]
pub struct TestNamespace {
    pub id: String,
}

impl Default for TestNamespace {
    fn default() -> Self {
        Self::new()
    }
}

impl TestNamespace {
    pub fn new() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        TestNamespace { id }
    }

    /// Settings for `service` in this namespace: random port, fresh database, unique
    /// exchange and queues that expire a minute after the test, short retry delays.
    pub fn settings(&self, service: &str) -> Settings {
        crate::telemetry::init_for_tests();
        let mut s = Settings::defaults(service);
        s.http.port = 0;
        s.http.workers = Some(1);
        s.database.name = format!("test_{service}_{}", self.id);
        s.database.pool_size = 4;
        s.bus.exchange = format!("test.{}.events", self.id);
        s.bus.queue_prefix = format!("test.{}", self.id);
        s.bus.ephemeral_ms = Some(60_000);
        s.bus.retry_base_ms = 50;
        s.bus.max_retries = 3;
        s.outbox.poll_ms = 200;
        s
    }
}

/// A service running inside the test process. Dropping it stops the service and drops
/// its database.
pub struct RunningService {
    pub address: String,
    pub port: u16,
    pub settings: Settings,
    pub db: Db,
    pub client: reqwest::Client,
    /// Ends the relay, the consumer or a service task as a crash would.
    pub tasks: TaskAborter,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    keep_database: bool,
}

impl RunningService {
    pub async fn start(def: ServiceDefinition, settings: Settings) -> RunningService {
        let app = Application::build(def, settings.clone())
            .await
            .expect("service starts");
        let port = app.port();
        let db = app.db().clone();
        let status = app.broker_status();
        let tasks = app.task_aborter();
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        // Events published by a test must find the exchange and the bound queue; a test of
        // an unreachable broker goes on after the wait. A service declares six quorum queues
        // at start, which a broker serving a whole loaded test run can take a while to do.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !status.is_up() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        RunningService {
            address: format!("http://127.0.0.1:{port}"),
            port,
            settings,
            db,
            client: reqwest::Client::new(),
            tasks,
            stop: Some(tx),
            task: Some(task),
            keep_database: false,
        }
    }

    /// Stops the service but keeps its database, e.g. to restart it on the same data.
    pub async fn stop(mut self) -> Settings {
        self.keep_database = true;
        self.shutdown().await;
        self.settings.clone()
    }

    /// How the service's run ended, if it ended on its own within `within` (the
    /// supervisor's exit after a task died).
    pub async fn exited(&mut self, within: Duration) -> Option<anyhow::Result<()>> {
        let task = self.task.as_mut()?;
        match tokio::time::timeout(within, task).await {
            Ok(joined) => {
                self.task = None;
                Some(joined.expect("the service task is not aborted"))
            }
            Err(_) => None,
        }
    }

    async fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("GET sent")
    }

    /// `GET path`, expecting 200 and a JSON body.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let resp = self.get(path).await;
        assert_eq!(resp.status().as_u16(), 200, "GET {path}");
        resp.json().await.expect("a JSON body")
    }

    /// Every page of the collection at `path`, `limit` at a time, following `next_cursor`
    /// to the end.
    pub async fn all_pages(&self, path: &str, limit: u32) -> Vec<serde_json::Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut pages = vec![self.get_json(&format!("{path}{sep}limit={limit}")).await];
        while let Some(cursor) = pages.last().unwrap()["next_cursor"].as_str() {
            let next = self
                .get_json(&format!("{path}{sep}limit={limit}&cursor={cursor}"))
                .await;
            pages.push(next);
        }
        pages
    }

    /// The ids of every page of `path`, `limit` at a time, and the number of pages;
    /// asserts every page but the last is full.
    pub async fn paged_ids(&self, path: &str, limit: u32) -> (usize, Vec<String>) {
        let pages = self.all_pages(path, limit).await;
        for page in &pages[..pages.len() - 1] {
            assert_eq!(page_ids(page).len(), limit as usize, "{path}: {page}");
        }
        (pages.len(), pages.iter().flat_map(page_ids).collect())
    }

    /// The service's `/openapi.json`, asserting it has none of the faults `openapi_faults`
    /// finds.
    pub async fn openapi_without_faults(&self) -> serde_json::Value {
        let doc = self.get_json("/openapi.json").await;
        assert_eq!(openapi_faults(&doc), Vec::<String>::new());
        doc
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        let req = self.client.post(self.url(path)).json(body);
        req.send().await.expect("POST sent")
    }

    pub async fn put_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        let req = self.client.put(self.url(path)).json(body);
        req.send().await.expect("PUT sent")
    }

    /// Publishes an event onto this test's exchange, as its producer would.
    pub async fn publish(&self, event: &contracts::RawEvent) {
        self.publish_body(
            &event.ty,
            &event.id.to_string(),
            contracts::CLOUDEVENTS_JSON,
            &event.to_json_bytes(),
        )
        .await;
    }

    /// Publishes events of one type as one CloudEvents batch message.
    pub async fn publish_batch(&self, events: &[contracts::RawEvent]) {
        self.publish_body(
            &events[0].ty,
            &uuid::Uuid::now_v7().to_string(),
            contracts::CLOUDEVENTS_BATCH_JSON,
            &serde_json::to_vec(events).expect("events serialise"),
        )
        .await;
    }

    /// Publishes raw bytes, e.g. a malformed message.
    pub async fn publish_body(&self, routing_key: &str, id: &str, content_type: &str, body: &[u8]) {
        let bus = &self.settings.bus;
        let conn = crate::bus::connect(bus, "test-publisher")
            .await
            .expect("broker connection");
        let channel = conn.create_channel().await.expect("channel");
        channel
            .confirm_select(lapin::options::ConfirmSelectOptions::default())
            .await
            .expect("confirms");
        crate::bus::publish_confirmed(
            &channel,
            &bus.exchange,
            routing_key,
            body,
            crate::bus::message_properties(id, content_type, Default::default()),
        )
        .await
        .expect("published");
        let _ = conn.close(200, "done".into()).await;
    }

    /// Runs a query returning one `bigint` column named `n` against this service's database.
    pub async fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let sql = sql.to_string();
        self.db
            .run(move |conn| {
                use diesel::RunQueryDsl;
                diesel::sql_query(sql)
                    .get_result::<N>(conn)
                    .map(|r| r.n)
                    .map_err(crate::db::DbError::from)
            })
            .await
            .expect("count query")
    }

    /// Waits up to 30 s (a loaded CI machine) until the count `sql` reaches `n`; panics with
    /// the last count.
    pub async fn wait_count(&self, sql: &str, n: i64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let c = self.count(sql).await;
            if c >= n {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "{sql}: {c} < {n}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if !self.keep_database {
            let settings = self.settings.database.clone();
            // Blocking work off the async test thread; FORCE ends the pool's connections.
            let _ = std::thread::spawn(move || crate::db::drop_database(&settings)).join();
        }
    }
}

/// Asserts a problem+json response with `status` whose `errors` name `field` (or, with an
/// empty `field`, any problem of that status); returns the body.
pub async fn assert_problem(
    resp: reqwest::Response,
    status: u16,
    field: &str,
) -> serde_json::Value {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        crate::http::problem::PROBLEM_JSON
    );
    let body: serde_json::Value = resp.json().await.expect("a JSON problem");
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("https://touchstone.dev/problems/")),
        "{body}"
    );
    assert_eq!(body["status"], status);
    if !field.is_empty() {
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(fields.contains(&field), "{field} not named in {body}");
    }
    body
}

/// The faults of an OpenAPI document that a fuzzer trips over first, one line each (empty
/// when there are none):
///
/// - a path parameter the path template does not name (a query filter declared `in: path`);
/// - an operation with a JSON body that does not declare the extractor's 400, 413, 415
///   and 422, or with a UUID path parameter that does not declare its 422;
/// - a `$ref` to a schema the document does not define.
pub fn openapi_faults(doc: &serde_json::Value) -> Vec<String> {
    let mut faults = Vec::new();
    let schemas = &doc["components"]["schemas"];
    collect_refs(doc, &mut |r| {
        let name = r.trim_start_matches("#/components/schemas/");
        if schemas.get(name).is_none() {
            faults.push(format!("$ref {r} is not defined"));
        }
    });
    let Some(paths) = doc["paths"].as_object() else {
        return vec!["the document has no paths".into()];
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let at = format!("{} {path}", method.to_uppercase());
            let responses = &op["responses"];
            let declares = |code: &str| responses.get(code).is_some();
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            for p in &params {
                let name = p["name"].as_str().unwrap_or("");
                if p["in"] == "path" && !path.contains(&format!("{{{name}}}")) {
                    faults.push(format!(
                        "{at}: `{name}` is declared in the path but is not in it"
                    ));
                }
                if p["in"] == "path" && p["schema"]["format"] == "uuid" && !declares("422") {
                    faults.push(format!(
                        "{at}: the UUID `{name}` can be malformed, but 422 is not declared"
                    ));
                }
            }
            let json_body = op["requestBody"]["content"].as_object().is_some_and(|c| {
                c.keys()
                    .any(|k| k == "application/json" || k.ends_with("+json"))
            });
            for code in ["400", "413", "415", "422"] {
                if json_body && !declares(code) {
                    faults.push(format!("{at}: takes JSON but does not declare {code}"));
                }
            }
        }
    }
    faults
}

fn collect_refs(value: &serde_json::Value, f: &mut impl FnMut(&str)) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v.as_str()) {
                    ("$ref", Some(r)) => f(r),
                    _ => collect_refs(v, f),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, f)),
        _ => {}
    }
}

/// The `id`s of a page's items, in order.
pub fn page_ids(page: &serde_json::Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {page}"))
        .iter()
        .map(|i| i["id"].as_str().expect("an id").to_string())
        .collect()
}

/// An RFC 3339 instant of a response.
pub fn instant(v: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("an instant: {v}"))
        .parse()
        .expect("RFC 3339")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_faults_names_each_fault() {
        let doc = serde_json::json!({
            "paths": {"/things/{id}": {
                "get": {
                    "parameters": [
                        {"name": "id", "in": "path", "schema": {"type": "string", "format": "uuid"}},
                        {"name": "limit", "in": "path", "schema": {"type": "integer"}}
                    ],
                    "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}
                },
                "post": {
                    "requestBody": {"content": {"application/json": {}}},
                    "responses": {"201": {}, "400": {}, "413": {}, "415": {}, "422": {}}
                }
            }},
            "components": {"schemas": {}}
        });
        assert_eq!(
            openapi_faults(&doc),
            [
                "$ref #/components/schemas/Thing is not defined",
                "GET /things/{id}: the UUID `id` can be malformed, but 422 is not declared",
                "GET /things/{id}: `limit` is declared in the path but is not in it",
            ]
        );
    }
}
