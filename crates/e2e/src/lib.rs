//! Cross-service tests live in `tests/flows`; services never depend on each other, so
//! only this test crate sees more than one of them.
