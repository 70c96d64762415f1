//! The orders lists of leads and accounts are paged in, and the keyset position a page
//! ends at, so that a cursor stays correct under any of them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The timestamp a list is ordered by; ties are broken by id in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    CreatedAt,
    UpdatedAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Sort {
    /// The value of this sort's key on a row.
    pub fn value(self, created_at: DateTime<Utc>, updated_at: DateTime<Utc>) -> DateTime<Utc> {
        match self.key {
            SortKey::CreatedAt => created_at,
            SortKey::UpdatedAt => updated_at,
        }
    }
}

/// Where the previous page ended: its last row's sort value and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyset {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

/// Orders a boxed query of table `$t` (with `id`, `created_at` and `updated_at` columns)
/// by `$sort`, then id, and keeps the rows strictly after the keyset `$after`.
macro_rules! keyset {
    ($q:expr, $t:ident, $sort:expr, $after:expr) => {{
        use $crate::store::order::SortKey;
        let sort: $crate::store::order::Sort = $sort;
        let after: Option<$crate::store::order::Keyset> = $after;
        let q = $q;
        match (sort.key, sort.descending) {
            (SortKey::CreatedAt, false) => keyset!(@asc q, $t::created_at, $t::id, after),
            (SortKey::CreatedAt, true) => keyset!(@desc q, $t::created_at, $t::id, after),
            (SortKey::UpdatedAt, false) => keyset!(@asc q, $t::updated_at, $t::id, after),
            (SortKey::UpdatedAt, true) => keyset!(@desc q, $t::updated_at, $t::id, after),
        }
    }};
    (@asc $q:ident, $col:path, $id:path, $after:ident) => {{
        let q = $q.order(($col.asc(), $id.asc()));
        match $after {
            Some(k) => q.filter($col.gt(k.at).or($col.eq(k.at).and($id.gt(k.id)))),
            None => q,
        }
    }};
    (@desc $q:ident, $col:path, $id:path, $after:ident) => {{
        let q = $q.order(($col.desc(), $id.desc()));
        match $after {
            Some(k) => q.filter($col.lt(k.at).or($col.eq(k.at).and($id.lt(k.id)))),
            None => q,
        }
    }};
}

pub(crate) use keyset;
