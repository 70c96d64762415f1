//! `POST /v1/leads/import`: leads as NDJSON or CSV of any size, streamed. Lines are checked
//! as they arrive (a bad one is reported with its line number and fields, and skipped) and
//! imported in chunks of up to 1,000 lines, one transaction each (events included), the
//! next chunk parsed while one is written; memory holds a chunk or two, plus 16 bytes per
//! distinct email to tell a line that repeats an earlier one's email.
//!
//! With `Idempotency-Key`, the import is recorded under its key with a fingerprint of the
//! mode, the content type and the whole body, taken as it streams. A key already answered
//! is not imported again: its body is only read (to tell the same body from another) and
//! the first answer replayed, or a 422 given for another body. A new lead's id is derived
//! from the key and its line, so a retry after a first attempt that stopped half-way
//! counts the leads that attempt stored as inserted and stores none twice.

mod records;

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures::StreamExt;
use platform::http::FieldError;
use platform::http::idempotency::{self, IdempotencyKey, StoredResponse};
use platform::{Db, Problem, TraceContext};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use platform::import::Lines;

use self::records::{CsvRecords, RecordError};
use super::Query;
use super::leads::LeadInput;
use crate::domain::NewLead;
use crate::domain::import::{Fingerprint, FirstLines, ImportMode};
use crate::domain::lead::LeadDraft;
use crate::error::LeadsError;
use crate::usecases::import::{self as usecase, ChunkOutcome, ImportLine};
use crate::usecases::scoring::Versioned;

/// Scope of the idempotency records of imports.
const SCOPE: &str = "POST /v1/leads/import";
/// Lines a chunk (one transaction) holds at most.
const CHUNK_LINES: usize = 1_000;
/// Bytes of lines a chunk holds at most, however long its lines.
const CHUNK_BYTES: usize = 4 << 20;
/// A line (or CSV record) may be as large as the body of a single create.
const MAX_LINE_BYTES: usize = 1 << 20;
/// The largest body an import takes, as the gateway's limit of streamed routes.
const MAX_BODY_BYTES: u64 = 2 << 30;
/// Rejected lines listed in the answer; all are counted.
const MAX_LISTED_ERRORS: usize = 1_000;

const NDJSON_TYPES: [&str; 3] = [
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
];
const CSV_TYPE: &str = "text/csv";

/// The columns a CSV import takes: the fields of `POST /v1/leads`.
pub const COLUMNS: [&str; 20] = [
    "email",
    "first_name",
    "last_name",
    "title",
    "phone",
    "company",
    "source",
    "campaign_id",
    "anonymous_id",
    "affiliate_id",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "account_id",
    "owner",
    "consent",
    "properties",
    "lifecycle_stage",
];

/// The report of an import.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct ImportResponse {
    /// Non-blank lines read (the CSV header excepted).
    pub lines: u64,
    /// Lines whose lead is stored as the line says: inserted, updated or unchanged.
    pub accepted: u64,
    /// New leads stored.
    pub inserted: u64,
    /// Existing leads changed (`mode=upsert`).
    pub updated: u64,
    /// Existing leads that already held every value their line gives (`mode=upsert`).
    pub unchanged: u64,
    /// Lines whose email an earlier line of the file has: rejected, each listed with the
    /// line it repeats.
    pub duplicates: u64,
    /// Lines not imported (invalid, duplicates, or an email taken under `mode=insert`),
    /// all counted.
    pub rejected: u64,
    /// The first rejected lines found (up to 1,000), in line order.
    pub errors: Vec<RejectedLine>,
    /// Whether more lines were rejected than `errors` lists.
    pub errors_truncated: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RejectedLine {
    /// 1-based line number in the body (a CSV's header is line 1).
    pub line: u64,
    pub message: String,
    /// The line's invalid fields, when it could be read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The lead that holds the line's email, when that is why it was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<Uuid>,
}

/// What a line whose email an existing lead holds does.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ImportModeName {
    Insert,
    Upsert,
}

