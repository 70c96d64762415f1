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

pub use platform::time::now;

/// `find` and `lock` (by primary key) and `page` (in key order, after a key) of a
/// table's rows, as the records tables all read them.
macro_rules! find_lock_and_page {
    ($table:ident, $row:ty, $key:ty) => {
        pub fn find(conn: &mut PgConnection, id: $key) -> QueryResult<Option<$row>> {
            $table::table
                .find(id)
                .select(<$row>::as_select())
                .first(conn)
                .optional()
        }

        /// The row, locked until the transaction ends (a replace reads its version here).
        pub fn lock(conn: &mut PgConnection, id: $key) -> QueryResult<Option<$row>> {
            $table::table
                .find(id)
                .select(<$row>::as_select())
                .for_update()
                .first(conn)
                .optional()
        }

        /// At most `limit` rows in key order, after the key `after`.
        pub fn page(
            conn: &mut PgConnection,
            after: Option<$key>,
            limit: i64,
        ) -> QueryResult<Vec<$row>> {
            let mut q = $table::table
                .order($table::id)
                .limit(limit)
                .select(<$row>::as_select())
                .into_boxed();
            if let Some(after) = after {
                q = q.filter($table::id.gt(after));
            }
            q.load(conn)
        }
    };
}
use find_lock_and_page;
