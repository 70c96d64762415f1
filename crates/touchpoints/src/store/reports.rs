//! Report inputs straight out of PostgreSQL with `COPY … TO STDOUT (FORMAT csv)`. The
//! database filters and pre-aggregates to the report's grain (so a million touches become a
//! few thousand rows); polars computes the figures. Money leaves as exact integer
//! millionths (`*_micros`), never as floats.

use chrono::{DateTime, SecondsFormat, Utc};

/// A half-open `[from, to)` window; an open end is unbounded.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Window {
    /// `AND` conditions on `column`. The times are formatted here, never taken as text.
    fn sql(&self, column: &str) -> String {
        let mut s = String::new();
        if let Some(from) = self.from {
            s.push_str(&format!(
                " AND {column} >= '{}'::timestamptz",
                rfc3339(from)
            ));
        }
        if let Some(to) = self.to {
            s.push_str(&format!(" AND {column} < '{}'::timestamptz", rfc3339(to)));
        }
        s
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Rows of `(campaign_id, channel, day, touch_type, touches, cost_micros, conversions,
/// value_micros)`: touches with a campaign counted by campaign, channel, UTC day of the touch
/// and type; then one row per won conversion, credited to the campaign and channel of the
/// last touch with a campaign in its journey, on the UTC day of the conversion.
pub fn campaign_sql(window: Window, lookback_days: u32) -> String {
    format!(
        "SELECT campaign_id, channel, day, touch_type, touches, cost_micros, 0::bigint AS conversions, 0::bigint AS value_micros \
         FROM (SELECT campaign_id, channel, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, touch_type, \
                 count(*) AS touches, coalesce(round(sum(cost) * 1000000), 0)::bigint AS cost_micros \
               FROM touchpoints WHERE campaign_id IS NOT NULL{tw} GROUP BY 1, 2, 3, 4) a \
         UNION ALL \
         SELECT t.campaign_id, t.channel, to_char(c.converted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), '', 0, 0, 1, \
           coalesce(round(c.value * 1000000), 0)::bigint \
         FROM conversions c JOIN LATERAL ( \
           SELECT t.campaign_id, t.channel FROM touchpoints t \
           WHERE t.lead_id = c.lead_id AND t.campaign_id IS NOT NULL \
             AND t.occurred_at <= c.converted_at AND t.occurred_at >= c.converted_at - interval '{lookback_days} days' \
           ORDER BY t.occurred_at DESC, t.id DESC LIMIT 1) t ON true \
         WHERE c.kind = 'won' AND c.lead_id IS NOT NULL{cw}",
        tw = window.sql("occurred_at"),
        cw = window.sql("c.converted_at"),
    )
}

/// Rows of `(kind, affiliate_id, value_micros, clawed_back)`: one `lead` row per
/// (affiliate, lead) with an affiliate touch in the window, and one `conversion` row per won
/// conversion in the window credited to the affiliate of the last affiliate touch within that
/// affiliate's cookie window before it (both edges included). `clawed_back` is 1 when the
/// same deal was lost after it was won.
pub fn affiliates_sql(window: Window, default_window_days: i32) -> String {
    format!(
        "SELECT 'lead' AS kind, affiliate_id, 0::bigint AS value_micros, 0 AS clawed_back \
         FROM (SELECT DISTINCT affiliate_id, lead_id FROM touchpoints \
               WHERE channel = 'affiliate' AND affiliate_id IS NOT NULL AND lead_id IS NOT NULL{tw}) l \
         UNION ALL \
         SELECT 'conversion', a.affiliate_id, coalesce(round(c.value * 1000000), 0)::bigint, \
           CASE WHEN EXISTS (SELECT 1 FROM conversions x WHERE x.deal_id = c.deal_id AND x.kind = 'lost' \
                             AND x.converted_at > c.converted_at) THEN 1 ELSE 0 END \
         FROM conversions c JOIN LATERAL ( \
           SELECT t.affiliate_id FROM touchpoints t LEFT JOIN affiliates f ON f.id = t.affiliate_id \
           WHERE t.lead_id = c.lead_id AND t.channel = 'affiliate' AND t.affiliate_id IS NOT NULL \
             AND t.occurred_at <= c.converted_at \
             AND t.occurred_at >= c.converted_at - make_interval(days => coalesce(f.cookie_window_days, {default_window_days})) \
           ORDER BY t.occurred_at DESC, t.id DESC LIMIT 1) a ON true \
         WHERE c.kind = 'won' AND c.lead_id IS NOT NULL{cw}",
        tw = window.sql("occurred_at"),
        cw = window.sql("c.converted_at"),
    )
}

/// One row per conversion (won, lost or micro) in the window: `(kind, touches, path,
/// value_micros)`, where the journey is the lead's touches in the lookback window up to the
/// conversion and `path` its channels in time order joined by ` > `.
pub fn journeys_sql(window: Window, lookback_days: u32) -> String {
    format!(
        "SELECT c.kind, count(t.id) AS touches, \
           coalesce(string_agg(t.channel, ' > ' ORDER BY t.occurred_at, t.id), '') AS path, \
           coalesce(round(c.value * 1000000), 0)::bigint AS value_micros \
         FROM conversions c LEFT JOIN touchpoints t ON t.lead_id = c.lead_id \
           AND t.occurred_at <= c.converted_at AND t.occurred_at >= c.converted_at - interval '{lookback_days} days' \
         WHERE c.lead_id IS NOT NULL{cw} \
         GROUP BY c.id, c.kind, c.value",
        cw = window.sql("c.converted_at"),
    )
}
