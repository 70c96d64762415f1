//! `POST /v1/funnels/{id}/events`: NDJSON stage history for analysis. Each line is
//! `{"deal_id" | "external_id", "stage", "at", "reason"?, "attributes"?}`, read as the body
//! streams in and applied in chunks by `usecases::import`: a bad line is reported with its
//! number and never stops the good ones. Imports are history: they publish no events.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use platform::Db;
use platform::validation::Invalid;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::path_id;
use crate::error::FunnelError;
use crate::usecases::funnels;
use crate::usecases::import::{self as usecase, CHUNK, HistoryLine};

/// Longest accepted line, in bytes.
pub const MAX_LINE: usize = 64 * 1024;
/// Rejected lines listed in the response (all are counted).
const MAX_LISTED: usize = 1000;

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
    /// The first rejected lines, with their 1-based numbers.
    pub errors: Vec<LineError>,
}

impl ImportResult {
    fn reject(&mut self, line: u64, error: String) {
        self.rejected += 1;
        if self.errors.len() < MAX_LISTED {
            self.errors.push(LineError { line, error });
        }
    }
}

/// Imports stage history as NDJSON.
#[utoipa::path(
    post, path = "/v1/funnels/{id}/events", tag = "funnels",
    request_body(content = Vec<ImportLine>, content_type = "application/x-ndjson",
        description = "One JSON object per line (NDJSON; each item of the array is a line): deal_id or external_id, stage, at, reason, attributes"),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ImportResult),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn import_events(
    db: web::Data<Db>,
    id: web::Path<String>,
    mut body: web::Payload,
) -> Result<HttpResponse, FunnelError> {
    let funnel_id = path_id(&id)?;
    funnels::find(&db, funnel_id, None).await?;
    let mut result = ImportResult::default();
    let mut buf: Vec<u8> = Vec::new();
    let mut line_no = 0u64;
    let mut pending: Vec<(u64, ImportLine)> = Vec::new();
    // A line over the limit is skipped up to its newline without being held in memory.
    let mut skipping = false;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| Invalid::field("body", format!("unreadable: {e}")))?;
        let mut rest: &[u8] = &chunk;
        while let Some(nl) = rest.iter().position(|b| *b == b'\n') {
            let (head, tail) = rest.split_at(nl);
            rest = &tail[1..];
            line_no += 1;
            if skipping {
                skipping = false;
                buf.clear();
                continue;
            }
            buf.extend_from_slice(head);
            take_line(&mut result, &mut pending, line_no, &buf);
            buf.clear();
            if pending.len() >= CHUNK {
                apply(&db, funnel_id, std::mem::take(&mut pending), &mut result).await?;
            }
        }
        if !skipping {
            buf.extend_from_slice(rest);
            if buf.len() > MAX_LINE {
                skipping = true;
                buf.clear();
                result.reject(line_no + 1, format!("longer than {MAX_LINE} bytes"));
            }
        }
    }
    if !skipping && !buf.is_empty() {
        line_no += 1;
        take_line(&mut result, &mut pending, line_no, &buf);
    }
    if !pending.is_empty() {
        apply(&db, funnel_id, pending, &mut result).await?;
    }
    result.errors.sort_by_key(|e| e.line);
    Ok(HttpResponse::Ok().json(result))
}

fn take_line(result: &mut ImportResult, pending: &mut Vec<(u64, ImportLine)>, n: u64, raw: &[u8]) {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    if raw.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    if raw.len() > MAX_LINE {
        result.reject(n, format!("longer than {MAX_LINE} bytes"));
        return;
    }
    let text = match std::str::from_utf8(raw) {
        Ok(t) => t,
        Err(_) => return result.reject(n, "is not valid UTF-8".into()),
    };
    // PostgreSQL cannot store U+0000: such a line is refused here, not by the write.
    if let Err(p) = platform::http::json::reject_nul(raw) {
        return result.reject(n, FunnelError::Invalid(p).line_message());
    }
    match serde_json::from_str::<ImportLine>(text) {
        Ok(l) if l.deal_id.is_none() && l.external_id.is_none() => {
            result.reject(n, "deal_id or external_id is required".into())
        }
        Ok(l) => pending.push((n, l)),
        Err(e) => result.reject(n, format!("not a valid event: {e}")),
    }
}

async fn apply(
    db: &Db,
    funnel_id: Uuid,
    lines: Vec<(u64, ImportLine)>,
    result: &mut ImportResult,
) -> Result<(), FunnelError> {
    let lines = lines.into_iter().map(|(n, l)| (n, l.into())).collect();
    for (n, r) in usecase::apply(db, funnel_id, lines).await? {
        match r {
            Ok(created) => {
                result.accepted += 1;
                result.deals_created += created as u64;
            }
            Err(e) => result.reject(n, e.line_message()),
        }
    }
    Ok(())
}
