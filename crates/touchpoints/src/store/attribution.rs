//! Stored journeys for attribution (won and lost deals with the lead's touches in the
//! lookback window before each, one row per touch), and the attribution of a newly won deal,
//! queued as `conversion.attributed` in the transaction that records the deal.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Numeric, Text, Timestamptz};
use rust_decimal::Decimal;

use attribution::{Journey, JourneySet, Model, attribute_journeys};
use chrono::Duration;
use contracts::Currency;
use contracts::touchpoints::{AttributionCredit, ConversionAttributed};
use platform::TraceContext;
use uuid::Uuid;

use crate::domain::attribution::{
    self as rules, AttributionRule, GroupBy, JourneyTouch, apportion, channel_weights,
    is_data_driven, shares_from_report, shares_from_weights, split_by_campaign,
};

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    conversion_id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<Numeric>)]
    value: Option<Decimal>,
    #[diesel(sql_type = Timestamptz)]
    converted_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    channel: String,
    #[diesel(sql_type = Nullable<Text>)]
    campaign_id: Option<String>,
    #[diesel(sql_type = Text)]
    touch_type: String,
    #[diesel(sql_type = Timestamptz)]
    occurred_at: DateTime<Utc>,
}

/// The touches of every won or lost deal converted in `[from, to)` (open ends unbounded),
/// ordered by conversion time, conversion, touch time and touch id. Deals whose lead has no
/// touch in the window have no rows.
pub fn journey_touches(
    conn: &mut PgConnection,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    lookback_days: u32,
) -> QueryResult<Vec<JourneyTouch>> {
    load(conn, from, to, lookback_days, None)
}

fn load(
    conn: &mut PgConnection,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    lookback_days: u32,
    conversion: Option<Uuid>,
) -> QueryResult<Vec<JourneyTouch>> {
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT c.id AS conversion_id, c.kind, c.value, c.converted_at, \
                t.channel, t.campaign_id, t.touch_type, t.occurred_at \
         FROM conversions c JOIN touchpoints t ON t.lead_id = c.lead_id \
           AND t.occurred_at BETWEEN c.converted_at - make_interval(days => $3) AND c.converted_at \
         WHERE c.kind IN ('won', 'lost') AND c.lead_id IS NOT NULL \
           AND ($1::timestamptz IS NULL OR c.converted_at >= $1) \
           AND ($2::timestamptz IS NULL OR c.converted_at < $2) \
           AND ($4::uuid IS NULL OR c.id = $4) \
         ORDER BY c.converted_at, c.id, t.occurred_at, t.id",
    )
    .bind::<Nullable<Timestamptz>, _>(from)
    .bind::<Nullable<Timestamptz>, _>(to)
    .bind::<Integer, _>(i32::try_from(lookback_days).unwrap_or(i32::MAX))
    .bind::<Nullable<diesel::sql_types::Uuid>, _>(conversion)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| JourneyTouch {
            conversion_id: r.conversion_id,
            kind: r.kind,
            value: r.value,
            converted_at: r.converted_at,
            channel: r.channel,
            campaign_id: r.campaign_id,
            touch_type: r.touch_type,
            occurred_at: r.occurred_at,
        })
        .collect())
}

/// A won deal just recorded, to attribute.
pub struct WonDeal {
    pub conversion_id: Uuid,
    pub deal_id: Uuid,
    pub lead_id: Uuid,
    pub value: Decimal,
    pub currency: Currency,
    pub converted_at: DateTime<Utc>,
}

/// Attributes a newly won deal and queues `conversion.attributed`, in the caller's
/// transaction. A deal whose lead has no touch in the lookback window is not attributed.
///
/// The model is the rule's; a data-driven one (markov, shapley) learns from the won and lost
/// deals of the `training_days` before this one (this one included) and gives way to `linear`
/// below `min_conversions` converting journeys. Its global per-channel weights (Markov's
/// removal effects, Shapley's credits) become this journey's shares: each channel of the
/// journey gets its weight over the sum of the weights of the journey's channels. Any other
/// model runs on this journey alone. A channel's share is split across its touches'
/// campaigns by touch count; shares become decimals that sum exactly to 1 and to the value.
pub fn attribute_won_deal(
    conn: &mut PgConnection,
    deal: &WonDeal,
    rule: &AttributionRule,
    lookback_days: u32,
    trace: Option<&TraceContext>,
) -> QueryResult<Option<ConversionAttributed>> {
    let rows = load(conn, None, None, lookback_days, Some(deal.conversion_id))?;
    if rows.is_empty() {
        return Ok(None);
    }
    let touches: Vec<(String, Option<String>)> = rows
        .iter()
        .map(|r| (r.channel.clone(), r.campaign_id.clone()))
        .collect();
    let journey = rules::journeys(&rows, GroupBy::Channel)
        .pop()
        .expect("rows make a journey")
        .journey;

    let mut model = rule.model;
    let mut shares = None;
    if is_data_driven(&model) {
        let from = deal.converted_at - Duration::days(i64::from(rule.training_days));
        let to = deal.converted_at + Duration::microseconds(1);
        let training = rules::journeys(
            &load(conn, Some(from), Some(to), lookback_days, None)?,
            GroupBy::Channel,
        );
        let converting = training
            .iter()
            .filter(|j| j.journey.conversions > 0.0)
            .count();
        model = rule.model_for(converting);
        if is_data_driven(&model) {
            let set: Vec<Journey> = training.into_iter().map(|j| j.journey).collect();
            let channels: Vec<String> = touches.iter().map(|(c, _)| c.clone()).collect();
            shares = JourneySet::new(&set)
                .and_then(|set| attribute_journeys(&set, &[model]))
                .map_err(|e| tracing::warn!(error = %e, "data-driven attribution failed"))
                .ok()
                .and_then(|report| {
                    shares_from_weights(&channels, &channel_weights(&report.results[0]))
                });
            if shares.is_none() {
                model = Model::Linear;
            }
        }
    }
    let shares = match shares {
        Some(s) => s,
        None => {
            let alone = Journey {
                conversions: 1.0,
                value: 1.0,
                nulls: 0.0,
                ..journey
            };
            let report = JourneySet::new(&[alone])
                .and_then(|set| attribute_journeys(&set, &[model]))
                .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))?;
            shares_from_report(&report)
        }
    };

    let credits = split_by_campaign(&shares, &touches);
    let raw: Vec<f64> = credits.iter().map(|c| c.share).collect();
    let conversions = apportion(&raw, Decimal::ONE, 6);
    let values = apportion(&raw, deal.value, deal.value.scale().max(2));
    let event = ConversionAttributed {
        conversion_id: deal.conversion_id,
        deal_id: deal.deal_id,
        lead_id: deal.lead_id,
        model: model.name().to_string(),
        order: match model {
            Model::Markov(order) => Some(order.get()),
            _ => None,
        },
        value: deal.value,
        currency: deal.currency.clone(),
        converted_at: deal.converted_at,
        touch_count: u32::try_from(touches.len()).unwrap_or(u32::MAX),
        credits: credits
            .into_iter()
            .zip(conversions)
            .zip(values)
            .map(|((c, conversions), value)| AttributionCredit {
                channel: c.channel,
                campaign_id: c.campaign_id,
                conversions,
                value,
            })
            .collect(),
    };
    platform::bus::outbox::enqueue(conn, &event, trace)?;
    Ok(Some(event))
}
