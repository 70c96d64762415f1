//! A bulk lead import, one chunk of lines per transaction: new leads inserted as a single
//! create inserts one (with one statement per step for the whole chunk), taken emails
//! rejected or, with `mode=upsert`, written over the lead that holds them as a PATCH does.

use chrono::Utc;
use diesel::{Connection, PgConnection};
use platform::bus::outbox;
use platform::validation::{FieldError, Invalid};
use platform::{Db, TraceContext};
use uuid::Uuid;

use super::leads::{Pending, Refused, change, insert_many, rescore_changed, resolve_accounts};
use super::scoring::{self, Versioned};
use crate::domain::NewLead;
use crate::domain::import::{ImportMode, is_line_id, line_id};
use crate::domain::lead::LeadDraft;
use crate::error::LeadsError;
use crate::store::{self, LeadRow};

/// A valid line of an import: the lead as sent (what an upsert writes over the existing
/// lead) and as parsed (what an insert stores).
#[derive(Debug, Clone)]
pub struct ImportLine {
    /// 1-based line number in the body.
    pub line: u64,
    pub draft: LeadDraft,
    pub lead: NewLead,
}

/// A line the chunk did not import, and why.
#[derive(Debug, Clone)]
pub struct LineRefused {
    pub line: u64,
    pub message: String,
    pub errors: Vec<FieldError>,
    /// The lead that holds the line's email, when that is the reason.
    pub existing_id: Option<Uuid>,
}

/// What one chunk did.
#[derive(Debug, Default)]
pub struct ChunkOutcome {
    pub inserted: u64,
    pub updated: u64,
    /// Lines whose lead exists and already has every value the line gives.
    pub unchanged: u64,
    pub refused: Vec<LineRefused>,
}

/// Whether `key` has answered an import in `scope` already (its body is then only read).
pub async fn answered(db: &Db, scope: &str, key: &str) -> Result<bool, LeadsError> {
    let (scope, key) = (scope.to_string(), key.to_string());
    db.run(move |conn| Ok(platform::http::idempotency::answered(conn, &scope, &key)?))
        .await
}

/// The scoring model an import scores every chunk with, read once.
pub async fn model(db: &Db) -> Result<Versioned, LeadsError> {
    db.run(scoring::current_model).await
}

/// Imports one chunk of lines (their emails distinct) in one transaction. With `key` (the
/// import's `Idempotency-Key`), a new lead's id comes from the key and its line, so that a
/// retry of the same body counts the leads its first attempt stored as inserted, and
/// stores nothing twice.
pub fn import_chunk(
    conn: &mut PgConnection,
    lines: Vec<ImportLine>,
    mode: ImportMode,
    key: Option<&str>,
    model: &Versioned,
    trace: &TraceContext,
) -> Result<ChunkOutcome, LeadsError> {
    conn.transaction(|tx| {
        let now = super::now();
        let mut outcome = ChunkOutcome::default();
        let emails: Vec<String> = lines.iter().map(|l| l.lead.profile.email.clone()).collect();
        // Locked (in id order) only when they are to be written.
        let holders = store::leads::matching(tx, &[], &emails, mode == ImportMode::Upsert)?;
        let mut holders: std::collections::HashMap<String, LeadRow> =
            holders.into_iter().map(|r| (r.email.clone(), r)).collect();
        let mut inserts = Vec::new();
        let mut updates = Vec::new();
        for line in lines {
            let Some(holder) = holders.remove(&line.lead.profile.email) else {
                let id = match key {
                    Some(k) => line_id(k, line.line, now),
                    None => Uuid::now_v7(),
                };
                inserts.push((
                    line.line,
                    Pending {
                        id,
                        lead: line.lead,
                    },
                ));
                continue;
            };
            if key.is_some_and(|k| is_line_id(holder.id, k, line.line)) {
                // Stored by an earlier attempt of this very import.
                outcome.inserted += 1;
                continue;
            }
            let survivor = holder.merged_into.unwrap_or(holder.id);
            match (mode, holder.merged_into) {
                (ImportMode::Insert, _) => outcome.refused.push(taken(line.line, survivor)),
                (ImportMode::Upsert, Some(_)) => outcome.refused.push(LineRefused {
                    line: line.line,
                    message: format!(
                        "the lead with this email was merged into lead {survivor}: update that lead"
                    ),
                    errors: vec![field("email", "belongs to a merged lead")],
                    existing_id: Some(survivor),
                }),
                (ImportMode::Upsert, None) => updates.push((line, holder)),
            }
        }
        let (numbers, pending): (Vec<u64>, Vec<Pending>) = inserts.into_iter().unzip();
        let emails: Vec<String> = pending
            .iter()
            .map(|p| p.lead.profile.email.clone())
            .collect();
        let created = insert_many(tx, pending, model, Some(trace), now)?;
        for ((line, email), result) in numbers.into_iter().zip(emails).zip(created) {
            match result {
                Ok(_) => outcome.inserted += 1,
                Err(Refused::Invalid(invalid)) => outcome.refused.push(invalid_line(line, invalid)),
                Err(Refused::EmailTaken) => {
                    let holder = store::leads::email_holder(tx, &email)?
                        .ok_or_else(|| anyhow::anyhow!("email conflict without a holder"))?;
                    outcome.refused.push(taken(line, holder));
                }
            }
        }
        upsert(tx, updates, model, trace, now, &mut outcome)?;
        outcome.refused.sort_by_key(|r| r.line);
        Ok(outcome)
    })
}

