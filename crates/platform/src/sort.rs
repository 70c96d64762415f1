//! The orders a list can be sorted in (`sort`: `created_at` or `updated_at`, either way),
//! and the keyset position a page ends at, so that a cursor stays exact under any of them.
//! Shared by every list that takes `sort` and `updated_since` (leads, accounts, deals,
//! campaigns). Plain types and a diesel macro, no HTTP: the store layer uses them; the
//! query parsing is [`crate::http::sort`].

use std::fmt::Display;
use std::str::FromStr;

use chrono::{DateTime, Utc};

/// The values of `sort`, in the order the OpenAPI documents list them.
pub const SORTS: [&str; 4] = ["created_at", "-created_at", "updated_at", "-updated_at"];

/// The part of [`SORT_DOC`] and [`SORT_DOC_NEWEST_FIRST`] after the default.
macro_rules! sort_doc {
    ($head:literal) => {
        concat!(
            $head,
            " Ties are ordered by id in the same direction. The cursor remembers the order: \
             pass it back with the same `sort`. To sync, page with \
             `sort=updated_at&updated_since=<the largest updated_at you hold>`: a row changed \
             while you page moves to the end of the order, so it is seen again rather than \
             missed."
        )
    };
}

/// What `sort` means, for the OpenAPI description of the lists that take it, where the
/// default is `created_at` ([`Sort::default`]).
pub const SORT_DOC: &str = sort_doc!(
    "Order of the list: `created_at` (the default), `updated_at`, or either with a leading `-` for newest first."
);

/// [`SORT_DOC`] for the lists that are newest first by default ([`Sort::NEWEST_FIRST`]).
pub const SORT_DOC_NEWEST_FIRST: &str = sort_doc!(
    "Order of the list: `-created_at` (the default: newest first), `created_at`, `updated_at` or `-updated_at`; a leading `-` is newest first."
);

/// The timestamp a list is ordered by; ties are broken by id in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    CreatedAt,
    UpdatedAt,
}

/// A list's order: its key, either way. The default is `created_at`, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Sort {
    /// `-created_at`: newest first.
    pub const NEWEST_FIRST: Sort = Sort {
        key: SortKey::CreatedAt,
        descending: true,
    };

    /// One of [`SORTS`].
    pub fn parse(s: &str) -> Option<Sort> {
        let descending = s.starts_with('-');
        let key = match s.strip_prefix('-').unwrap_or(s) {
            "created_at" => SortKey::CreatedAt,
            "updated_at" => SortKey::UpdatedAt,
            _ => return None,
        };
        Some(Sort { key, descending })
    }

    /// The value of `sort` that means this order.
    pub fn name(self) -> &'static str {
        match (self.key, self.descending) {
            (SortKey::CreatedAt, false) => SORTS[0],
            (SortKey::CreatedAt, true) => SORTS[1],
            (SortKey::UpdatedAt, false) => SORTS[2],
            (SortKey::UpdatedAt, true) => SORTS[3],
        }
    }

    /// The value of this sort's key on a row.
    pub fn value(self, created_at: DateTime<Utc>, updated_at: DateTime<Utc>) -> DateTime<Utc> {
        match self.key {
            SortKey::CreatedAt => created_at,
            SortKey::UpdatedAt => updated_at,
        }
    }
}

/// Where the previous page ended: its last row's sort value and id. `I` is the id's type:
/// a `Uuid`, or a `String` where ids are text (campaigns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyset<I> {
    pub at: DateTime<Utc>,
    pub id: I,
}

const NOT_A_CURSOR: &str = "is not a cursor returned by this endpoint";

/// The cursor key after a row: the sort it was issued for, the row's sort value (in
/// microseconds, PostgreSQL's precision, so that it compares exactly) and its id.
pub fn keyset_key(
    sort: Sort,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    id: impl Display,
) -> String {
    let at = sort.value(created_at, updated_at).timestamp_micros();
    format!("{}|{at}|{id}", sort.name())
}

/// The keyset a [`keyset_key`] names, if it was issued for `sort`; else the message of the
/// 422 naming `cursor`.
pub fn decode_keyset<I: FromStr>(key: &str, sort: Sort) -> Result<Keyset<I>, String> {
    let mut parts = key.splitn(3, '|');
    let (Some(name), Some(at), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NOT_A_CURSOR.to_string());
    };
    if Sort::parse(name).is_none() {
        return Err(NOT_A_CURSOR.to_string());
    }
    if name != sort.name() {
        return Err(format!(
            "was issued for sort={name}: pass the same sort with it"
        ));
    }
    let at = at.parse().ok().and_then(DateTime::from_timestamp_micros);
    let id = Some(id)
        .filter(|id| !id.is_empty())
        .and_then(|id| id.parse().ok());
    match (at, id) {
        (Some(at), Some(id)) => Ok(Keyset { at, id }),
        _ => Err(NOT_A_CURSOR.to_string()),
    }
}

