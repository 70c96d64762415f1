//! Persistence of leads; the outbox row of each change is written here, in the same transaction.

pub mod schema;

use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use platform::TraceContext;
use uuid::Uuid;

use crate::domain::NewLead;
use crate::error::LeadsError;
use schema::leads;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = leads)]
pub struct LeadRow {
    pub id: Uuid,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub company: Option<String>,
    pub source: String,
    pub campaign_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub affiliate_id: Option<String>,
    pub lifecycle_stage: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Inserts the lead and its `lead.created` event. A taken email is a conflict that
/// names the lead that has it.
pub fn create_lead(
    conn: &mut PgConnection,
    lead: &NewLead,
    trace: &TraceContext,
) -> Result<LeadRow, LeadsError> {
    // PostgreSQL keeps microseconds: truncate so the create response equals later reads.
    let now = Utc::now().trunc_subsecs(6);
    let row = LeadRow {
        id: Uuid::now_v7(),
        email: lead.email.as_str().to_string(),
        first_name: lead.first_name.clone(),
        last_name: lead.last_name.clone(),
        title: lead.title.clone(),
        company: lead.company.clone(),
        source: lead.source.as_str().to_string(),
        campaign_id: lead.campaign_id.clone(),
        anonymous_id: lead.anonymous_id.clone(),
        affiliate_id: lead.affiliate_id.clone(),
        lifecycle_stage: "lead".to_string(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let inserted = diesel::insert_into(leads::table)
        .values(&row)
        .on_conflict(leads::email)
        .do_nothing()
        .execute(conn)?;
    if inserted == 0 {
        let existing: Uuid = leads::table
            .filter(leads::email.eq(&row.email))
            .select(leads::id)
            .first(conn)?;
        return Err(LeadsError::DuplicateEmail { existing });
    }
    platform::bus::outbox::enqueue(conn, &created_event(&row), Some(trace))?;
    Ok(row)
}

fn created_event(row: &LeadRow) -> contracts::leads::LeadCreated {
    contracts::leads::LeadCreated {
        lead_id: row.id,
        email: row.email.clone(),
        first_name: row.first_name.clone(),
        last_name: row.last_name.clone(),
        title: row.title.clone(),
        phone: None,
        company: row.company.clone(),
        source: row.source.clone(),
        lifecycle_stage: row.lifecycle_stage.clone(),
        campaign_id: row.campaign_id.clone(),
        anonymous_id: row.anonymous_id.clone(),
        affiliate_id: row.affiliate_id.clone(),
        utm_source: None,
        utm_medium: None,
        utm_campaign: None,
        utm_term: None,
        utm_content: None,
        account_id: None,
        owner: None,
        consent: false,
        properties: serde_json::Value::Null,
        created_at: row.created_at,
    }
}

pub fn find_lead(conn: &mut PgConnection, id: Uuid) -> Result<Option<LeadRow>, LeadsError> {
    Ok(leads::table
        .find(id)
        .select(LeadRow::as_select())
        .first(conn)
        .optional()?)
}

/// One page of leads in id order (ids are UUIDv7, so this is creation order).
pub fn list_leads(
    conn: &mut PgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<LeadRow>, LeadsError> {
    let mut q = leads::table
        .select(LeadRow::as_select())
        .order(leads::id)
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(leads::id.gt(after));
    }
    Ok(q.load(conn)?)
}
