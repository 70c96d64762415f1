//! The CloudEvents 1.0 envelope in structured and batch JSON mode, and the decoding of AMQP bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog;
pub use crate::payload::EventPayload;

/// AMQP content type of a message holding one event in structured mode.
pub const CLOUDEVENTS_JSON: &str = "application/cloudevents+json";
/// AMQP content type of a message holding a JSON array of structured-mode events.
pub const CLOUDEVENTS_BATCH_JSON: &str = "application/cloudevents-batch+json";
pub const SPEC_VERSION: &str = "1.0";
/// The only `datacontenttype` Touchstone publishes: `data` is inline JSON.
pub const DATA_CONTENT_TYPE: &str = "application/json";

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CloudEvent<T = serde_json::Value> {
    pub specversion: String,
    pub id: Uuid,
    /// `/touchstone/<service>`.
    pub source: String,
    /// `touchstone.<service>.<entity>.<verb>.v<N>`, also the AMQP routing key.
    #[serde(rename = "type")]
    pub ty: String,
    /// The aggregate id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub time: DateTime<Utc>,
    // CloudEvents makes this attribute optional; defaulting it lets events from tools
    // that leave it out still decode.
    #[serde(default = "default_data_content_type")]
    pub datacontenttype: String,
    /// W3C trace context, as the CloudEvents distributed-tracing extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    pub data: T,
}

pub type RawEvent = CloudEvent<serde_json::Value>;

fn default_data_content_type() -> String {
    DATA_CONTENT_TYPE.to_owned()
}

/// Why a message body is not a usable event. The `Display` text is meant for people: it
/// goes into the dead-letter header.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("body is not valid JSON: {0}")]
    Json(String),
    #[error("not a CloudEvent: {0}")]
    NotACloudEvent(String),
    #[error("unsupported CloudEvents specversion {0:?}; only \"1.0\" is accepted")]
    UnsupportedSpecVersion(String),
    #[error("unknown event type {0:?}: not in the Touchstone event catalog")]
    UnknownType(String),
    #[error("expected event type {expected:?} but the event is {actual:?}")]
    WrongType { expected: String, actual: String },
    #[error("data does not match the schema of {ty}: {reason}")]
    InvalidData { ty: String, reason: String },
    #[error("empty batch: a CloudEvents batch must hold at least one event")]
    EmptyBatch,
    #[error("event {index} of the batch: {source}")]
    InBatch {
        index: usize,
        source: Box<DecodeError>,
    },
}

impl<T> CloudEvent<T> {
    /// The same event with its `data` turned into another representation.
    pub fn map_data<U>(self, f: impl FnOnce(T) -> U) -> CloudEvent<U> {
        CloudEvent {
            specversion: self.specversion,
            id: self.id,
            source: self.source,
            ty: self.ty,
            subject: self.subject,
            time: self.time,
            datacontenttype: self.datacontenttype,
            traceparent: self.traceparent,
            data: f(self.data),
        }
    }
}

impl<'a, T: EventPayload> CloudEvent<&'a T> {
    /// A new event for `payload`: a fresh id and the current time, with `source`, `type` and
    /// `subject` taken from the payload type. It serializes the payload in place, with no
    /// intermediate JSON value, which is what bulk producers want.
    pub fn typed(payload: &'a T, traceparent: Option<String>) -> Self {
        CloudEvent {
            specversion: SPEC_VERSION.to_owned(),
            // v7 ids sort by creation time, which keeps inbox and outbox indexes append-mostly.
            id: Uuid::now_v7(),
            source: T::SERVICE.source().to_owned(),
            ty: T::TYPE.to_owned(),
            subject: Some(payload.subject()),
            time: Utc::now(),
            datacontenttype: DATA_CONTENT_TYPE.to_owned(),
            traceparent,
            data: payload,
        }
    }
}

impl RawEvent {
    /// A new event for `payload`, as [`CloudEvent::typed`] makes it, with the payload held
    /// as a JSON value.
    pub fn new<T: EventPayload>(payload: &T, traceparent: Option<String>) -> RawEvent {
        CloudEvent::typed(payload, traceparent).map_data(|data| {
            serde_json::to_value(data)
                .expect("payload types have string map keys only, so they always serialize")
        })
    }