/// Query of `POST /v1/leads/import`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ImportParams {
    /// `insert` (default): a line whose email an existing lead holds is rejected, naming
    /// that lead in `existing_id`. `upsert`: the fields the line gives are written onto
    /// that lead, as a PATCH would, publishing `lead.updated`.
    mode: Option<ImportModeName>,
}

/// Imports leads from NDJSON (one `POST /v1/leads` object per line) or CSV (a header row
/// naming those fields, then one lead per row; an empty cell is an absent field;
/// `properties` is a JSON object). Emails are deduplicated case-insensitively within the
/// file (the first line wins; later ones are reported) and against existing leads (see
/// `mode`). Each lead is matched to its account and scored as a single create does, and
/// `lead.created` (or `lead.updated`) is published for it. Lines are committed in chunks
/// of up to 1,000: a chunk commits whole or not at all, and the chunks committed before a
/// failure (a 5xx, or a streamed body found over the limit) stay.
#[utoipa::path(
    post, path = "/v1/leads/import", tag = "leads",
    params(
        ImportParams,
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response to the same key, mode and body for 24 h; another body with the same key is a 422. A retry after a failed attempt stores no lead twice"),
    ),
    request_body(
        description = "NDJSON: one lead object per line, the fields of `POST /v1/leads`. CSV: a header row naming those fields, then one lead per row",
        content(
            (Vec<LeadInput> = "application/x-ndjson"),
            (platform::reports::CsvFile = "text/csv"),
        )
    ),
    responses(
        (status = 200, description = "Counts of the lines imported and rejected, and the first rejected lines with their errors", body = ImportResponse),
        (status = 400, description = "The body could not be read", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key's record expired while its body was read: send the import again", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 2 GiB", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The content type is neither NDJSON nor CSV", body = platform::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `mode`, an unknown or repeated CSV column, or Idempotency-Key reused with another body", body = platform::http::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(lines, inserted, updated, rejected))]
pub async fn import_leads(
    req: HttpRequest,
    db: web::Data<Db>,
    trace: TraceContext,
    key: IdempotencyKey,
    query: web::Query<HashMap<String, String>>,
    mut payload: web::Payload,
) -> Result<HttpResponse, LeadsError> {
    let mut q = Query::new(&query, &["mode"]);
    let mode = q
        .parse("mode", "insert or upsert", ImportMode::parse)
        .unwrap_or_default();
    q.finish()?;
    let (content_type, essence) = media_type(&req);
    let csv = essence == CSV_TYPE;
    if !csv && !NDJSON_TYPES.contains(&essence.as_str()) {
        return Err(Problem::unsupported_media_type(
            &content_type,
            "application/x-ndjson or text/csv",
        )
        .into());
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large().into());
    }
    let mut fingerprint = Fingerprint::default();
    let mode_name = if mode == ImportMode::Upsert {
        "upsert"
    } else {
        "insert"
    };
    fingerprint.update(
        format!(
            "{mode_name}\u{1f}{}\u{1f}",
            if csv { "csv" } else { "ndjson" }
        )
        .as_bytes(),
    );
    if let Some(k) = &key.0
        && usecase::answered(&db, SCOPE, k).await?
    {
        return replay(&db, key, fingerprint, payload).await;
    }
    let model = Arc::new(usecase::model(&db).await?);
    let mut import = Import {
        db: db.get_ref().clone(),
        trace,
        mode,
        key: key.0.clone(),
        model,
        report: ImportResponse::default(),
        seen: FirstLines::default(),
        chunk: Vec::with_capacity(CHUNK_LINES),
        chunk_bytes: 0,
        full: Vec::new(),
        inflight: None,
        header: None,
        header_error: None,
    };
    let mut ndjson = Lines::new(MAX_LINE_BYTES);
    let mut records = CsvRecords::new(MAX_LINE_BYTES);
    let mut read: u64 = 0;
    while let Some(bytes) = payload.next().await {
        let bytes =
            bytes.map_err(|e| Problem::malformed(format!("could not read the body: {e}")))?;
        read += bytes.len() as u64;
        if read > MAX_BODY_BYTES {
            import.drain().await?;
            return Err(too_large().into());
        }
        fingerprint.update(&bytes);
        if csv {
            records.push(&bytes, &mut |n, r| import.record(n, r));
        } else {
            ndjson.push(&bytes, &mut |n, l| {
                import.line(n, l.map_err(RecordError::from))
            });
        }
        if let Some(problem) = import.header_error.take() {
            return Err(problem.into());
        }
        import.dispatch().await?;
    }
    if csv {
        records.finish(&mut |n, r| import.record(n, r));
    } else {
        ndjson.finish(&mut |n, l| import.line(n, l.map_err(RecordError::from)));
    }
    if let Some(problem) = import.header_error.take() {
        return Err(problem.into());
    }
    import.seal();
    import.dispatch().await?;
    import.drain().await?;
    let mut report = import.report;
    // Lines refused by their chunk are counted when it commits, after later bad lines.
    report.errors.sort_by_key(|e| e.line);
    report.accepted = report.inserted + report.updated + report.unchanged;
    let span = tracing::Span::current();
    span.record("lines", report.lines);
    span.record("inserted", report.inserted);
    span.record("updated", report.updated);
    span.record("rejected", report.rejected);
    let answer = StoredResponse::json(StatusCode::OK, &report);
    if key.0.is_none() {
        return Ok(answer.into_response(false));
    }
    // Recorded after the import: a concurrent first request with the same key and body
    // stored the same leads (same ids), and its answer is replayed.
    let body = fingerprint.bytes();
    let (response, replayed) = db
        .run(move |conn| {
            idempotency::run(conn, SCOPE, &key, &body, |_| Ok::<_, LeadsError>(answer))
        })
        .await?;
    Ok(response.into_response(replayed))
}

fn too_large() -> Problem {
    Problem::payload_too_large(MAX_BODY_BYTES as usize)
}

/// A request's `content-type` as sent, and its essence (lower-cased, without parameters).
fn media_type(req: &HttpRequest) -> (String, String) {
    let sent = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = sent.split(';').next().unwrap_or("").trim();
    (sent.to_string(), essence.to_ascii_lowercase())
}

/// An import whose key has answered: reads the body only to fingerprint it, then replays
/// the first answer, or refuses another body with the same key.
async fn replay(
    db: &Db,
    key: IdempotencyKey,
    mut fingerprint: Fingerprint,
    mut payload: web::Payload,
) -> Result<HttpResponse, LeadsError> {
    while let Some(bytes) = payload.next().await {
        let bytes =
            bytes.map_err(|e| Problem::malformed(format!("could not read the body: {e}")))?;
        fingerprint.update(&bytes);
    }
    let body = fingerprint.bytes();
    let (response, replayed) = db
        .run(move |conn| {
            idempotency::run(conn, SCOPE, &key, &body, |_| {
                Err::<StoredResponse, _>(LeadsError::Invalid(Problem::conflict(
                    "the Idempotency-Key's record expired while the body was read: send the import again",
                )))
            })
        })
        .await?;
    Ok(response.into_response(replayed))
}

/// A CSV header: the field each column sets.
type Header = Vec<String>;

struct Import {
    db: Db,
    trace: TraceContext,
    mode: ImportMode,
    key: Option<String>,
    model: Arc<Versioned>,
    report: ImportResponse,
    seen: FirstLines,
    /// The chunk being filled, and the bytes of its lines.
    chunk: Vec<ImportLine>,
    chunk_bytes: usize,
    /// Chunks filled and not yet handed to the writer.
    full: Vec<Vec<ImportLine>>,
    /// The chunk being written while the next one is parsed.
    inflight: Option<JoinHandle<Result<ChunkOutcome, LeadsError>>>,
    header: Option<Header>,
    /// A CSV header that names unknown or repeated columns: the import stops with it.
    header_error: Option<Problem>,
}

impl Import {
    /// An NDJSON line.
    fn line(&mut self, number: u64, line: Result<&[u8], RecordError>) {
        let size = line.as_ref().map_or(0, |l| l.len());
        let input = line
            .map_err(|e| (e.to_string(), Vec::new()))
            .and_then(|bytes| {
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    return Err((String::new(), Vec::new()));
                }
                std::str::from_utf8(bytes)
                    .map_err(|_| (RecordError::NotUtf8.to_string(), Vec::new()))?;
                platform::http::json::parse::<LeadInput>(bytes).map_err(|p| {
                    let message = p.detail.clone().unwrap_or_else(|| p.title.clone());
                    (message, p.errors)
                })
            });
        self.take(number, input, size);
    }

    /// A CSV record: the header first, then one lead per record.
    fn record(&mut self, number: u64, record: Result<Vec<String>, RecordError>) {
        if self.header_error.is_some() {
            return;
        }
        let Some(header) = &self.header else {
            match record
                .map_err(|e| Problem::malformed(format!("the header row: {e}")))
                .and_then(header)
            {
                Ok(h) => self.header = Some(h),
                Err(p) => self.header_error = Some(p),
            }
            return;
        };
        let size = record
            .as_ref()
            .map_or(0, |r| r.iter().map(String::len).sum());
        let input = record
            .map_err(|e| (e.to_string(), Vec::new()))
            .and_then(|cells| from_cells(header, cells));
        self.take(number, input, size);
    }

    fn take(
        &mut self,
        number: u64,
        input: Result<LeadInput, (String, Vec<FieldError>)>,
        size: usize,
    ) {
        let parsed = input.and_then(|input| {
            let draft = LeadDraft::from(input);
            let lead = NewLead::parse(draft.clone())
                .map_err(|invalid| ("invalid lead".to_string(), invalid.0))?;
            Ok((draft, lead))
        });
        match parsed {
            // A blank line is neither accepted nor rejected.
            Err((message, _)) if message.is_empty() => {}
            Err((message, errors)) => {
                self.report.lines += 1;
                self.reject(RejectedLine {
                    line: number,
                    message,
                    errors,
                    existing_id: None,
                });
            }
            Ok((draft, lead)) => {
                self.report.lines += 1;
                if let Some(first) = self.seen.earlier(&lead.profile.email, number) {
                    self.report.duplicates += 1;
                    self.reject(RejectedLine {
                        line: number,
                        message: format!(
                            "line {first} has this email already: the first line wins"
                        ),
                        errors: vec![FieldError {
                            field: "email".into(),
                            message: format!("repeats line {first}"),
                        }],
                        existing_id: None,
                    });
                    return;
                }
                self.chunk.push(ImportLine {
                    line: number,
                    draft,
                    lead,
                });
                self.chunk_bytes += size;
                if self.chunk.len() >= CHUNK_LINES || self.chunk_bytes >= CHUNK_BYTES {
                    self.seal();
                }
            }
        }
    }

    fn reject(&mut self, line: RejectedLine) {
        self.report.rejected += 1;
        if self.report.errors.len() < MAX_LISTED_ERRORS {
            self.report.errors.push(line);
        } else {
            self.report.errors_truncated = true;
        }
    }

    /// Closes the chunk being filled (if it holds anything) for writing.
    fn seal(&mut self) {
        if !self.chunk.is_empty() {
            let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK_LINES));
            self.full.push(chunk);
        }
        self.chunk_bytes = 0;
    }

    /// Hands each filled chunk to the writer, one at a time, each after the one before
    /// has committed.
    async fn dispatch(&mut self) -> Result<(), LeadsError> {
        for chunk in std::mem::take(&mut self.full) {
            self.settle().await?;
            let db = self.db.clone();
            let (mode, key, model, trace) = (
                self.mode,
                self.key.clone(),
                self.model.clone(),
                self.trace.clone(),
            );
            self.inflight = Some(tokio::spawn(async move {
                db.run(move |conn| {
                    usecase::import_chunk(conn, chunk, mode, key.as_deref(), &model, &trace)
                })
                .await
            }));
        }
        Ok(())
    }

    /// Waits for the chunk being written, and counts what it did.
    async fn settle(&mut self) -> Result<(), LeadsError> {
        let Some(h) = self.inflight.take() else {
            return Ok(());
        };
        let outcome = h
            .await
            .map_err(|e| anyhow::anyhow!("import chunk task: {e}"))??;
        self.report.inserted += outcome.inserted;
        self.report.updated += outcome.updated;
        self.report.unchanged += outcome.unchanged;
        for refused in outcome.refused {
            self.reject(RejectedLine {
                line: refused.line,
                message: refused.message,
                errors: refused.errors,
                existing_id: refused.existing_id,
            });
        }
        Ok(())
    }

    /// Writes what is left.
    async fn drain(&mut self) -> Result<(), LeadsError> {
        self.dispatch().await?;
        self.settle().await
    }
}