/// Orders a boxed diesel query of table `$t` (with `id`, `created_at` and `updated_at`
/// columns) by `$sort` (a [`Sort`]), then id in the same direction, and keeps the rows
/// strictly after `$after` (an `Option<`[`Keyset`]`>` of the id's type).
///
/// ```ignore
/// let q = leads::table.select(LeadRow::as_select()).limit(f.limit).into_boxed();
/// let q = platform::keyset!(q, leads, f.sort, f.after);
/// ```
#[macro_export]
macro_rules! keyset {
    ($q:expr, $t:ident, $sort:expr, $after:expr) => {{
        use $crate::sort::SortKey;
        let sort: $crate::sort::Sort = $sort;
        let after: ::core::option::Option<$crate::sort::Keyset<_>> = $after;
        let q = $q;
        match (sort.key, sort.descending) {
            (SortKey::CreatedAt, false) => $crate::keyset!(@asc q, $t::created_at, $t::id, after),
            (SortKey::CreatedAt, true) => $crate::keyset!(@desc q, $t::created_at, $t::id, after),
            (SortKey::UpdatedAt, false) => $crate::keyset!(@asc q, $t::updated_at, $t::id, after),
            (SortKey::UpdatedAt, true) => $crate::keyset!(@desc q, $t::updated_at, $t::id, after),
        }
    }};
    (@asc $q:ident, $col:path, $id:path, $after:ident) => {{
        use $crate::__diesel::prelude::{BoolExpressionMethods, ExpressionMethods, QueryDsl};
        let q = $q.order(($col.asc(), $id.asc()));
        match $after {
            Some(k) => q.filter($col.gt(k.at).or($col.eq(k.at).and($id.gt(k.id)))),
            None => q,
        }
    }};
    (@desc $q:ident, $col:path, $id:path, $after:ident) => {{
        use $crate::__diesel::prelude::{BoolExpressionMethods, ExpressionMethods, QueryDsl};
        let q = $q.order(($col.desc(), $id.desc()));
        match $after {
            Some(k) => q.filter($col.lt(k.at).or($col.eq(k.at).and($id.lt(k.id)))),
            None => q,
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn at(micros: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(micros).unwrap()
    }

    #[test]
    fn every_sort_name_parses_back_and_others_do_not() {
        for name in SORTS {
            assert_eq!(Sort::parse(name).map(Sort::name), Some(name));
        }
        assert_eq!(Sort::default().name(), "created_at");
        assert_eq!(Sort::NEWEST_FIRST.name(), "-created_at");
        for bad in ["", "-", "id", "--created_at", "created_at-", "Created_at"] {
            assert_eq!(Sort::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_key_holds_its_sort_value_to_the_microsecond_and_its_id() {
        let id = Uuid::now_v7();
        let (c, u) = (at(1_700_000_000_123_456), at(1_800_000_000_000_001));
        for (name, want) in [("created_at", c), ("-updated_at", u)] {
            let sort = Sort::parse(name).unwrap();
            let key = keyset_key(sort, c, u, id);
            assert_eq!(key, format!("{name}|{}|{id}", want.timestamp_micros()));
            assert_eq!(decode_keyset(&key, sort), Ok(Keyset { at: want, id }));
        }
        let sort = Sort::parse("updated_at").unwrap();
        let key = keyset_key(sort, c, u, "cmp-search.brand_1");
        assert_eq!(
            decode_keyset::<String>(&key, sort),
            Ok(Keyset {
                at: u,
                id: "cmp-search.brand_1".to_string()
            })
        );
    }

    #[test]
    fn a_key_of_another_sort_or_not_a_key_is_refused() {
        let id = Uuid::now_v7();
        let key = keyset_key(Sort::NEWEST_FIRST, at(1), at(2), id);
        let err = decode_keyset::<Uuid>(&key, Sort::default()).unwrap_err();
        assert!(err.contains("sort=-created_at"), "{err}");
        let sort = Sort::default();
        for bad in [
            "",
            "cmp-search",
            "created_at|1",
            "created_at|x|a",
            "created_at|1|",
            "name|1|a",
            "created_at|99999999999999999999|a",
        ] {
            assert_eq!(
                decode_keyset::<String>(bad, sort),
                Err(NOT_A_CURSOR.to_string()),
                "{bad}"
            );
        }
        assert!(decode_keyset::<Uuid>("created_at|1|not-a-uuid", sort).is_err());
    }
}
