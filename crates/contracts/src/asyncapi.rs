//! The AsyncAPI 3.0 document of the event bus, generated from the catalog.

mod yaml;

use serde_json::{Map, Value, json};

use crate::catalog::{EXCHANGE, EventInfo, catalog};
use crate::envelope::{CLOUDEVENTS_BATCH_JSON, CLOUDEVENTS_JSON};
use crate::schema::{ENVELOPE_REQUIRED, envelope_properties};
use crate::service::Service;

const SERVER: &str = "rabbitmq";
const AMQP_BINDING_VERSION: &str = "0.3.0";

const HOW_TO_CONSUME: &str = "\
Every event of the Touchstone services (leads, funnel, touchpoints, breakeven) as it travels on RabbitMQ.

How to consume:

1. Connect to the broker with AMQP 0-9-1. Every event is published to the durable topic exchange `touchstone.events`. The routing key is the event type, `touchstone.<service>.<entity>.<verb>.v<N>`, and each channel below is one routing key.
2. Declare a durable queue of your own (a quorum queue is recommended) and bind it to `touchstone.events` with the routing keys you want, or with a pattern such as `touchstone.funnel.#` or `touchstone.*.deal.*.v1`. Never consume from the services' own queues `touchstone.<service>`.
3. Messages are persistent (delivery mode 2) and delivery is at least once: the same event can arrive twice, and events can arrive out of order. Deduplicate by the event `id`, ideally in the same database transaction as your effect, and ack only once that has committed. For a single-event message the AMQP `message_id` equals the event `id`.
4. The AMQP content type says how to read the body. `application/cloudevents+json` is one CloudEvents 1.0 event in structured JSON mode. `application/cloudevents-batch+json` is a non-empty JSON array of such events, used for `touchpoint.recorded`; deduplicate each event in it by its own `id`. Accept both modes for every routing key.
5. The event payload is the CloudEvents `data` member, described with each message below. Decimal amounts are JSON strings, with an ISO 4217 `currency` beside them. Times are RFC 3339 in UTC. `subject` is the id of the aggregate the event is about.
6. Ignore attributes and data fields you do not know: fields are added to a version without notice. An incompatible change is published as a new type with the next `v<N>`.
7. The W3C `traceparent` travels both as a CloudEvents extension attribute and as an AMQP header; continue the trace from it.

The JSON Schema of each payload is also in `docs/events/<type>.json`, and the envelope's in `docs/events/cloudevent-envelope.json`.
";

/// The AsyncAPI document as YAML; it is checked in as `docs/asyncapi.yaml`.
pub fn render() -> String {
    yaml::to_yaml(&document())
}

/// The AsyncAPI document as a JSON value.
pub fn document() -> Value {
    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    let mut schemas = Map::new();

    for info in catalog() {
        let payload = payload_schema(info, &mut schemas);
        let single = single_message(info, payload);
        let mut channel_messages = Map::new();
        let mut message_names = Vec::new();
        if info.batched {
            let name = format!("{}.batch", info.ty);
            messages.insert(name.clone(), batch_message(info));
            message_names.push(name);
        }
        messages.insert(info.ty.to_owned(), single);
        message_names.push(info.ty.to_owned());
        for name in &message_names {
            channel_messages.insert(
                name.clone(),
                json!({"$ref": format!("#/components/messages/{name}")}),
            );
        }
        channels.insert(info.ty.to_owned(), channel(info, channel_messages));

        let message_refs: Vec<Value> = message_names
            .iter()
            .map(|name| json!({"$ref": format!("#/channels/{}/messages/{name}", info.ty)}))
            .collect();
        operations.insert(
            operation_id(info.service, "send", info.ty),
            send_operation(info, &message_refs),
        );
        for consumer in info.consumers {
            operations.insert(
                operation_id(*consumer, "receive", info.ty),
                receive_operation(info, *consumer, &message_refs),
            );
        }
    }

    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Touchstone events",
            "version": env!("CARGO_PKG_VERSION"),
            "description": HOW_TO_CONSUME,
        },
        "defaultContentType": CLOUDEVENTS_JSON,
        "servers": {
            SERVER: {
                "host": "127.0.0.1:5672",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "description": "The local RabbitMQ that `make run` starts (user guest, password guest, vhost /).",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": schemas,
        },
    })
}

fn operation_id(service: Service, action: &str, ty: &str) -> String {
    format!("{}.{action}.{ty}", service.as_str())
}

fn channel(info: &EventInfo, messages: Map<String, Value>) -> Value {
    json!({
        "address": info.ty,
        "title": info.ty,
        "description": info.summary,
        "servers": [{"$ref": format!("#/servers/{SERVER}")}],
        "messages": messages,
        "bindings": {
            "amqp": {
                "is": "routingKey",
                "exchange": {
                    "name": EXCHANGE,
                    "type": "topic",
                    "durable": true,
                    "autoDelete": false,
                    "vhost": "/",
                },
                "bindingVersion": AMQP_BINDING_VERSION,
            },
        },
    })
}

