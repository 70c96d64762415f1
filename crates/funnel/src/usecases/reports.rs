//! The funnel report: the funnel (at a version) and its deals read in one go, the report
//! computed off the async workers.

use chrono::{DateTime, Utc};
use platform::Db;
use platform::validation::Invalid;
use uuid::Uuid;

use super::read;
use crate::error::FunnelError;
use crate::reports::{self, FunnelReport, Params};
use crate::store::{funnels, reports as source};

/// Which report: the funnel, the deals' open-date window, the funnel version (the current
/// one by default) and the report's parameters.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub funnel_id: Uuid,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub version: Option<i32>,
    pub params: Params,
}

/// The funnel's name and its report.
pub async fn funnel_report(
    db: &Db,
    r: &ReportRequest,
) -> Result<(String, FunnelReport), FunnelError> {
    let (id, version, from, to) = (r.funnel_id, r.version, r.from, r.to);
    let breakdown = r.params.breakdown.clone();
    let (funnel, deals) = read(db, move |conn| {
        let Some(funnel) = funnels::find(conn, id, version)? else {
            return Ok((None, Vec::new()));
        };
        let deals = source::load(conn, id, from, to, breakdown.as_deref())?;
        Ok((Some(funnel), deals))
    })
    .await?;
    let funnel = funnel.ok_or_else(|| match version {
        Some(_) => Invalid::field("version", "this funnel has no such version").into(),
        None => FunnelError::FunnelNotFound(id),
    })?;
    let params = r.params.clone();
    let name = funnel.def.name.clone();
    let report = tokio::task::spawn_blocking(move || {
        reports::compute(&funnel.def, funnel.version, &deals, &params)
    })
    .await
    .map_err(|e| anyhow::anyhow!("report task: {e}"))?
    .map_err(|e| anyhow::anyhow!("funnel report: {e}"))?;
    Ok((name, report))
}