/// Writes each line over the lead that holds its email, as a PATCH of the fields the line
/// gives: saved, `lead.updated` published (one statement for the chunk), re-scored.
fn upsert(
    tx: &mut PgConnection,
    updates: Vec<(ImportLine, LeadRow)>,
    model: &Versioned,
    trace: &TraceContext,
    now: chrono::DateTime<Utc>,
    outcome: &mut ChunkOutcome,
) -> Result<(), LeadsError> {
    let mut merged = Vec::new();
    for (line, before) in updates {
        match NewLead::parse(line.draft.over(before.profile())) {
            Ok(lead) => merged.push((line.line, lead, before)),
            Err(invalid) => outcome.refused.push(invalid_line(line.line, invalid)),
        }
    }
    let profiles: Vec<_> = merged.iter().map(|(_, lead, _)| &lead.profile).collect();
    let accounts = resolve_accounts(tx, &profiles)?;
    let mut saved = Vec::new();
    let mut events = Vec::new();
    for ((line, lead, before), account) in merged.into_iter().zip(accounts) {
        let mut profile = lead.profile;
        profile.account_id = match account {
            Ok(a) => a,
            Err(invalid) => {
                outcome.refused.push(invalid_line(line, invalid));
                continue;
            }
        };
        match change(tx, &before, &profile, now)? {
            Some((row, event)) => {
                events.push(event);
                saved.push((before, row));
            }
            None => outcome.unchanged += 1,
        }
    }
    outbox::enqueue_each(tx, &events, Some(trace))?;
    for (before, row) in saved {
        rescore_changed(tx, model, &before, row, now, Some(trace))?;
        outcome.updated += 1;
    }
    Ok(())
}

fn field(name: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: name.to_string(),
        message: message.into(),
    }
}

fn taken(line: u64, existing: Uuid) -> LineRefused {
    LineRefused {
        line,
        message: format!(
            "lead {existing} already has this email: import with mode=upsert to update it"
        ),
        errors: vec![field("email", "is taken by an existing lead")],
        existing_id: Some(existing),
    }
}

fn invalid_line(line: u64, invalid: Invalid) -> LineRefused {
    LineRefused {
        line,
        message: "invalid lead".to_string(),
        errors: invalid.0,
        existing_id: None,
    }
}
