//! `POST /v1/touchpoints/bulk`: NDJSON of any size, streamed. Lines are validated as they
//! arrive and written in chunks (one transaction each, events included, up to
//! `parallel_chunks` at once) while the next chunk is parsed. A chunk closes at
//! `chunk_lines` lines or `chunk_bytes` bytes of NDJSON, whichever comes first, so memory
//! stays at a few chunks whatever the body's size and however long its lines. A bad line —
//! invalid JSON, invalid UTF-8, too long, or breaking a rule — is reported and skipped.
//!
//! With `Idempotency-Key`, the import is recorded under its key with a fingerprint of the
//! whole body, taken as it streams. A key already answered is not imported again: its body
//! is only read (to tell the same body from another) and the first answer is replayed, or a
//! 422 given for another body. A line without an id gets one derived from the key and the
//! line number, so that a retry after a first attempt that stopped half-way stores the same
//! touches once.

use std::collections::VecDeque;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use futures::StreamExt;
use platform::http::FieldError;
use platform::http::idempotency::{self, IdempotencyKey, StoredResponse};
use platform::{Db, Problem, TraceContext};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use utoipa::ToSchema;

use super::media_type;
use super::touchpoints::TouchpointInput;
use crate::config::TouchpointsConfig;
use crate::domain::Touchpoint;
use crate::error::TouchpointsError;
use crate::usecases::touchpoints::{self as usecase, Written};
use platform::import::{Fingerprint, LineError, Lines, line_id};

