//! Attribution: of a newly won deal (published as `conversion.attributed` in the transaction
//! that records the deal, with the model of [`deal_model`](super::deal_model)), and reports
//! over the stored journeys or ad-hoc paths.

use attribution::{
    Journey, JourneySet, Model, PathSet, Report, attribute_journeys, attribute_paths, formats,
};
use chrono::{DateTime, Utc};
use contracts::touchpoints::ConversionAttributed;
use diesel::prelude::*;
use platform::{Db, TraceContext};
use uuid::Uuid;

use crate::domain::attribution::{GroupBy, StoredJourney, journeys};
use crate::domain::deal_credit::apply;
use crate::domain::valuation::{Valuation, ValuedReport, by_currency, combine};
use crate::error::TouchpointsError;
use crate::store::attribution::{conversion_touches, journey_touches};
use crate::store::conversions::ConversionRow;
use crate::store::deal_attributions::{self, DealAttributionRow};
use crate::usecases::deal_model::DealModel;

pub use crate::domain::deal_credit::WonDeal;

/// Attributes a newly won deal with the current model and queues `conversion.attributed`,
/// in the caller's transaction (see [`apply`] for how). A deal whose lead has no touch in
/// the lookback window is not attributed. The engine refusing the journey is a
/// [`DealAttribution`](TouchpointsError::DealAttribution) error: it would refuse it again.
pub fn attribute_won_deal(
    conn: &mut PgConnection,
    deal: &WonDeal,
    model: &DealModel,
    lookback_days: u32,
    trace: Option<&TraceContext>,
) -> Result<Option<ConversionAttributed>, TouchpointsError> {
    let rows = conversion_touches(conn, deal.conversion_id, lookback_days)?;
    if rows.is_empty() {
        return Ok(None);
    }
    let trained = model.current_or_train(conn)?;
    let event = apply(deal, &rows, trained.as_deref(), model.rule()).map_err(|source| {
        TouchpointsError::DealAttribution {
            deal_id: deal.deal_id,
            source,
        }
    })?;
    platform::bus::outbox::enqueue(conn, &event, trace)?;
    deal_attributions::insert(conn, &event)?;
    model.count_attributed();
    Ok(Some(event))
}

/// A won deal's conversion and the attributions stored for it (by model).
pub struct DealAttribution {
    pub conversion: ConversionRow,
    pub results: Vec<DealAttributionRow>,
}

/// The attribution of deal `deal`: none when it was not won (or not seen yet).
pub async fn of_deal(db: &Db, deal: Uuid) -> Result<Option<DealAttribution>, TouchpointsError> {
    db.run(move |conn| {
        let Some(conversion) = deal_attributions::won_conversion(conn, deal)? else {
            return Ok(None);
        };
        let results = deal_attributions::of_conversion(conn, conversion.id)?;
        Ok(Some(DealAttribution {
            conversion,
            results,
        }))
    })
    .await
}

/// Which stored journeys a report covers: those ending in `[from, to)` (open ends
/// unbounded), each the touches of the `lookback_days` before its conversion.
#[derive(Debug, Clone, Copy)]
pub struct StoredJourneys {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub lookback_days: u32,
    pub group_by: GroupBy,
}

/// Attributes the stored journeys with `models`, valuing each currency on its own (see
/// [`valuation`](crate::domain::valuation)).
pub async fn stored_report(
    db: &Db,
    scope: StoredJourneys,
    models: Vec<Model>,
) -> Result<ValuedReport, TouchpointsError> {
    over_stored(db, scope, move |stored| {
        let runs = by_currency(&stored)
            .into_iter()
            .map(|set| {
                let report = attribute_journeys(&JourneySet::new(&set.journeys)?, &models)?;
                Ok((set.value, report))
            })
            .collect::<Result<Vec<_>, attribution::Error>>()?;
        Ok(combine(runs))
    })
    .await
}

/// The models' conversion credits over the stored journeys, without values.
pub async fn stored_conversions(
    db: &Db,
    scope: StoredJourneys,
    models: Vec<Model>,
) -> Result<Report, TouchpointsError> {
    over_stored(db, scope, move |stored| {
        let journeys: Vec<Journey> = stored.into_iter().map(|j| j.journey).collect();
        attribute_journeys(&JourneySet::new(&journeys)?, &models)
    })
    .await
}

/// Reads the stored journeys in `scope` and runs `attribute` on them off the async workers.
async fn over_stored<T, F>(
    db: &Db,
    scope: StoredJourneys,
    attribute: F,
) -> Result<T, TouchpointsError>
where
    T: Send + 'static,
    F: FnOnce(Vec<StoredJourney>) -> Result<T, attribution::Error> + Send + 'static,
{
    let rows = db
        .run(move |conn| {
            journey_touches(conn, scope.from, scope.to, scope.lookback_days)
                .map_err(TouchpointsError::from)
        })
        .await?;
    compute(move || attribute(journeys(&rows, scope.group_by)))
        .await?
        .map_err(|e| engine_error(e, false))
}

/// Attributes ad-hoc paths, given as JSON (`{"paths": [...]}`) or ChannelAttribution's CSV.
/// Their values carry no currency: they are reported as one amount without one.
pub async fn adhoc_report(
    text: String,
    csv: bool,
    models: Vec<Model>,
) -> Result<ValuedReport, TouchpointsError> {
    compute(move || {
        let stats = if csv {
            formats::parse_channel_attribution_csv(&text)?
        } else {
            formats::parse_paths_json(&text)?
        };
        let report = attribute_paths(&PathSet::new(&stats)?, &models)?;
        Ok(combine(vec![(
            Some(Valuation::adhoc(report.total_value)),
            report,
        )]))
    })
    .await?
    .map_err(|e| engine_error(e, true))
}

/// Runs the engine off the async workers.
async fn compute<T, F>(f: F) -> Result<Result<T, attribution::Error>, TouchpointsError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, attribution::Error> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| TouchpointsError::Unexpected(anyhow::anyhow!("attribution task: {e}")))
}

/// A bad request the engine names (models, the order, ad-hoc input) is the client's; anything
/// else is the service's failure. `Input` errors name the client's data only when `adhoc`:
/// over stored journeys they are the service's fault too.
fn engine_error(e: attribution::Error, adhoc: bool) -> TouchpointsError {
    use attribution::Error as E;
    match &e {
        E::Input { .. } if adhoc => TouchpointsError::Attribution(e),
        E::UnknownModel { .. } | E::NeedsJourneys { .. } => TouchpointsError::Attribution(e),
        E::Parameter { field, .. } if field == "order" => TouchpointsError::Attribution(e),
        _ => TouchpointsError::Unexpected(anyhow::anyhow!("attribution: {e}")),
    }
}