    /// The payload, once the event is known to be of type `T`.
    pub fn decode<T: EventPayload>(&self) -> Result<T, DecodeError> {
        if self.ty != T::TYPE {
            return Err(DecodeError::WrongType {
                expected: T::TYPE.to_owned(),
                actual: self.ty.clone(),
            });
        }
        T::deserialize(&self.data).map_err(|e| DecodeError::InvalidData {
            ty: self.ty.clone(),
            reason: e.to_string(),
        })
    }

    /// The body of a structured-mode message.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a JSON value with string keys always serializes")
    }
}

/// Parses one structured-mode event and checks that it is a CloudEvents 1.0 event of a type
/// in the catalog whose `data` decodes into that type's payload.
pub fn parse_structured(bytes: &[u8]) -> Result<RawEvent, DecodeError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| DecodeError::Json(e.to_string()))?;
    validate_event(value)
}

/// Parses a batch-mode body, a non-empty JSON array of events each checked as by
/// [`parse_structured`]. One bad event rejects the whole batch, so that the message goes to the
/// dead-letter queue as a unit and can be replayed as one.
pub fn parse_batch(bytes: &[u8]) -> Result<Vec<RawEvent>, DecodeError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| DecodeError::Json(e.to_string()))?;
    let serde_json::Value::Array(items) = value else {
        return Err(DecodeError::NotACloudEvent(
            "a batch body must be a JSON array of events".to_owned(),
        ));
    };
    if items.is_empty() {
        return Err(DecodeError::EmptyBatch);
    }
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            validate_event(item).map_err(|e| DecodeError::InBatch {
                index,
                source: Box::new(e),
            })
        })
        .collect()
}

/// Parses an AMQP message body according to its content type: batch mode for
/// [`CLOUDEVENTS_BATCH_JSON`], structured mode for anything else, including none.
pub fn parse_message(
    content_type: Option<&str>,
    bytes: &[u8],
) -> Result<Vec<RawEvent>, DecodeError> {
    if content_type.is_some_and(is_batch_content_type) {
        parse_batch(bytes)
    } else {
        parse_structured(bytes).map(|event| vec![event])
    }
}

/// Compares the media type only, so that `; charset=utf-8` and case do not change the mode.
fn is_batch_content_type(content_type: &str) -> bool {
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    media_type.eq_ignore_ascii_case(CLOUDEVENTS_BATCH_JSON)
}

fn validate_event(value: serde_json::Value) -> Result<RawEvent, DecodeError> {
    let serde_json::Value::Object(object) = &value else {
        return Err(DecodeError::NotACloudEvent(
            "expected a JSON object".to_owned(),
        ));
    };
    // Checked before the full decode so that an event of another CloudEvents version is
    // reported as such, not as whichever of its attributes differs first.
    match object.get("specversion") {
        Some(serde_json::Value::String(v)) if v == SPEC_VERSION => {}
        Some(serde_json::Value::String(v)) => {
            return Err(DecodeError::UnsupportedSpecVersion(v.clone()));
        }
        Some(other) => return Err(DecodeError::UnsupportedSpecVersion(other.to_string())),
        None => {
            return Err(DecodeError::NotACloudEvent(
                "missing field `specversion`".to_owned(),
            ));
        }
    }
    let event: RawEvent =
        serde_json::from_value(value).map_err(|e| DecodeError::NotACloudEvent(e.to_string()))?;
    if event.id.is_nil() {
        return Err(DecodeError::NotACloudEvent(
            "`id` is the nil UUID".to_owned(),
        ));
    }
    if event.source.is_empty() {
        return Err(DecodeError::NotACloudEvent("`source` is empty".to_owned()));
    }
    if event.ty.is_empty() {
        return Err(DecodeError::NotACloudEvent("`type` is empty".to_owned()));
    }
    let media_type = event
        .datacontenttype
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    if !media_type.eq_ignore_ascii_case(DATA_CONTENT_TYPE) {
        return Err(DecodeError::NotACloudEvent(format!(
            "datacontenttype {:?} is not {DATA_CONTENT_TYPE}",
            event.datacontenttype
        )));
    }
    let info =
        catalog::lookup(&event.ty).ok_or_else(|| DecodeError::UnknownType(event.ty.clone()))?;
    (info.validate)(&event.data).map_err(|reason| DecodeError::InvalidData {
        ty: event.ty.clone(),
        reason,
    })?;
    Ok(event)
}
