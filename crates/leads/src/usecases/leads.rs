//! Creating, reading, searching and updating leads; `lead.created` and `lead.updated` go
//! out in the same transaction as the change.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use contracts::leads::{LeadCreated, LeadUpdated};
use diesel::{Connection, PgConnection};
use platform::TraceContext;
use platform::bus::outbox;
use platform::http::versioning;
use platform::validation::Invalid;
use uuid::Uuid;

pub use super::live::find;
use super::live::lock;
use super::{lifecycle, now, scoring};
use crate::domain::lead::{LeadProfile, NewLead};
use crate::error::LeadsError;
use crate::store::lifecycle::NewStageChange;
use crate::store::{self, LeadFilter, LeadRow};

/// One page of live leads.
pub fn list(conn: &mut PgConnection, filter: &LeadFilter) -> Result<Vec<LeadRow>, LeadsError> {
    Ok(store::leads::list(conn, filter)?)
}

/// The account each lead belongs to, in order: the explicit one (which must exist, else
/// the lead is invalid), else the one owning the email's domain, never for free-mail
/// addresses. One query for the explicit accounts and one for the domains, however many.
pub(crate) fn resolve_accounts(
    conn: &mut PgConnection,
    profiles: &[&LeadProfile],
) -> Result<Vec<Result<Option<Uuid>, Invalid>>, LeadsError> {
    let explicit: Vec<Uuid> = profiles.iter().filter_map(|p| p.account_id).collect();
    let existing: HashSet<Uuid> = if explicit.is_empty() {
        HashSet::new()
    } else {
        store::accounts::existing(conn, &explicit)?
            .into_iter()
            .collect()
    };
    let domains: Vec<&str> = profiles
        .iter()
        .filter(|p| p.account_id.is_none())
        .filter_map(|p| p.company_domain())
        .collect();
    let owners: HashMap<String, Uuid> = if domains.is_empty() {
        HashMap::new()
    } else {
        store::accounts::accounts_for_domains(conn, &domains)?
            .into_iter()
            .collect()
    };
    Ok(profiles
        .iter()
        .map(|p| match p.account_id {
            Some(id) if existing.contains(&id) => Ok(Some(id)),
            Some(_) => Err(Invalid::field(
                "account_id",
                "does not name an existing account",
            )),
            None => Ok(p.company_domain().and_then(|d| owners.get(d).copied())),
        })
        .collect())
}

/// The account one lead belongs to (see [`resolve_accounts`]).
fn resolve_account(
    conn: &mut PgConnection,
    profile: &LeadProfile,
) -> Result<Option<Uuid>, LeadsError> {
    let mut resolved = resolve_accounts(conn, &[profile])?;
    Ok(resolved.pop().expect("one profile, one account")?)
}

/// A lead to insert, with the id it is to have.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: Uuid,
    pub lead: NewLead,
}

/// Why one of many leads was not inserted.
#[derive(Debug, Clone)]
pub enum Refused {
    /// Another lead holds its email (stored meanwhile, by a concurrent writer).
    EmailTaken,
    /// A field breaks a rule the database holds, e.g. an `account_id` naming no account.
    Invalid(Invalid),
}

/// Inserts many new leads in the caller's transaction, as a single create does each:
/// account matched, scored under `model` before the insert (so that each row goes in once
/// with its fit and grade), creation recorded in its lifecycle, `lead.created` published,
/// and a lead past the MQL threshold at birth re-scored and promoted. The accounts, the
/// fit facts, the rows, the lifecycle records, the events and the score history are each
/// written or read with one statement. Answers each lead's row, or why it was refused, in
/// the order given.
pub(crate) fn insert_many(
    conn: &mut PgConnection,
    pending: Vec<Pending>,
    model: &scoring::Versioned,
    trace: Option<&TraceContext>,
    now: DateTime<Utc>,
) -> Result<Vec<Result<LeadRow, Refused>>, LeadsError> {
    let profiles: Vec<&LeadProfile> = pending.iter().map(|p| &p.lead.profile).collect();
    let accounts = resolve_accounts(conn, &profiles)?;
    let mut rows: Vec<Result<LeadRow, Refused>> = pending
        .iter()
        .zip(accounts)
        .map(|(p, account)| {
            let mut profile = p.lead.profile.clone();
            profile.account_id = account.map_err(Refused::Invalid)?;
            Ok(LeadRow::new(p.id, &profile, p.lead.lifecycle_stage, now))
        })
        .collect();
    let account_ids: Vec<Uuid> = rows
        .iter()
        .flatten()
        .filter_map(|r| r.account_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let facts = store::scoring::account_facts(conn, &account_ids)?;
    let mut cards = HashMap::new();
    for row in rows.iter_mut().flatten() {
        let account = row.account_id.and_then(|id| facts.get(&id));
        let facts = store::scoring::facts(row.title.as_deref(), account);
        let card = scoring::card(model, row, &facts, now);
        row.fit = card.fit;
        if !card.qualifies_for_mql {
            row.grade = Some(card.grade.to_string());
        }
        cards.insert(row.id, card);
    }
    let candidates: Vec<LeadRow> = rows.iter().flatten().cloned().collect();
    let inserted: HashSet<Uuid> = store::leads::insert_many(conn, &candidates)?
        .into_iter()
        .collect();
    for row in rows.iter_mut() {
        if row.as_ref().is_ok_and(|r| !inserted.contains(&r.id)) {
            *row = Err(Refused::EmailTaken);
        }
    }
    let new: Vec<&LeadRow> = rows.iter().flatten().collect();
    let creations: Vec<NewStageChange<'_>> = new.iter().map(|r| lifecycle::creation(r)).collect();
    store::lifecycle::record_many(conn, &creations)?;
    let events: Vec<LeadCreated> = new.iter().map(|r| created_event(r)).collect();
    outbox::enqueue_each(conn, &events, trace)?;
    let mut entries = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let Ok(row) = row else {
            out.push(row);
            continue;
        };
        let card = &cards[&row.id];
        if card.qualifies_for_mql {
            // Past the MQL threshold at birth: the full path publishes and promotes.
            let row = scoring::rescore(conn, model, row, None, "created", now, trace)?;
            out.push(Ok(row));
        } else {
            let grade = card.grade.to_string();
            entries.push(card.scored(row.id, &grade, now).entry("created"));
            out.push(Ok(row));
        }
    }
    store::scoring::record_scores(conn, &entries)?;
    Ok(out)
}

