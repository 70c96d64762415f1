//! Lead reports (in progress).
