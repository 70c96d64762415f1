//! The small fixed exports the report tests compute against by hand.

use chrono::{DateTime, Utc};
use polars::prelude::DataFrame;

/// 2025-01-01T00:00:00Z in epoch microseconds.
const T0: i64 = 1_735_689_600_000_000;
const DAY: i64 = 86_400_000_000;

/// Epoch microseconds of day `n` after 2025-01-01 (the fixture's `created_at`/`*_at` values).
pub fn day(n: i64) -> i64 {
    T0 + n * DAY
}

/// A report's column names, in order.
pub fn column_names(report: &DataFrame) -> Vec<&str> {
    report
        .get_column_names()
        .iter()
        .map(|n| n.as_str())
        .collect()
}

/// The same instant as a `DateTime`, for windows.
pub fn at(n: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(day(n)).unwrap()
}

/// Ten leads over three sources and two campaigns (plus none), created on days 0..=10.
///
/// | lead | source | campaign | created | fit | engagement | grade | mql | sql | customer |
/// | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
/// | L1 | webinar | c1 | d0 | 80 | 60 | A1 | d2 (2 days) | d5 | d20 |
/// | L2 | webinar | c1 | d1 | 60 | 30 | B2 | d5 (4 days) | | |
/// | L3 | webinar | - | d2 | 40 | 10 | C3 | | | |
/// | L4 | paid_search | c2 | d3 | 90 | 80 | A1 | d4 (1 day) | d6 | |
/// | L5 | paid_search | c2 | d4 | 20 | 50 | C2 | | | |
/// | L6 | paid_search | "" | d5 12:00 | 70 | 20 | B3 | d12 (6.5 days) | | |
/// | L7 | referral | c1 | d6 | 50 | 90 | B1 | d9 (3 days) | d10 | d30 |
/// | L8 | referral | - | d7 | 30 | 40 | C2 | | | |
/// | L9 | referral | c2 | d8 | 100 | 70 | A1 | d10 (2 days) | | |
/// | L10 | webinar | c2 | d10 | 10 | 0 | C3 | | | |
pub const LEADS_CSV: &str = "\
id,source,campaign_id,account_id,created_at,fit,engagement,grade,mql_at,sql_at,customer_at
00000000-0000-0000-0000-000000000001,webinar,c1,10000000-0000-0000-0000-000000000001,1735689600000000,80,60.0,A1,1735862400000000,1736121600000000,1737417600000000
00000000-0000-0000-0000-000000000002,webinar,c1,,1735776000000000,60.0,30,B2,1736121600000000,,
00000000-0000-0000-0000-000000000003,webinar,,,1735862400000000,40,10,C3,,,
00000000-0000-0000-0000-000000000004,paid_search,c2,10000000-0000-0000-0000-000000000002,1735948800000000,90,80,A1,1736035200000000,1736208000000000,
00000000-0000-0000-0000-000000000005,paid_search,c2,,1736035200000000,20,50,C2,,,
00000000-0000-0000-0000-000000000006,paid_search,\"\",,1736164800000000,70,20,B3,1736726400000000,,
00000000-0000-0000-0000-000000000007,referral,c1,10000000-0000-0000-0000-000000000001,1736208000000000,50,90,B1,1736467200000000,1736553600000000,1738281600000000
00000000-0000-0000-0000-000000000008,referral,,,1736294400000000,30,40,C2,,,
00000000-0000-0000-0000-000000000009,referral,c2,,1736380800000000,100,70,A1,1736553600000000,,
00000000-0000-0000-0000-000000000010,webinar,c2,,1736553600000000,10,0,C3,,,
";

/// Seven accounts; five are targets (Acme, Globex, Umbrella, Contoso, Betamax). Initech has the
/// largest engagement but is not a target, so it must not set the normalisation maximum.
pub const ACCOUNTS_CSV: &str = "\
id,name,abm_tier,target,engaged_leads,engagement,engagement_30d_ago,buying_stage
a1,Acme,one_to_one,t,5,200,150,decision
a2,Globex,one_to_few,true,3,50.0,80,awareness
a3,Initech,one_to_many,f,2,500,100,consideration
a4,Umbrella,one_to_one,true,4,100,100,consideration
a5,\"Hooli, Inc.\",one_to_few,false,1,10,10,awareness
a6,Contoso,none,t,0,0,10,awareness
a7,Betamax,one_to_one,t,1,100,0,awareness
";