/// Inserts the lead with its account matched, scores it and publishes `lead.created` (and
/// `lead.scored` when it is an MQL at birth). A taken email is a conflict that names the
/// lead that has it.
pub fn create(
    conn: &mut PgConnection,
    lead: &NewLead,
    trace: &TraceContext,
) -> Result<LeadRow, LeadsError> {
    conn.transaction(|tx| {
        let model = scoring::current_model(tx)?;
        let pending = Pending {
            id: Uuid::now_v7(),
            lead: lead.clone(),
        };
        let mut created = insert_many(tx, vec![pending], &model, Some(trace), now())?;
        match created.pop().expect("one lead, one answer") {
            Ok(row) => Ok(row),
            Err(Refused::Invalid(invalid)) => Err(invalid.into()),
            Err(Refused::EmailTaken) => {
                let existing = store::leads::email_holder(tx, &lead.profile.email)?
                    .ok_or_else(|| anyhow::anyhow!("email conflict without a holder"))?;
                Err(LeadsError::DuplicateEmail { existing })
            }
        }
    })
}

/// Applies a PATCH: `patch` turns the current profile into the lead's new state. When
/// `expected_version` is current and something changed, the lead is saved, `lead.updated`
/// is published with the changed fields, and the lead is re-scored.
pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    expected_version: i32,
    patch: impl FnOnce(LeadProfile) -> Result<NewLead, LeadsError>,
    trace: &TraceContext,
) -> Result<LeadRow, LeadsError> {
    conn.transaction(|tx| {
        let lead = patch(find(tx, id)?.profile())?;
        let before = lock(tx, id)?;
        versioning::check(expected_version, before.version)?;
        // The PATCH was merged onto the current lead, so a matched account stays unless the
        // client set `account_id` to null, which matches by domain again.
        let mut profile = lead.profile;
        profile.account_id = resolve_account(tx, &profile)?;
        let now = now();
        let Some((row, event)) = change(tx, &before, &profile, now)? else {
            return Ok(before);
        };
        outbox::enqueue(tx, &event, Some(trace))?;
        let model = scoring::current_model(tx)?;
        rescore_changed(tx, &model, &before, row, now, Some(trace))
    })
}

/// Writes `profile` (its account resolved) over the locked lead `before`: the saved row
/// and the `lead.updated` naming the changed fields, or `None` when nothing changed.
pub(crate) fn change(
    conn: &mut PgConnection,
    before: &LeadRow,
    profile: &LeadProfile,
    now: DateTime<Utc>,
) -> Result<Option<(LeadRow, LeadUpdated)>, LeadsError> {
    let changed = before.profile().changed_fields(profile);
    if changed.is_empty() {
        return Ok(None);
    }
    if profile.email != before.email
        && let Some(existing) = store::leads::email_holder(conn, &profile.email)?
    {
        return Err(LeadsError::DuplicateEmail { existing });
    }
    let mut row = before.clone();
    row.set_profile(profile);
    row.version += 1;
    row.updated_at = now;
    store::leads::save(conn, &row)?;
    let event = updated_event(&row, changed);
    Ok(Some((row, event)))
}

/// Re-scores a lead `change` saved, against the scores it had before.
pub(crate) fn rescore_changed(
    conn: &mut PgConnection,
    model: &scoring::Versioned,
    before: &LeadRow,
    row: LeadRow,
    now: DateTime<Utc>,
    trace: Option<&TraceContext>,
) -> Result<LeadRow, LeadsError> {
    let prior = scoring::scores_now(before, &model.1, now);
    scoring::rescore(conn, model, row, Some(prior), "updated", now, trace)
}

/// An event carrying the lead's whole profile, plus the event's own fields.
macro_rules! profile_event {
    ($event:ident, $row:expr, { $($field:ident: $value:expr),* $(,)? }) => {{
        let row: &LeadRow = $row;
        let p = row.profile();
        $event {
            lead_id: row.id,
            email: p.email,
            first_name: p.first_name,
            last_name: p.last_name,
            title: p.title,
            phone: p.phone,
            company: p.company,
            source: p.source,
            campaign_id: p.campaign_id,
            anonymous_id: p.anonymous_id,
            affiliate_id: p.affiliate_id,
            utm_source: p.utm.utm_source,
            utm_medium: p.utm.utm_medium,
            utm_campaign: p.utm.utm_campaign,
            utm_term: p.utm.utm_term,
            utm_content: p.utm.utm_content,
            account_id: p.account_id,
            owner: p.owner,
            consent: p.consent,
            properties: p.properties,
            $($field: $value),*
        }
    }};
}

fn created_event(row: &LeadRow) -> LeadCreated {
    profile_event!(LeadCreated, row, {
        lifecycle_stage: row.lifecycle_stage.clone(),
        created_at: row.created_at,
    })
}

fn updated_event(row: &LeadRow, changed: Vec<String>) -> LeadUpdated {
    profile_event!(LeadUpdated, row, {
        version: row.version as u64,
        changed: changed,
        updated_at: row.updated_at,
    })
}
