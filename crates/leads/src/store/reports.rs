//! Report inputs straight out of PostgreSQL with `COPY … TO STDOUT (FORMAT csv)`, which
//! polars reads in one pass: far faster than materialising a million rows through diesel.

/// The columns `reports::leads_frame` expects, for live leads, with engagement decayed to
/// now under the given half-life. Times are epoch microseconds. `id` and `account_id` are
/// exported empty: no lead report reads them, and they would be a third of the bytes.
pub fn leads_csv_sql(half_life_days: f64) -> String {
    format!(
        "SELECT '' AS id, source, campaign_id, NULL AS account_id, \
           (extract(epoch FROM created_at) * 1000000)::bigint AS created_at, \
           fit, \
           {lead} AS engagement, \
           coalesce(grade, '') AS grade, \
           (extract(epoch FROM mql_at) * 1000000)::bigint AS mql_at, \
           (extract(epoch FROM sql_at) * 1000000)::bigint AS sql_at, \
           (extract(epoch FROM customer_at) * 1000000)::bigint AS customer_at \
         FROM leads WHERE merged_into IS NULL",
        lead = decayed("engagement", LEAD_AGE_DAYS, half_life_days),
    )
}

/// Per account: leads with at least one point of engagement now, the decayed engagement sum
/// now and 30 days ago, and the buying stage from its most advanced lead.
pub fn accounts_csv_sql(half_life_days: f64) -> String {
    format!(
        "WITH lead_stage AS ( \
           SELECT account_id, \
             max(CASE lifecycle_stage WHEN 'subscriber' THEN 1 WHEN 'lead' THEN 1 WHEN 'mql' THEN 2 \
                 WHEN 'sql' THEN 3 WHEN 'opportunity' THEN 4 WHEN 'customer' THEN 5 WHEN 'evangelist' THEN 5 ELSE 0 END) AS rank, \
             count(*) FILTER (WHERE {lead} >= 1) AS engaged, \
             sum({lead}) AS engagement \
           FROM leads WHERE merged_into IS NULL AND account_id IS NOT NULL GROUP BY account_id), \
         past AS ( \
           SELECT account_id, sum({touch}) AS engagement \
           FROM engagement_touches WHERE account_id IS NOT NULL AND occurred_at <= now() - interval '30 days' GROUP BY account_id) \
         SELECT a.id, a.name, a.abm_tier, a.target, \
           coalesce(s.engaged, 0) AS engaged_leads, \
           coalesce(s.engagement, 0)::float8 AS engagement, \
           coalesce(p.engagement, 0)::float8 AS engagement_30d_ago, \
           CASE coalesce(s.rank, 0) WHEN 0 THEN 'unaware' WHEN 1 THEN 'aware' WHEN 2 THEN 'engaged' \
             WHEN 3 THEN 'considering' WHEN 4 THEN 'selecting' ELSE 'customer' END AS buying_stage \
         FROM accounts a LEFT JOIN lead_stage s ON s.account_id = a.id LEFT JOIN past p ON p.account_id = a.id",
        lead = decayed("engagement", LEAD_AGE_DAYS, half_life_days),
        touch = decayed(
            "points",
            "extract(epoch FROM (now() - interval '30 days' - occurred_at)) / 86400.0",
            half_life_days
        ),
    )
}

/// Days since a lead's engagement was last decayed.
const LEAD_AGE_DAYS: &str =
    "extract(epoch FROM (now() - coalesce(engagement_as_of, created_at))) / 86400.0";

/// SQL for `value` decayed over `age_days` under a half-life of `half_life_days`.
///
/// PostgreSQL's float8 `power` and `*` raise an error, rather than return 0, when a result
/// underflows: `power(2, -age / half_life)` did for a touch a few thousand half-lives old
/// (a year-0000 touch, or a short half-life), and failed the whole report. The decay is
/// taken in the log domain instead and floored at 2^-1020, which is 0 for any reader.
fn decayed(value: &str, age_days: &str, half_life_days: f64) -> String {
    format!(
        "(CASE WHEN {value} = 0 THEN 0::float8 ELSE sign({value}) * power(2::float8, \
           greatest(-1020::float8, ln(abs({value})) / ln(2::float8) - ({age_days}) / {hl})) END)",
        hl = half_life_days.max(f64::MIN_POSITIVE)
    )
}
