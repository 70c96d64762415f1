//! Persistence: reads and writes the rows of products, fixed costs, campaigns and
//! scenarios, and of the live-tracking totals fed by events. No rules live here: the use
//! cases decide what to write and which alerts to send.

pub mod alerts;
pub mod attributions;
pub mod campaigns;
pub mod deals;
pub mod fixed_costs;
pub mod products;
pub mod scenarios;
pub mod schema;
pub mod spend;

use chrono::{DateTime, SubsecRound, Utc};

/// Lists stop here; the catalogue of one company is small.
pub const LIST_LIMIT: i64 = 1000;

/// The time a write records. PostgreSQL keeps microseconds: truncated so that the write's
/// answer equals later reads.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// `find` (by primary key) and `list` (in key order, at most [`LIST_LIMIT`]) of a table's
/// rows, as the records tables all read them.
macro_rules! find_and_list {
    ($table:ident, $row:ty, $key:ty) => {
        pub fn find(conn: &mut PgConnection, id: $key) -> QueryResult<Option<$row>> {
            $table::table
                .find(id)
                .select(<$row>::as_select())
                .first(conn)
                .optional()
        }

        pub fn list(conn: &mut PgConnection) -> QueryResult<Vec<$row>> {
            $table::table
                .order($table::id)
                .limit($crate::store::LIST_LIMIT)
                .select(<$row>::as_select())
                .load(conn)
        }
    };
}
use find_and_list;
