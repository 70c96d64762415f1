//! `POST /v1/funnels/{id}/events`: NDJSON stage history for analysis. Each line is
//! `{"deal_id" | "external_id", "stage", "at", "reason"?, "attributes"?}`, applied in
//! chunks by `usecases::import`: a bad line is reported with its number and never stops the
//! good ones. Imports are history: they publish no events.
//!
//! Without `Idempotency-Key` the body is read as it streams in, any size, and each chunk of
//! lines is its own transaction. With one, the key's record must hash the whole body before
//! the first line may be applied, and the platform hashes a body it holds: the body is read
//! into memory (at most [`MAX_KEYED_BODY`], 413 beyond) and the import is one transaction
//! with its recorded answer, so a retried import is applied exactly once.

use std::collections::{BTreeMap, BinaryHeap};

use actix_web::http::StatusCode;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use platform::http::idempotency::{self, IdempotencyKey, StoredResponse};
use platform::validation::Invalid;
use platform::{Db, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::path_id;
use crate::error::FunnelError;
use crate::usecases::funnels;
use crate::usecases::import::{self as usecase, CHUNK, HistoryLine, Outcome};

/// Longest accepted line, in bytes.
pub const MAX_LINE: usize = 64 * 1024;
/// Rejected lines listed in the response (all are counted).
const MAX_LISTED: usize = 1000;
/// Largest body of an import sent with `Idempotency-Key`, which is held in memory.
pub const MAX_KEYED_BODY: usize = 64 * 1024 * 1024;
/// Bytes of a held body split into lines at a time, so that parsed lines wait in batches
/// of [`CHUNK`] as they do for a streamed body.
const SLICE: usize = 64 * 1024;

/// One line of an import: a deal (by id, or by external id, which opens the deal when it is
/// new) entering a stage at a time.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportLine {
    deal_id: Option<Uuid>,
    external_id: Option<String>,
    stage: String,
    #[serde(deserialize_with = "platform::time::datetime")]
    at: DateTime<Utc>,
    /// Required for `lost`.
    reason: Option<String>,
    /// `owner` and `campaign` also set the opened deal's owner and campaign.
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

impl From<ImportLine> for HistoryLine {
    fn from(l: ImportLine) -> Self {
        HistoryLine {
            deal_id: l.deal_id,
            external_id: l.external_id,
            stage: l.stage,
            at: l.at,
            reason: l.reason,
            attributes: l.attributes,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LineError {
    pub line: u64,
    pub error: String,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct ImportResult {
    pub accepted: u64,
    pub rejected: u64,
    /// Deals the import opened.
    pub deals_created: u64,
    /// The first rejected lines (at most 1000), in line order, with their 1-based numbers.
    pub errors: Vec<LineError>,
}

/// Splits a body into numbered lines as its bytes arrive, parses each, and keeps the
/// parsed lines until they are taken in batches, and the tally of what became of them.
#[derive(Default)]
struct Reader {
    /// The unfinished line.
    buf: Vec<u8>,
    line_no: u64,
    /// A line over the limit is skipped up to its newline without being held in memory.
    skipping: bool,
    pending: Vec<(u64, ImportLine)>,
    accepted: u64,
    rejected: u64,
    deals_created: u64,
    /// The lowest-numbered rejections so far, at most `MAX_LISTED` (a max-heap by line).
    errors: BinaryHeap<(u64, String)>,
}

impl Reader {
    fn reject(&mut self, line: u64, error: String) {
        self.rejected += 1;
        self.errors.push((line, error));
        if self.errors.len() > MAX_LISTED {
            self.errors.pop();
        }
    }

    /// Takes the next bytes of the body.
    fn feed(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        while let Some(nl) = rest.iter().position(|b| *b == b'\n') {
            let (head, tail) = rest.split_at(nl);
            rest = &tail[1..];
            self.line_no += 1;
            if self.skipping {
                self.skipping = false;
                self.buf.clear();
                continue;
            }
            self.buf.extend_from_slice(head);
            let line = std::mem::take(&mut self.buf);
            self.take_line(self.line_no, &line);
            self.buf = line;
            self.buf.clear();
        }
        if !self.skipping {
            self.buf.extend_from_slice(rest);
            if self.buf.len() > MAX_LINE {
                self.skipping = true;
                self.buf.clear();
                self.reject(self.line_no + 1, format!("longer than {MAX_LINE} bytes"));
            }
        }
    }

    /// The body has ended: its last line needs no newline.
    fn end(&mut self) {
        if !self.skipping && !self.buf.is_empty() {
            self.line_no += 1;
            let line = std::mem::take(&mut self.buf);
            self.take_line(self.line_no, &line);
        }
    }

    /// The next batch of parsed lines: [`CHUNK`] of them, or, at the end, whatever is left.
    fn batch(&mut self, at_end: bool) -> Option<Vec<(u64, HistoryLine)>> {
        let n = if self.pending.len() >= CHUNK {
            CHUNK
        } else if at_end && !self.pending.is_empty() {
            self.pending.len()
        } else {
            return None;
        };
        Some(
            self.pending
                .drain(..n)
                .map(|(n, l)| (n, l.into()))
                .collect(),
        )
    }

    /// What became of a batch's lines.
    fn record(&mut self, outcomes: Vec<Outcome>) {
        for (n, r) in outcomes {
            match r {
                Ok(created) => {
                    self.accepted += 1;
                    self.deals_created += created as u64;
                }
                Err(e) => self.reject(n, e.line_message()),
            }
        }
    }

    fn result(self) -> ImportResult {
        ImportResult {
            accepted: self.accepted,
            rejected: self.rejected,
            deals_created: self.deals_created,
            errors: self
                .errors
                .into_sorted_vec()
                .into_iter()
                .map(|(line, error)| LineError { line, error })
                .collect(),
        }
    }

    fn take_line(&mut self, n: u64, raw: &[u8]) {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        if raw.len() > MAX_LINE {
            return self.reject(n, format!("longer than {MAX_LINE} bytes"));
        }
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t,
            Err(_) => return self.reject(n, "is not valid UTF-8".into()),
        };
        // PostgreSQL cannot store U+0000: such a line is refused here, not by the write.
        if let Err(p) = platform::http::json::reject_nul(raw) {
            return self.reject(n, FunnelError::Invalid(p).line_message());
        }
        match serde_json::from_str::<ImportLine>(text) {
            Ok(l) if l.deal_id.is_none() && l.external_id.is_none() => {
                self.reject(n, "deal_id or external_id is required".into())
            }
            Ok(l) => self.pending.push((n, l)),
            Err(e) => self.reject(
                n,
                format!("not a valid event: {}", platform::http::json::at_column(&e)),
            ),
        }
    }
}

/// Imports stage history as NDJSON.
#[utoipa::path(
    post, path = "/v1/funnels/{id}/events", tag = "funnels",
    request_body(content = Vec<ImportLine>, content_type = "application/x-ndjson",
        description = "One JSON object per line (NDJSON; each item of the array is a line): deal_id or external_id, stage, at, reason, attributes"),
    params(
        ("id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer to the same key and body for 24 h; another body with the same key is a 422. A keyed import is applied in one transaction and its body may be at most 64 MiB"),
    ),
    responses(
        (status = 200, body = ImportResult),
        (status = 413, description = "An import with Idempotency-Key over 64 MiB", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The id is not a UUID, or Idempotency-Key reused with another body", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn import_events(
    req: HttpRequest,
    db: web::Data<Db>,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, FunnelError> {
    let funnel_id = path_id(&id)?;
    funnels::find(&db, funnel_id, None).await?;
    if key.0.is_none() {
        return streamed(&db, funnel_id, body).await;
    }
    let raw = held(body).await?;
    let scope = format!("POST {}", req.path());
    let (response, replayed) = db
        .run(move |conn| {
            idempotency::run(conn, &scope, &key, &raw, |tx| {
                let mut reader = Reader::default();
                for slice in raw.chunks(SLICE) {
                    reader.feed(slice);
                    while let Some(batch) = reader.batch(false) {
                        reader.record(usecase::apply_in(tx, funnel_id, batch)?);
                    }
                }
                reader.end();
                while let Some(batch) = reader.batch(true) {
                    reader.record(usecase::apply_in(tx, funnel_id, batch)?);
                }
                Ok::<_, FunnelError>(StoredResponse::json(StatusCode::OK, &reader.result()))
            })
        })
        .await?;
    Ok(response.into_response(replayed))
}

/// An import without a key: applied a chunk of lines at a time as the body streams in.
async fn streamed(
    db: &Db,
    funnel_id: Uuid,
    mut body: web::Payload,
) -> Result<HttpResponse, FunnelError> {
    let mut reader = Reader::default();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| Invalid::field("body", format!("unreadable: {e}")))?;
        reader.feed(&chunk);
        while let Some(batch) = reader.batch(false) {
            reader.record(usecase::apply(db, funnel_id, batch).await?);
        }
    }
    reader.end();
    while let Some(batch) = reader.batch(true) {
        reader.record(usecase::apply(db, funnel_id, batch).await?);
    }
    Ok(HttpResponse::Ok().json(reader.result()))
}

/// The whole body of a keyed import, up to [`MAX_KEYED_BODY`].
async fn held(mut body: web::Payload) -> Result<Bytes, FunnelError> {
    let mut raw = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| Invalid::field("body", format!("unreadable: {e}")))?;
        if raw.len() + chunk.len() > MAX_KEYED_BODY {
            return Err(Problem::payload_too_large(MAX_KEYED_BODY).into());
        }
        raw.extend_from_slice(&chunk);
    }
    Ok(raw.freeze())
}
