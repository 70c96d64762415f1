//! `sort` and its keyset cursor on the lists that take it: the query parsing of
//! [`crate::sort`].

use std::str::FromStr;

use super::query::Query;
pub use crate::sort::{
    Keyset, SORT_DOC, SORT_DOC_NEWEST_FIRST, SORTS, Sort, SortKey, decode_keyset, keyset_key,
};

/// `sort` (`default` when absent), `limit`, and the keyset of the cursor, which must have
/// been issued for the same sort: a bad `sort` or `cursor` is a 422 naming it. Page the
/// rows with [`crate::keyset!`] and name the next page with
/// [`super::query::paginate_by_key`] over [`keyset_key`].
pub fn sorted_page<I: FromStr>(q: &mut Query<'_>, default: Sort) -> (Sort, i64, Option<Keyset<I>>) {
    let sort = q
        .parse(
            "sort",
            "one of created_at, -created_at, updated_at, -updated_at",
            Sort::parse,
        )
        .unwrap_or(default);
    let (limit, key) = q.page_by_key();
    let after = key.and_then(|k| q.errors.take("cursor", decode_keyset(&k, sort)));
    (sort, limit, after)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use uuid::Uuid;

    use super::*;
    use crate::http::query::encode_key_cursor;

    type Page = (Sort, i64, Option<Keyset<Uuid>>);

    fn parse(pairs: &[(&str, &str)], default: Sort) -> Result<Page, Vec<String>> {
        let params: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut q = Query::new(&params, &["sort", "limit", "cursor"]);
        let page = sorted_page(&mut q, default);
        match q.finish() {
            Ok(()) => Ok(page),
            Err(p) => Err(p.errors.iter().map(|e| e.field.clone()).collect()),
        }
    }

    #[test]
    fn the_default_applies_without_sort_and_a_cursor_keeps_its_sort() {
        assert_eq!(
            parse(&[], Sort::default()).unwrap(),
            (Sort::default(), 50, None)
        );
        assert_eq!(
            parse(&[("limit", "2")], Sort::NEWEST_FIRST).unwrap(),
            (Sort::NEWEST_FIRST, 2, None)
        );
        let id = Uuid::now_v7();
        let at = chrono::DateTime::from_timestamp_micros(1_234_567).unwrap();
        let cursor = encode_key_cursor(&keyset_key(Sort::NEWEST_FIRST, at, at, id));
        // The default sort takes the cursor it issued; naming another sort refuses it.
        assert_eq!(
            parse(&[("cursor", &cursor)], Sort::NEWEST_FIRST).unwrap().2,
            Some(Keyset { at, id })
        );
        assert_eq!(
            parse(
                &[("cursor", &cursor), ("sort", "updated_at")],
                Sort::NEWEST_FIRST
            ),
            Err(vec!["cursor".to_string()])
        );
        assert_eq!(
            parse(&[("sort", "name")], Sort::default()),
            Err(vec!["sort".to_string()])
        );
    }
}