/// The fields a CSV header's columns set; an unknown or repeated column is a 422 naming
/// it.
fn header(cells: Vec<String>) -> Result<Header, Problem> {
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let names: Vec<String> = cells
        .into_iter()
        .map(|c| c.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    for name in &names {
        if !COLUMNS.contains(&name.as_str()) {
            errors.push(FieldError {
                field: name.clone(),
                message: format!(
                    "is not a column of a lead import; expected some of {}",
                    COLUMNS.join(", ")
                ),
            });
        } else if !seen.insert(name.clone()) {
            errors.push(FieldError {
                field: name.clone(),
                message: "is a repeated column".into(),
            });
        }
    }
    if errors.is_empty() {
        Ok(names)
    } else {
        Err(Problem::validation(errors))
    }
}

/// A CSV record as the lead object the same NDJSON line would hold: an empty cell is an
/// absent field.
fn from_cells(header: &Header, cells: Vec<String>) -> Result<LeadInput, (String, Vec<FieldError>)> {
    if cells.len() != header.len() {
        return Err((
            format!(
                "the row has {} fields; the header has {}",
                cells.len(),
                header.len()
            ),
            Vec::new(),
        ));
    }
    let mut input = LeadInput::default();
    let mut errors = Vec::new();
    for (column, cell) in header.iter().zip(cells) {
        if cell.is_empty() {
            continue;
        }
        if let Err(message) = set(&mut input, column, cell) {
            errors.push(FieldError {
                field: column.clone(),
                message,
            });
        }
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(("invalid lead".to_string(), errors))
    }
}

fn set(input: &mut LeadInput, column: &str, cell: String) -> Result<(), String> {
    let text = Some(cell.clone());
    match column {
        "email" => input.email = text,
        "first_name" => input.first_name = text,
        "last_name" => input.last_name = text,
        "title" => input.title = text,
        "phone" => input.phone = text,
        "company" => input.company = text,
        "source" => input.source = text,
        "campaign_id" => input.campaign_id = text,
        "anonymous_id" => input.anonymous_id = text,
        "affiliate_id" => input.affiliate_id = text,
        "utm_source" => input.utm_source = text,
        "utm_medium" => input.utm_medium = text,
        "utm_campaign" => input.utm_campaign = text,
        "utm_term" => input.utm_term = text,
        "utm_content" => input.utm_content = text,
        "owner" => input.owner = text,
        "lifecycle_stage" => input.lifecycle_stage = text,
        "account_id" => {
            input.account_id = Some(
                Uuid::parse_str(cell.trim())
                    .map_err(|_| format!("must be a UUID, not {cell:?}"))?,
            )
        }
        "consent" => {
            input.consent = Some(match cell.trim().to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(format!("must be true or false, not {cell:?}")),
            })
        }
        "properties" => {
            let value: serde_json::Value =
                platform::http::json::parse(cell.as_bytes()).map_err(|p| {
                    let detail = p.detail.unwrap_or(p.title);
                    format!("must be a JSON object: {detail}")
                })?;
            input.properties = Some(value);
        }
        _ => return Err("is not a column of a lead import".into()),
    }
    Ok(())
}
