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
           engagement * power(2::float8, -(extract(epoch FROM (now() - coalesce(engagement_as_of, created_at))) / 86400.0) / {hl}) AS engagement, \
           coalesce(grade, '') AS grade, \
           (extract(epoch FROM mql_at) * 1000000)::bigint AS mql_at, \
           (extract(epoch FROM sql_at) * 1000000)::bigint AS sql_at, \
           (extract(epoch FROM customer_at) * 1000000)::bigint AS customer_at \
         FROM leads WHERE merged_into IS NULL",
        hl = half_life_days.max(f64::MIN_POSITIVE)
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
             count(*) FILTER (WHERE engagement * power(2::float8, -(extract(epoch FROM (now() - coalesce(engagement_as_of, created_at))) / 86400.0) / {hl}) >= 1) AS engaged, \
             sum(engagement * power(2::float8, -(extract(epoch FROM (now() - coalesce(engagement_as_of, created_at))) / 86400.0) / {hl})) AS engagement \
           FROM leads WHERE merged_into IS NULL AND account_id IS NOT NULL GROUP BY account_id), \
         past AS ( \
           SELECT account_id, sum(points * power(2::float8, -(extract(epoch FROM (now() - interval '30 days' - occurred_at)) / 86400.0) / {hl})) AS engagement \
           FROM engagement_touches WHERE account_id IS NOT NULL AND occurred_at <= now() - interval '30 days' GROUP BY account_id) \
         SELECT a.id, a.name, a.abm_tier, a.target, \
           coalesce(s.engaged, 0) AS engaged_leads, \
           coalesce(s.engagement, 0)::float8 AS engagement, \
           coalesce(p.engagement, 0)::float8 AS engagement_30d_ago, \
           CASE coalesce(s.rank, 0) WHEN 0 THEN 'unaware' WHEN 1 THEN 'aware' WHEN 2 THEN 'engaged' \
             WHEN 3 THEN 'considering' WHEN 4 THEN 'selecting' ELSE 'customer' END AS buying_stage \
         FROM accounts a LEFT JOIN lead_stage s ON s.account_id = a.id LEFT JOIN past p ON p.account_id = a.id",
        hl = half_life_days.max(f64::MIN_POSITIVE)
    )
}
