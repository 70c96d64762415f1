//! `Idempotency-Key` on POST: the same key and body replay the stored response; the
//! same key with another body is a 422. Keys live 24 hours.

use std::future::{Ready, ready};

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::problem::Problem;
use crate::schema::idempotency_keys as keys;

pub const HEADER: &str = "idempotency-key";

/// The client's key, if it sent one.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = Problem;
    type Future = Ready<Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let Some(raw) = req.headers().get(HEADER) else {
            return ready(Ok(IdempotencyKey(None)));
        };
        ready(match raw.to_str() {
            Ok(k) if !k.is_empty() && k.len() <= 255 => Ok(IdempotencyKey(Some(k.to_string()))),
            _ => Err(Problem::field(
                "header:idempotency-key",
                "must be 1 to 255 visible ASCII characters",
            )),
        })
    }
}

/// A response as stored for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl StoredResponse {
    pub fn json(status: StatusCode, body: &impl serde::Serialize) -> Self {
        StoredResponse {
            status: status.as_u16(),
            headers: Vec::new(),
            body: serde_json::to_vec(body).expect("response serializes"),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn into_response(self, replayed: bool) -> HttpResponse {
        let mut b =
            HttpResponse::build(StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK));
        b.content_type("application/json");
        for (k, v) in &self.headers {
            b.insert_header((k.as_str(), v.as_str()));
        }
        if replayed {
            b.insert_header(("idempotent-replayed", "true"));
        }
        b.body(self.body)
    }
}

/// Errors `run` can raise besides the work's own.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    #[error("Idempotency-Key reused with a different body")]
    Mismatch,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Runs `work` in one transaction with the key's record: a first request does the work
/// and stores its response; a repeat replays it. Returns (response, replayed).
/// Same-key requests are serialised by an advisory lock, so concurrent retries never
/// both do the work.
pub fn run<E, F>(
    conn: &mut PgConnection,
    scope: &str,
    key: &IdempotencyKey,
    body: &[u8],
    work: F,
) -> Result<(StoredResponse, bool), E>
where
    F: FnOnce(&mut PgConnection) -> Result<StoredResponse, E>,
    E: From<IdempotencyError> + From<diesel::result::Error>,
{
    let Some(key) = &key.0 else {
        return conn.transaction(|tx| work(tx).map(|r| (r, false)));
    };
    let hash = Sha256::digest(body).to_vec();
    conn.transaction(|tx| {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind::<diesel::sql_types::Text, _>(format!("{scope}\u{1f}{key}"))
            .execute(tx)?;
        let cutoff = chrono::Utc::now() - chrono::Duration::hours(24);
        let existing: Option<(Vec<u8>, i16, serde_json::Value, Vec<u8>)> = keys::table
            .filter(keys::scope.eq(scope))
            .filter(keys::key.eq(key))
            .filter(keys::created_at.gt(cutoff))
            .select((keys::request_hash, keys::status, keys::headers, keys::body))
            .first(tx)
            .optional()?;
        if let Some((stored_hash, status, headers, body)) = existing {
            if stored_hash != hash {
                return Err(IdempotencyError::Mismatch.into());
            }
            let headers = serde_json::from_value(headers).unwrap_or_default();
            return Ok((
                StoredResponse {
                    status: status as u16,
                    headers,
                    body,
                },
                true,
            ));
        }
        let response = work(tx)?;
        diesel::insert_into(keys::table)
            .values((
                keys::scope.eq(scope),
                keys::key.eq(key),
                keys::request_hash.eq(&hash),
                keys::status.eq(response.status as i16),
                keys::headers
                    .eq(serde_json::to_value(&response.headers).expect("headers serialize")),
                keys::body.eq(&response.body),
                keys::created_at.eq(chrono::Utc::now()),
            ))
            .on_conflict((keys::scope, keys::key))
            .do_update()
            .set((
                keys::request_hash.eq(&hash),
                keys::status.eq(response.status as i16),
                keys::headers
                    .eq(serde_json::to_value(&response.headers).expect("headers serialize")),
                keys::body.eq(&response.body),
                keys::created_at.eq(chrono::Utc::now()),
            ))
            .execute(tx)?;
        Ok((response, false))
    })
}

impl From<IdempotencyError> for Problem {
    fn from(e: IdempotencyError) -> Self {
        match e {
            IdempotencyError::Mismatch => Problem::idempotency_mismatch(),
            IdempotencyError::Db(e) => {
                tracing::error!(error = %e, "idempotency store failed");
                Problem::internal()
            }
        }
    }
}

/// Whether a response is stored for `key` in `scope` (records live 24 hours): how a
/// streamed import tells a retry before it reads its body.
pub fn answered(conn: &mut PgConnection, scope: &str, key: &str) -> QueryResult<bool> {
    let cutoff = chrono::Utc::now() - chrono::Duration::hours(24);
    diesel::select(diesel::dsl::exists(
        keys::table
            .filter(keys::scope.eq(scope))
            .filter(keys::key.eq(key))
            .filter(keys::created_at.gt(cutoff)),
    ))
    .get_result(conn)
}
