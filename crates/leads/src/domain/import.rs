//! The rules of a bulk lead import: what to do with a taken email (`mode`) and which line of
//! the file holds an email first. The ids a keyed import gives its leads, so that a retry
//! of the same body recognises the leads its first attempt stored, are
//! [`platform::import`]'s, shared with the touchpoints import.

use std::collections::HashMap;

pub use platform::import::{Fingerprint, is_line_id, line_id};

/// What a line whose email an existing lead holds does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportMode {
    /// The line is rejected, naming the lead that holds the email.
    #[default]
    Insert,
    /// The line's fields are written onto the existing lead.
    Upsert,
}

impl ImportMode {
    pub const ALL: [&'static str; 2] = ["insert", "upsert"];

    pub fn parse(s: &str) -> Option<ImportMode> {
        match s {
            "insert" => Some(ImportMode::Insert),
            "upsert" => Some(ImportMode::Upsert),
            _ => None,
        }
    }
}

/// The emails of a file seen so far, each with the line that held it first. Keeps 16
/// bytes of fingerprint per distinct email, not the email.
#[derive(Debug, Default)]
pub struct FirstLines(HashMap<u128, u64>);

impl FirstLines {
    /// The earlier line that held `email` (already normalised), or `None` when `line` is
    /// the first, which is then remembered.
    pub fn earlier(&mut self, email: &str, line: u64) -> Option<u64> {
        match self.0.entry(Fingerprint::of(email.as_bytes())) {
            std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(line);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_by_name_only() {
        assert_eq!(ImportMode::parse("insert"), Some(ImportMode::Insert));
        assert_eq!(ImportMode::parse("upsert"), Some(ImportMode::Upsert));
        assert_eq!(ImportMode::parse("Upsert"), None);
        assert_eq!(ImportMode::default(), ImportMode::Insert);
    }

    #[test]
    fn the_first_line_of_an_email_wins() {
        let mut seen = FirstLines::default();
        assert_eq!(seen.earlier("a@x.dev", 2), None);
        assert_eq!(seen.earlier("b@x.dev", 3), None);
        assert_eq!(seen.earlier("a@x.dev", 5), Some(2));
        assert_eq!(seen.earlier("a@x.dev", 9), Some(2));
    }
}