/// Content types accepted for NDJSON.
const NDJSON_TYPES: [&str; 3] = [
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
];

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct BulkResponse {
    /// Non-blank lines read.
    pub lines: u64,
    /// Valid lines.
    pub accepted: u64,
    /// Valid lines stored now.
    pub inserted: u64,
    /// Valid lines whose id was already stored: no second effect.
    pub duplicates: u64,
    /// Invalid lines, all counted.
    pub rejected: u64,
    /// The first rejected lines (up to the configured cap, 1000 by default).
    pub errors: Vec<RejectedLine>,
    /// Whether more lines were rejected than `errors` lists.
    pub errors_truncated: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RejectedLine {
    /// 1-based line number in the body.
    pub line: u64,
    pub message: String,
    /// Invalid fields of the line, when it was JSON.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Scope of the idempotency records of imports.
const SCOPE: &str = "POST /v1/touchpoints/bulk";

/// Streams the body, validating each line, and stores the valid ones in chunks. With
/// `Idempotency-Key`, a retry of the same body replays the first answer
/// (`idempotent-replayed: true`) without importing again; another body with the same key is
/// a 422, and nothing of it is stored.
#[utoipa::path(
    post, path = "/v1/touchpoints/bulk", tag = "touchpoints",
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response to the same key and body for 24 h; another body with the same key is a 422. Lines without an id get ids derived from the key and line number")),
    request_body(content = Vec<TouchpointInput>, content_type = "application/x-ndjson", description = "One touchpoint JSON object per line (NDJSON; each item of the array is a line)"),
    responses(
        (status = 200, description = "Counts of accepted and rejected lines, and the first rejected lines with their errors", body = BulkResponse),
        (status = 409, description = "The key's record expired while its body was read: retry", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 415, body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused with another body", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(lines, inserted, rejected))]
pub async fn bulk_ingest(
    req: HttpRequest,
    db: web::Data<Db>,
    config: web::Data<TouchpointsConfig>,
    trace: TraceContext,
    key: IdempotencyKey,
    mut payload: web::Payload,
) -> Result<HttpResponse, TouchpointsError> {
    let (content_type, essence) = media_type(&req);
    if !NDJSON_TYPES.contains(&essence.as_str()) {
        return Err(Problem::unsupported_media_type(&content_type, "application/x-ndjson").into());
    }
    if let Some(k) = &key.0
        && usecase::import_answered(&db, SCOPE, k).await?
    {
        return replay(&db, key, payload).await;
    }
    let config = config.into_inner();
    let mut ingest = Ingest {
        db: db.get_ref().clone(),
        config: config.clone(),
        trace,
        report: BulkResponse::default(),
        chunk: Vec::with_capacity(config.ingest.chunk_lines),
        chunk_bytes: 0,
        full: Vec::new(),
        inflight: VecDeque::new(),
        key: key.0.clone(),
    };
    let mut fingerprint = Fingerprint::default();
    let mut lines = Lines::new(config.ingest.max_line_bytes);
    while let Some(bytes) = payload.next().await {
        let bytes =
            bytes.map_err(|e| Problem::malformed(format!("could not read the body: {e}")))?;
        fingerprint.update(&bytes);
        let now = Utc::now();
        lines.push(&bytes, &mut |n, line| ingest.line(n, line, now));
        for full in std::mem::take(&mut ingest.full) {
            ingest.dispatch(full).await?;
        }
    }
    let now = Utc::now();
    lines.finish(&mut |n, line| ingest.line(n, line, now));
    ingest.seal();
    for full in std::mem::take(&mut ingest.full) {
        ingest.dispatch(full).await?;
    }
    while !ingest.inflight.is_empty() {
        ingest.settle().await?;
    }
    let report = ingest.report;
    let span = tracing::Span::current();
    span.record("lines", report.lines);
    span.record("inserted", report.inserted);
    span.record("rejected", report.rejected);
    let answer = StoredResponse::json(StatusCode::OK, &report);
    if key.0.is_none() {
        return Ok(answer.into_response(false));
    }
    // Recorded after the import: a concurrent first request with the same key and body has
    // stored the same touches (same ids), and its answer is replayed.
    let body = fingerprint.bytes();
    let (response, replayed) = db
        .run(move |conn| {
            idempotency::run(conn, SCOPE, &key, &body, |_| {
                Ok::<_, TouchpointsError>(answer)
            })
        })
        .await?;
    Ok(response.into_response(replayed))
}

/// An import whose key has answered: reads the body only to fingerprint it, then replays
/// the first answer, or refuses another body with the same key.
async fn replay(
    db: &Db,
    key: IdempotencyKey,
    mut payload: web::Payload,
) -> Result<HttpResponse, TouchpointsError> {
    let mut fingerprint = Fingerprint::default();
    while let Some(bytes) = payload.next().await {
        let bytes =
            bytes.map_err(|e| Problem::malformed(format!("could not read the body: {e}")))?;
        fingerprint.update(&bytes);
    }
    let body = fingerprint.bytes();
    let (response, replayed) = db
        .run(move |conn| {
            idempotency::run(conn, SCOPE, &key, &body, |_| {
                Err::<StoredResponse, _>(TouchpointsError::Invalid(Problem::conflict(
                    "the Idempotency-Key's record expired while the body was read: send the import again",
                )))
            })
        })
        .await?;
    Ok(response.into_response(replayed))
}

struct Ingest {
    db: Db,
    config: std::sync::Arc<TouchpointsConfig>,
    trace: TraceContext,
    report: BulkResponse,
    /// The chunk being filled, and the NDJSON bytes of its lines.
    chunk: Vec<Touchpoint>,
    chunk_bytes: usize,
    /// Chunks filled (by `chunk_lines` or `chunk_bytes`) and not yet handed to a writer.
    full: Vec<Vec<Touchpoint>>,
    /// Chunks being written (at most `parallel_chunks`) while the next one is parsed.
    inflight: VecDeque<JoinHandle<Result<Written, TouchpointsError>>>,
    /// The import's `Idempotency-Key`, from which id-less lines get their ids.
    key: Option<String>,
}

impl Ingest {
    fn line(&mut self, number: u64, line: Result<&[u8], LineError>, now: chrono::DateTime<Utc>) {
        let size = line.as_ref().map_or(0, |l| l.len());
        let parsed = line
            .map_err(|e| (e.to_string(), Vec::new()))
            .and_then(|bytes| {
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    return Err((String::new(), Vec::new()));
                }
                std::str::from_utf8(bytes)
                    .map_err(|_| ("the line is not valid UTF-8".to_string(), Vec::new()))?;
                let mut input: TouchpointInput =
                    platform::http::json::parse(bytes).map_err(|p| {
                        let message = p.detail.clone().unwrap_or_else(|| p.title.clone());
                        (message, p.errors)
                    })?;
                if let (None, Some(key)) = (input.id, &self.key) {
                    input.id = Some(line_id(key, number, input.occurred_at));
                }
                Touchpoint::parse(input.into(), now)
                    .map_err(|invalid| ("invalid touchpoint".to_string(), invalid.0))
            });
        match parsed {
            Ok(t) => {
                self.report.lines += 1;
                self.report.accepted += 1;
                self.chunk.push(t);
                self.chunk_bytes += size;
                if self.chunk.len() >= self.config.ingest.chunk_lines
                    || self.chunk_bytes >= self.config.ingest.chunk_bytes
                {
                    self.seal();
                }
            }
            // A blank line is neither accepted nor rejected.
            Err((message, _)) if message.is_empty() => {}
            Err((message, errors)) => {
                self.report.lines += 1;
                self.report.rejected += 1;
                if self.report.errors.len() < self.config.ingest.max_listed_errors {
                    self.report.errors.push(RejectedLine {
                        line: number,
                        message,
                        errors,
                    });
                } else {
                    self.report.errors_truncated = true;
                }
            }
        }
    }

    /// Closes the chunk being filled (if it holds anything) for writing.
    fn seal(&mut self) {
        if !self.chunk.is_empty() {
            let chunk = std::mem::replace(
                &mut self.chunk,
                Vec::with_capacity(self.config.ingest.chunk_lines.min(8_192)),
            );
            self.full.push(chunk);
        }
        self.chunk_bytes = 0;
    }

    /// Starts writing `chunk`, first waiting for the oldest chunk in flight when
    /// `parallel_chunks` are.
    async fn dispatch(&mut self, chunk: Vec<Touchpoint>) -> Result<(), TouchpointsError> {
        if chunk.is_empty() {
            return Ok(());
        }
        while self.inflight.len() >= self.config.ingest.parallel_chunks {
            self.settle().await?;
        }
        let db = self.db.clone();
        let config = self.config.clone();
        let trace = self.trace.clone();
        self.inflight.push_back(tokio::spawn(async move {
            usecase::record(&db, chunk, config, trace).await
        }));
        Ok(())
    }

    async fn settle(&mut self) -> Result<(), TouchpointsError> {
        if let Some(h) = self.inflight.pop_front() {
            let written = h
                .await
                .map_err(|e| anyhow::anyhow!("bulk chunk task: {e}"))??;
            self.report.inserted += written.inserted.len() as u64;
            self.report.duplicates += written.duplicates as u64;
        }
        Ok(())
    }
}