fn send_operation(info: &EventInfo, messages: &[Value]) -> Value {
    let internal = !info.consumers.is_empty();
    let mode = if info.batched {
        "in batch mode, many events per message, through its transactional outbox"
    } else {
        "one event per message, through its transactional outbox"
    };
    json!({
        "action": "send",
        "channel": {"$ref": format!("#/channels/{}", info.ty)},
        "summary": format!("{} publishes {}.", info.service, info.ty),
        "description": format!(
            "Published by the {} service {mode}, as persistent messages with publisher confirms, to the exchange {EXCHANGE} with routing key {}. {}",
            info.service, info.ty, if internal {
                format!("Published mandatory: a message no queue is bound for is kept in touchstone.{}.unroutable and counted, never dropped.", info.service)
            } else {
                "No service of the suite consumes it: a third party binds its own queue before it expects events.".to_string()
            },
        ),
        "messages": messages,
        "bindings": {
            "amqp": {
                "deliveryMode": 2,
                "mandatory": internal,
                "bindingVersion": AMQP_BINDING_VERSION,
            },
        },
    })
}

fn receive_operation(info: &EventInfo, consumer: Service, messages: &[Value]) -> Value {
    json!({
        "action": "receive",
        "channel": {"$ref": format!("#/channels/{}", info.ty)},
        "summary": format!("{consumer} consumes {}.", info.ty),
        "description": format!(
            "The {consumer} service's durable quorum queue touchstone.{consumer} is bound to {EXCHANGE} with routing key {} (declared up front by `touchstone bus setup`, so events published before the service first starts wait for it). It handles each message in one transaction together with its inbox row (dedup by event id), acks after commit, sends a message it can never apply to touchstone.{consumer}.dlq at once, and retries transient failures through quorum retry queues before dead-lettering them.",
            info.ty,
        ),
        "messages": messages,
        "bindings": {
            "amqp": {
                "ack": true,
                "bindingVersion": AMQP_BINDING_VERSION,
            },
        },
    })
}

fn headers() -> Value {
    json!({
        "type": "object",
        "properties": {
            "traceparent": {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "W3C trace context of the operation that caused the event.",
            },
        },
    })
}

fn single_message(info: &EventInfo, payload: Value) -> Value {
    let envelope = json!({
        "type": "object",
        "description": "CloudEvents 1.0, structured JSON mode.",
        "properties": envelope_properties(Some((info.ty, info.service)), payload),
        "required": ENVELOPE_REQUIRED,
    });
    json!({
        "name": info.ty,
        "title": info.ty,
        "summary": info.summary,
        "contentType": CLOUDEVENTS_JSON,
        "headers": headers(),
        "payload": envelope,
        "bindings": {
            "amqp": {
                "messageType": info.ty,
                "bindingVersion": AMQP_BINDING_VERSION,
            },
        },
    })
}

fn batch_message(info: &EventInfo) -> Value {
    json!({
        "name": format!("{}.batch", info.ty),
        "title": format!("{} (batch)", info.ty),
        "summary": format!("Many {} events in one message.", info.ty),
        "description": "CloudEvents batch mode: the body is a non-empty JSON array of structured-mode events, all of this type. Deduplicate each event by its own id.",
        "contentType": CLOUDEVENTS_BATCH_JSON,
        "headers": headers(),
        "payload": {
            "type": "array",
            "minItems": 1,
            "items": {"$ref": format!("#/components/messages/{}/payload", info.ty)},
        },
        "bindings": {
            "amqp": {
                "messageType": info.ty,
                "bindingVersion": AMQP_BINDING_VERSION,
            },
        },
    })
}

/// The payload schema of `info`, made valid inside the AsyncAPI document: its definitions
/// move to `components.schemas`, shared with the other payloads.
fn payload_schema(info: &EventInfo, schemas: &mut Map<String, Value>) -> Value {
    let mut schema = (info.schema)().to_value();
    let object = schema.as_object_mut().expect("payload schemas are objects");
    object.remove("$schema");
    if let Some(Value::Object(defs)) = object.remove("$defs") {
        for (name, mut def) in defs {
            rewrite_refs(&mut def);
            match schemas.get(&name) {
                Some(existing) if *existing != def => {
                    panic!("two different payload types both define the schema {name}; rename one")
                }
                Some(_) => {}
                None => {
                    schemas.insert(name, def);
                }
            }
        }
    }
    rewrite_refs(&mut schema);
    schema
}

fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                match item {
                    Value::String(target) if key == "$ref" => {
                        if let Some(name) = target.strip_prefix("#/$defs/") {
                            *target = format!("#/components/schemas/{name}");
                        }
                    }
                    other => rewrite_refs(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}
