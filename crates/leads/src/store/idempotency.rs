//! The platform's idempotency records, as the streamed import reads them before its body.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use platform::schema::idempotency_keys as keys;

/// Whether a response is stored for `key` in `scope` (records live 24 hours, as the
/// platform keeps them).
pub fn seen(conn: &mut PgConnection, scope: &str, key: &str) -> QueryResult<bool> {
    let cutoff = Utc::now() - Duration::hours(24);
    diesel::select(diesel::dsl::exists(
        keys::table
            .filter(keys::scope.eq(scope))
            .filter(keys::key.eq(key))
            .filter(keys::created_at.gt(cutoff)),
    ))
    .get_result(conn)
}
