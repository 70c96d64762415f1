//! Per-request telemetry: request id, W3C trace context, a tracing span and HTTP metrics.

use std::future::{Ready, ready};
use std::time::Instant;

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use tracing::Instrument;

use crate::metrics::Metrics;
use crate::telemetry::TraceContext;

pub const REQUEST_ID: &str = "x-request-id";

/// The request id of the current request (accepted from the client or generated).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let trace = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(TraceContext::continue_from)
        .unwrap_or_else(TraceContext::new_root);
    let method = req.method().to_string();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let span = tracing::info_span!(
        "http_request",
        %method,
        %route,
        request_id = %request_id,
        trace_id = %trace.trace_id,
        status = tracing::field::Empty,
    );
    req.extensions_mut().insert(trace);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let result = next.call(req).instrument(span.clone()).await;
    let status = match &result {
        Ok(res) => res.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    span.record("status", status);
    if let Some(m) = metrics {
        let status = status.to_string();
        let labels = [method.as_str(), route.as_str(), status.as_str()];
        m.http_requests_total.with_label_values(&labels).inc();
        m.http_request_duration_seconds
            .with_label_values(&labels)
            .observe(started.elapsed().as_secs_f64());
    }
    result.map(|mut res| {
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            res.headers_mut()
                .insert(HeaderName::from_static(REQUEST_ID), v);
        }
        res
    })
}

/// The `instance` of a problem answering request `id`.
pub fn instance(id: &str) -> String {
    format!("urn:touchstone:request:{id}")
}

/// Gives every `application/problem+json` answer its `instance` (the request id), whoever
/// built it: a handler, an extractor or the platform's routes.
pub async fn problem_instance(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let is_problem = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with(crate::http::problem::PROBLEM_JSON));
    let id = res.request().extensions().get::<RequestId>().cloned();
    let (Some(RequestId(id)), true) = (id, is_problem) else {
        return Ok(res.map_into_boxed_body());
    };
    let (req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let bytes = body::to_bytes(body).await.map_err(|e| {
        let e: Box<dyn std::error::Error> = e.into();
        actix_web::error::ErrorInternalServerError(e.to_string())
    })?;
    let bytes = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut p)) if !p.contains_key("instance") => {
            p.insert("instance".into(), instance(&id).into());
            serde_json::to_vec(&p).map(Into::into).unwrap_or(bytes)
        }
        _ => bytes,
    };
    Ok(ServiceResponse::new(
        req,
        head.set_body(bytes).map_into_boxed_body(),
    ))
}

impl FromRequest for TraceContext {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(Ok(req
            .extensions()
            .get::<TraceContext>()
            .cloned()
            .unwrap_or_else(TraceContext::new_root)))
    }
}

/// The query parameters each write operation (`POST`, `PUT`, `PATCH`, `DELETE`) declares in
/// the service's OpenAPI document, by method and route template. Read handlers check their
/// own query strings ([`Query`](crate::http::query::Query)); this holds the rest to the same
/// rule.
#[derive(Debug, Default, Clone)]
pub struct WriteQueries(std::collections::HashMap<(String, String), Vec<String>>);

impl WriteQueries {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> WriteQueries {
        use utoipa::openapi::path::ParameterIn;
        let mut rules = std::collections::HashMap::new();
        for (path, item) in &doc.paths.paths {
            let ops = [
                ("POST", &item.post),
                ("PUT", &item.put),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
            ];
            for (method, op) in ops {
                let Some(op) = op else { continue };
                let names = op
                    .parameters
                    .iter()
                    .flatten()
                    .chain(item.parameters.iter().flatten())
                    .filter(|p| matches!(p.parameter_in, ParameterIn::Query))
                    .map(|p| p.name.clone())
                    .collect();
                rules.insert((method.to_string(), path.clone()), names);
            }
        }
        WriteQueries(rules)
    }
}

/// Refuses a write request whose query string holds a parameter its operation does not
/// declare: a 422 problem naming it, as every read already answers.
pub async fn refuse_unknown_write_queries(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let method = req.method().as_str().to_string();
    let query = req.query_string();
    if !query.is_empty()
        && matches!(method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
        && let (Some(rules), Some(route)) = (
            req.app_data::<web::Data<WriteQueries>>(),
            req.match_pattern(),
        )
        && let Some(allowed) = rules.0.get(&(method, route))
    {
        let params = web::Query::<std::collections::HashMap<String, String>>::from_query(query)
            .map(web::Query::into_inner)
            .unwrap_or_default();
        let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
        if let Err(problem) = crate::http::query::Query::new(&params, &allowed).finish() {
            let (req, _) = req.into_parts();
            let res = actix_web::ResponseError::error_response(&problem);
            return Ok(ServiceResponse::new(req, res));
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
