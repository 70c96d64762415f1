//! The preconditions of a PUT that creates or replaces (an upsert), after RFC 9110: a
//! client replaces the version it read (`If-Match`) or creates only what does not exist yet
//! (`If-None-Match: *`); an unconditional PUT is refused, so no write is ever lost.

/// What a PUT's conditional headers ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Neither `If-Match` nor `If-None-Match`.
    Missing,
    /// `If-Match`: replace only this version.
    IfMatch(i32),
    /// `If-None-Match: *`: create only.
    CreateOnly,
}

/// What the PUT may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    Create,
    /// Replace the current version, which becomes the one after it.
    Replace {
        current: i32,
    },
}

/// Why the PUT may not go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PreconditionError {
    /// No precondition was sent (428); `exists` says which one the client needs.
    #[error("a precondition is required")]
    Required { exists: bool },
    /// `If-Match` names another version than the current one (412).
    #[error("If-Match does not match the current version {current}")]
    Stale { current: i32 },
    /// `If-None-Match: *` and the resource exists (412).
    #[error("the resource exists at version {current}")]
    Exists { current: i32 },
    /// `If-Match` and the resource does not exist (412).
    #[error("the resource does not exist")]
    Absent,
}

/// Decides a PUT from the resource's current version (none when it does not exist) and the
/// precondition sent.
pub fn decide(current: Option<i32>, sent: Precondition) -> Result<Write, PreconditionError> {
    match (current, sent) {
        (current, Precondition::Missing) => Err(PreconditionError::Required {
            exists: current.is_some(),
        }),
        (Some(current), Precondition::IfMatch(v)) if v == current => Ok(Write::Replace { current }),
        (Some(current), Precondition::IfMatch(_)) => Err(PreconditionError::Stale { current }),
        (None, Precondition::IfMatch(_)) => Err(PreconditionError::Absent),
        (Some(current), Precondition::CreateOnly) => Err(PreconditionError::Exists { current }),
        (None, Precondition::CreateOnly) => Ok(Write::Create),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Precondition::*;
    use PreconditionError as E;

    #[test]
    fn the_decision_table() {
        let table = [
            (None, Missing, Err(E::Required { exists: false })),
            (Some(2), Missing, Err(E::Required { exists: true })),
            (Some(2), IfMatch(2), Ok(Write::Replace { current: 2 })),
            (Some(3), IfMatch(2), Err(E::Stale { current: 3 })),
            (None, IfMatch(1), Err(E::Absent)),
            (Some(1), CreateOnly, Err(E::Exists { current: 1 })),
            (None, CreateOnly, Ok(Write::Create)),
        ];
        for (current, sent, want) in table {
            assert_eq!(decide(current, sent), want, "{current:?} {sent:?}");
        }
    }
}
