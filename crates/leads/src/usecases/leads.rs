//! Creating, reading, searching and updating leads; `lead.created` and `lead.updated` go
//! out in the same transaction as the change.

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
use crate::store::{self, LeadFilter, LeadRow};

/// One page of live leads.
pub fn list(conn: &mut PgConnection, filter: &LeadFilter) -> Result<Vec<LeadRow>, LeadsError> {
    Ok(store::leads::list(conn, filter)?)
}

/// The account a lead belongs to: the explicit one (which must exist), else the one owning
/// the email's domain, never for free-mail addresses.
fn resolve_account(
    conn: &mut PgConnection,
    profile: &LeadProfile,
) -> Result<Option<Uuid>, LeadsError> {
    if let Some(id) = profile.account_id {
        if store::accounts::find(conn, id)?.is_none() {
            return Err(Invalid::field("account_id", "does not name an existing account").into());
        }
        return Ok(Some(id));
    }
    match profile.company_domain() {
        Some(domain) => Ok(store::accounts::account_for_domain(conn, domain)?),
        None => Ok(None),
    }
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
        let now = now();
        let mut profile = lead.profile.clone();
        profile.account_id = resolve_account(tx, &lead.profile)?;
        let mut row = LeadRow::new(Uuid::now_v7(), &profile, lead.lifecycle_stage, now);
        // Scored before the insert, so that the row goes in once with its fit and grade.
        let model = scoring::current_model(tx)?;
        let card = scoring::score_card(tx, &model, &row, now)?;
        row.fit = card.fit;
        let grade = card.grade.to_string();
        if !card.qualifies_for_mql {
            row.grade = Some(grade.clone());
        }
        if !store::leads::insert(tx, &row)? {
            let existing = store::leads::email_holder(tx, &row.email)?
                .ok_or_else(|| anyhow::anyhow!("email conflict without a holder"))?;
            return Err(LeadsError::DuplicateEmail { existing });
        }
        lifecycle::record_creation(tx, &row)?;
        outbox::enqueue(tx, &created_event(&row), Some(trace))?;
        if card.qualifies_for_mql {
            // Past the MQL threshold at birth: the full path publishes and promotes.
            return scoring::rescore(tx, &model, row, None, "created", now, Some(trace));
        }
        let entry = card.scored(row.id, &grade, now).entry("created");
        store::scoring::record_scores(tx, &[entry])?;
        Ok(row)
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
        let changed = before.profile().changed_fields(&profile);
        if changed.is_empty() {
            return Ok(before);
        }
        if profile.email != before.email
            && let Some(existing) = store::leads::email_holder(tx, &profile.email)?
        {
            return Err(LeadsError::DuplicateEmail { existing });
        }
        let now = now();
        let mut row = before.clone();
        row.set_profile(&profile);
        row.version += 1;
        row.updated_at = now;
        store::leads::save(tx, &row)?;
        outbox::enqueue(tx, &updated_event(&row, changed), Some(trace))?;
        let model = scoring::current_model(tx)?;
        let prior = scoring::scores_now(&before, &model.1, now);
        scoring::rescore(tx, &model, row, Some(prior), "updated", now, Some(trace))
    })
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
