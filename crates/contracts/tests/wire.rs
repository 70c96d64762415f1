//! Wire-format tests: every payload round-trips through a structured-mode CloudEvent, and bad bodies are rejected.

use chrono::{DateTime, NaiveDate, Utc};
use contracts::breakeven::{BreakevenReached, CampaignAtRisk, CampaignBreakevenReached};
use contracts::funnel::{
    DealCreated, DealLost, DealStageChanged, DealUpdated, DealWon, ProductLine, Stakeholder,
};
use contracts::leads::{
    AccountCreated, AccountUpdated, LeadCreated, LeadLifecycleChanged, LeadMerged, LeadQualified,
    LeadScored, LeadUpdated, MeddiccScores,
};
use contracts::touchpoints::{AttributionCredit, ConversionAttributed, TouchpointRecorded};
use contracts::{
    CLOUDEVENTS_BATCH_JSON, CLOUDEVENTS_JSON, Currency, DecodeError, EventPayload, Money, RawEvent,
    catalog, lookup, parse_batch, parse_message, parse_structured,
};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n)
}

/// Wraps `payload` in an event, sends it through the wire format and back, and checks the
/// envelope attributes, then that every pointer in `decimals` is a decimal string and every
/// pointer in `times` an RFC 3339 UTC string.
fn round_trip<T: EventPayload + PartialEq>(payload: T, decimals: &[&str], times: &[&str]) {
    let event = RawEvent::new(&payload, Some(TRACEPARENT.to_owned()));
    let bytes = event.to_json_bytes();

    let parsed = parse_structured(&bytes).unwrap_or_else(|e| panic!("{}: {e}", T::TYPE));
    assert_eq!(parsed, event);
    assert_eq!(parsed.decode::<T>().unwrap(), payload);

    let wire: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(wire["specversion"], "1.0");
    assert_eq!(wire["id"], event.id.to_string());
    assert_eq!(event.id.get_version_num(), 7);
    assert_eq!(wire["type"], T::TYPE);
    assert_eq!(
        wire["source"],
        format!("/touchstone/{}", T::SERVICE.as_str())
    );
    assert_eq!(wire["subject"], payload.subject());
    assert_eq!(wire["datacontenttype"], "application/json");
    assert_eq!(wire["traceparent"], TRACEPARENT);
    assert_utc_time(&wire["time"]);

    for pointer in decimals {
        let value = wire["data"]
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{}: no {pointer}", T::TYPE));
        let text = value
            .as_str()
            .unwrap_or_else(|| panic!("{}: {pointer} is {value}, not a string", T::TYPE));
        assert!(text.parse::<Decimal>().is_ok(), "{pointer}: {text}");
    }
    for pointer in times {
        assert_utc_time(wire["data"].pointer(pointer).unwrap());
    }
}

fn assert_utc_time(value: &Value) {
    let text = value.as_str().expect("times are strings");
    assert!(
        text.ends_with('Z') || text.ends_with("+00:00"),
        "{text} is not UTC"
    );
    DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}"));
}

fn lead_created() -> LeadCreated {
    LeadCreated {
        lead_id: id(1),
        email: "ada@example.com".into(),
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        title: Some("VP Engineering".into()),
        phone: Some("+44 20 7946 0000".into()),
        company: Some("Analytical Engines Ltd".into()),
        source: "affiliate".into(),
        lifecycle_stage: "lead".into(),
        campaign_id: Some("spring-launch-2025".into()),
        anonymous_id: Some("anon-7f3a".into()),
        affiliate_id: Some("aff-42".into()),
        utm_source: Some("partner".into()),
        utm_medium: Some("referral".into()),
        utm_campaign: Some("spring".into()),
        utm_term: None,
        utm_content: None,
        account_id: Some(id(100)),
        owner: Some("sam@touchstone.test".into()),
        consent: true,
        properties: json!({"plan": "enterprise", "seats": 40}),
        created_at: at("2025-03-01T09:30:00.123456Z"),
    }
}

#[test]
fn lead_created_round_trips() {
    round_trip(lead_created(), &[], &["/created_at"]);
}

#[test]
fn lead_created_leaves_out_absent_optional_fields() {
    let minimal = LeadCreated {
        first_name: None,
        last_name: None,
        title: None,
        phone: None,
        company: None,
        campaign_id: None,
        anonymous_id: None,
        affiliate_id: None,
        utm_source: None,
        utm_medium: None,
        utm_campaign: None,
        account_id: None,
        owner: None,
        consent: false,
        properties: Value::Null,
        source: "direct".into(),
        ..lead_created()
    };
    let data = serde_json::to_value(&minimal).unwrap();
    let keys: Vec<&str> = data
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "consent",
            "created_at",
            "email",
            "lead_id",
            "lifecycle_stage",
            "source"
        ]
    );
    round_trip(minimal, &[], &["/created_at"]);
}

#[test]
fn lead_updated_round_trips() {
    let created = lead_created();
    round_trip(
        LeadUpdated {
            lead_id: created.lead_id,
            version: 3,
            changed: vec!["title".into(), "owner".into()],
            email: created.email,
            first_name: created.first_name,
            last_name: created.last_name,
            title: Some("CTO".into()),
            phone: created.phone,
            company: created.company,
            source: created.source,
            campaign_id: created.campaign_id,
            anonymous_id: created.anonymous_id,
            affiliate_id: created.affiliate_id,
            utm_source: created.utm_source,
            utm_medium: created.utm_medium,
            utm_campaign: created.utm_campaign,
            utm_term: created.utm_term,
            utm_content: created.utm_content,
            account_id: created.account_id,
            owner: Some("kim@touchstone.test".into()),
            consent: true,
            properties: created.properties,
            updated_at: at("2025-03-04T11:00:00Z"),
        },
        &[],
        &["/updated_at"],
    );
}

#[test]
fn lead_scored_round_trips() {
    round_trip(
        LeadScored {
            lead_id: id(1),
            fit_score: 45.0,
            engagement_score: 31.748_021_039_363_99,
            grade: "A2".into(),
            previous_grade: Some("B2".into()),
            crossed_thresholds: vec!["mql".into()],
            model_version: 4,
            scored_at: at("2025-03-05T08:00:00Z"),
        },
        &[],
        &["/scored_at"],
    );
}

#[test]
fn lead_lifecycle_changed_round_trips() {
    round_trip(
        LeadLifecycleChanged {
            lead_id: id(1),
            from_stage: "opportunity".into(),
            to_stage: "lead".into(),
            cause: "deal_lost".into(),
            reason: Some("budget frozen until Q3".into()),
            deal_id: Some(id(200)),
            changed_at: at("2025-04-10T15:45:00Z"),
        },
        &[],
        &["/changed_at"],
    );
}

#[test]
fn lead_qualified_round_trips() {
    round_trip(
        LeadQualified {
            lead_id: id(1),
            framework: "meddpicc".into(),
            scores: MeddiccScores {
                metrics: 3,
                economic_buyer: 2,
                decision_criteria: 2,
                decision_process: 2,
                identify_pain: 3,
                champion: 2,
                competition: 1,
                paper_process: Some(1),
            },
            total: 16,
            max_total: 24,
            account_id: Some(id(100)),
            qualified_at: at("2025-03-20T10:00:00Z"),
        },
        &[],
        &["/qualified_at"],
    );
}

#[test]
fn lead_merged_round_trips() {
    round_trip(
        LeadMerged {
            lead_id: id(1),
            merged_lead_id: id(2),
            merged_email: "ada.lovelace@example.com".into(),
            merged_anonymous_id: Some("anon-11b2".into()),
            merged_at: at("2025-03-06T12:00:00Z"),
        },
        &[],
        &["/merged_at"],
    );
}

fn account_created() -> AccountCreated {
    AccountCreated {
        account_id: id(100),
        name: "Analytical Engines Ltd".into(),
        domains: vec!["example.com".into(), "example.co.uk".into()],
        industry: Some("manufacturing".into()),
        employees: Some(1200),
        annual_revenue: Some(Money::new(dec("250000000.00"), eur())),
        region: Some("EMEA".into()),
        abm_tier: "one_to_few".into(),
        target: true,
        owner: Some("sam@touchstone.test".into()),
        created_at: at("2025-01-15T08:00:00Z"),
    }
}

#[test]
fn account_created_round_trips() {
    round_trip(
        account_created(),
        &["/annual_revenue/amount"],
        &["/created_at"],
    );
}

#[test]
fn account_updated_round_trips() {
    let created = account_created();
    round_trip(
        AccountUpdated {
            account_id: created.account_id,
            version: 2,
            changed: vec!["abm_tier".into()],
            name: created.name,
            domains: created.domains,
            industry: created.industry,
            employees: created.employees,
            annual_revenue: created.annual_revenue,
            region: created.region,
            abm_tier: "one_to_one".into(),
            target: true,
            owner: created.owner,
            updated_at: at("2025-02-01T08:00:00Z"),
        },
        &["/annual_revenue/amount"],
        &["/updated_at"],
    );
}

#[test]
fn deal_created_round_trips() {
    round_trip(
        DealCreated {
            deal_id: id(200),
            funnel_id: id(300),
            funnel_version: 2,
            external_id: Some("crm-88812".into()),
            lead_id: Some(id(1)),
            account_id: Some(id(100)),
            campaign_id: Some("spring-launch-2025".into()),
            stage: "opportunity".into(),
            amount: Some(dec("48000.00")),
            currency: Some(eur()),
            expected_close: NaiveDate::from_ymd_opt(2025, 6, 30),
            owner: Some("kim@touchstone.test".into()),
            methodology: "meddicc".into(),
            stakeholders: vec![
                Stakeholder {
                    person: "Grace Hopper".into(),
                    role: "champion".into(),
                },
                Stakeholder {
                    person: "Charles Babbage".into(),
                    role: "economic_buyer".into(),
                },
            ],
            created_at: at("2025-03-21T09:00:00Z"),
        },
        &["/amount"],
        &["/created_at"],
    );
}

#[test]
fn deal_updated_round_trips() {
    round_trip(
        DealUpdated {
            deal_id: id(200),
            funnel_id: id(300),
            version: 4,
            changed: vec!["amount".into(), "currency".into(), "methodology".into()],
            funnel_version: 2,
            external_id: Some("crm-88812".into()),
            lead_id: Some(id(1)),
            account_id: None,
            campaign_id: Some("spring-launch-2025".into()),
            stage: "opportunity".into(),
            status: "open".into(),
            amount: Some(dec("52000.00")),
            currency: Some(eur()),
            expected_close: NaiveDate::from_ymd_opt(2025, 7, 31),
            owner: Some("kim@touchstone.test".into()),
            methodology: "challenger".into(),
            stakeholders: vec![Stakeholder {
                person: "Grace Hopper".into(),
                role: "champion".into(),
            }],
            updated_at: at("2025-03-28T10:00:00Z"),
        },
        &["/amount"],
        &["/updated_at"],
    );
}

#[test]
fn deal_stage_changed_round_trips() {
    round_trip(
        DealStageChanged {
            deal_id: id(200),
            funnel_id: id(300),
            lead_id: Some(id(1)),
            from_stage: "opportunity".into(),
            to_stage: "sql".into(),
            reason: Some("champion left".into()),
            sequence: 4,
            changed_at: at("2025-03-25T00:00:00+00:00"),
        },
        &[],
        &["/changed_at"],
    );
}

#[test]
fn deal_won_round_trips() {
    round_trip(
        DealWon {
            deal_id: id(200),
            funnel_id: id(300),
            lead_id: Some(id(1)),
            account_id: Some(id(100)),
            campaign_id: Some("spring-launch-2025".into()),
            amount: dec("48250.50"),
            currency: eur(),
            won_at: at("2025-05-30T16:20:00Z"),
            reason: Some("best ROI case".into()),
            products: vec![
                ProductLine {
                    product_id: "analytics-pro".into(),
                    units: 40,
                    amount: Some(dec("40000.00")),
                },
                ProductLine {
                    product_id: "onboarding".into(),
                    units: 1,
                    amount: Some(dec("8250.50")),
                },
            ],
        },
        &["/amount", "/products/0/amount", "/products/1/amount"],
        &["/won_at"],
    );
}

/// A won deal of `amount` euros with only its required fields.
fn bare_deal_won(amount: Decimal) -> DealWon {
    DealWon {
        deal_id: id(200),
        funnel_id: id(300),
        lead_id: None,
        account_id: None,
        campaign_id: None,
        amount,
        currency: eur(),
        won_at: at("2025-05-30T16:20:00Z"),
        reason: None,
        products: vec![],
    }
}

#[test]
fn deal_won_amount_is_a_string_beside_its_currency() {
    let won = bare_deal_won(dec("120.50"));
    let data = serde_json::to_value(&won).unwrap();
    assert_eq!(data["amount"], json!("120.50"));
    assert_eq!(data["currency"], json!("EUR"));
    assert_eq!(data["won_at"], json!("2025-05-30T16:20:00Z"));
}

#[test]
fn deal_lost_round_trips() {
    round_trip(
        DealLost {
            deal_id: id(201),
            funnel_id: id(300),
            lead_id: Some(id(3)),
            account_id: None,
            campaign_id: Some("webinar-q1".into()),
            from_stage: "evaluation".into(),
            reason: "chose a competitor".into(),
            amount: Some(dec("12000")),
            currency: Some(eur()),
            lost_at: at("2025-04-02T13:00:00Z"),
        },
        &["/amount"],
        &["/lost_at"],
    );
}

fn touchpoint(n: u128) -> TouchpointRecorded {
    TouchpointRecorded {
        touchpoint_id: id(1000 + n),
        occurred_at: at("2025-02-20T18:03:11.250Z"),
        received_at: at("2025-02-20T18:03:12Z"),
        channel: "display".into(),
        touch_type: "viewable_impression".into(),
        campaign_id: Some("spring-launch-2025".into()),
        creative_id: Some("banner-300x250-b".into()),
        content_id: None,
        utm_source: Some("dsp".into()),
        utm_medium: Some("display".into()),
        utm_campaign: Some("spring".into()),
        utm_term: None,
        utm_content: Some("variant-b".into()),
        anonymous_id: Some("anon-7f3a".into()),
        lead_id: None,
        email: None,
        account_id: None,
        affiliate_id: None,
        cost: Some(dec("0.0042")),
        currency: Some(eur()),
        properties: json!({"viewability_ms": 1500, "placement": "news-top"}),
    }
}

#[test]
fn touchpoint_recorded_round_trips() {
    round_trip(touchpoint(1), &["/cost"], &["/occurred_at", "/received_at"]);
}

#[test]
fn touchpoint_type_is_called_type_on_the_wire() {
    let data = serde_json::to_value(touchpoint(1)).unwrap();
    assert_eq!(data["type"], "viewable_impression");
    assert!(data.get("touch_type").is_none());
}

#[test]
fn conversion_attributed_round_trips() {
    round_trip(
        ConversionAttributed {
            conversion_id: id(400),
            deal_id: id(200),
            lead_id: id(1),
            model: "markov".into(),
            order: Some(1),
            value: dec("48250.50"),
            currency: eur(),
            converted_at: at("2025-05-30T16:20:00Z"),
            touch_count: 7,
            credits: vec![
                AttributionCredit {
                    channel: "display".into(),
                    campaign_id: Some("spring-launch-2025".into()),
                    conversions: dec("0.375"),
                    value: dec("18093.94"),
                },
                AttributionCredit {
                    channel: "email".into(),
                    campaign_id: None,
                    conversions: dec("0.625"),
                    value: dec("30156.56"),
                },
            ],
        },
        &[
            "/value",
            "/credits/0/conversions",
            "/credits/0/value",
            "/credits/1/value",
        ],
        &["/converted_at"],
    );
}

#[test]
fn breakeven_reached_round_trips() {
    round_trip(
        BreakevenReached {
            period: "2025-05".into(),
            period_start: NaiveDate::from_ymd_opt(2025, 5, 1).unwrap(),
            period_end: NaiveDate::from_ymd_opt(2025, 5, 31).unwrap(),
            fixed_costs: dec("85000.00"),
            contribution: dec("85310.25"),
            revenue: dec("212000.00"),
            currency: eur(),
            reached_at: at("2025-05-27T10:12:00Z"),
        },
        &["/fixed_costs", "/contribution", "/revenue"],
        &["/reached_at"],
    );
}

#[test]
fn campaign_breakeven_reached_round_trips() {
    round_trip(
        CampaignBreakevenReached {
            campaign_id: "spring-launch-2025".into(),
            spend: dec("9800.00"),
            attributed_revenue: dec("24600.00"),
            contribution: dec("9840.00"),
            currency: eur(),
            roas: dec("2.5102"),
            breakeven_roas: dec("2.5"),
            reached_at: at("2025-05-30T16:21:00Z"),
        },
        &[
            "/spend",
            "/attributed_revenue",
            "/contribution",
            "/roas",
            "/breakeven_roas",
        ],
        &["/reached_at"],
    );
}

#[test]
fn campaign_at_risk_round_trips() {
    round_trip(
        CampaignAtRisk {
            campaign_id: "webinar-q1".into(),
            budget: dec("20000.00"),
            spend: dec("10400.00"),
            spend_share: dec("0.52"),
            risk_threshold: dec("0.5"),
            attributed_revenue: dec("12000.00"),
            currency: eur(),
            roas: dec("1.1538"),
            breakeven_roas: dec("2.5"),
            projected_breakeven_date: NaiveDate::from_ymd_opt(2025, 9, 14),
            detected_at: at("2025-04-15T07:00:00Z"),
        },
        &[
            "/budget",
            "/spend",
            "/spend_share",
            "/risk_threshold",
            "/attributed_revenue",
            "/roas",
            "/breakeven_roas",
        ],
        &["/detected_at"],
    );
}

#[test]
fn decode_refuses_another_type() {
    let event = RawEvent::new(&touchpoint(1), None);
    match event.decode::<DealWon>() {
        Err(DecodeError::WrongType { expected, actual }) => {
            assert_eq!(expected, DealWon::TYPE);
            assert_eq!(actual, TouchpointRecorded::TYPE);
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
}

#[test]
fn traceparent_is_left_out_when_absent() {
    let event = RawEvent::new(&touchpoint(1), None);
    let wire: Value = serde_json::from_slice(&event.to_json_bytes()).unwrap();
    assert!(wire.get("traceparent").is_none());
    assert_eq!(parse_structured(&event.to_json_bytes()).unwrap(), event);
}

fn valid_event() -> Value {
    serde_json::from_slice(&RawEvent::new(&touchpoint(1), None).to_json_bytes()).unwrap()
}

fn reject(body: &[u8]) -> DecodeError {
    let err = parse_structured(body).expect_err("accepted a bad event");
    assert!(!err.to_string().is_empty());
    err
}

#[test]
fn parse_structured_rejects_garbage_bytes() {
    let err = reject(b"\x00\xff\x13 not json at all");
    assert!(matches!(err, DecodeError::Json(_)), "{err:?}");
    assert!(err.to_string().contains("not valid JSON"), "{err}");
}

#[test]
fn parse_structured_rejects_json_that_is_not_a_cloudevent() {
    for body in [
        json!({"hello": "world"}),
        json!([1, 2, 3]),
        json!("specversion"),
        {
            let mut event = valid_event();
            event.as_object_mut().unwrap().remove("id");
            event
        },
        {
            let mut event = valid_event();
            event["id"] = json!("not-a-uuid");
            event
        },
        {
            let mut event = valid_event();
            event["source"] = json!("");
            event
        },
        {
            let mut event = valid_event();
            event["time"] = json!("yesterday");
            event
        },
        {
            let mut event = valid_event();
            event.as_object_mut().unwrap().remove("data");
            event
        },
    ] {
        let err = reject(body.to_string().as_bytes());
        assert!(
            matches!(err, DecodeError::NotACloudEvent(_)),
            "{body}: {err:?}"
        );
    }
}

#[test]
fn parse_structured_rejects_other_specversions() {
    let mut event = valid_event();
    event["specversion"] = json!("0.3");
    let err = reject(event.to_string().as_bytes());
    assert!(
        matches!(err, DecodeError::UnsupportedSpecVersion(ref v) if v == "0.3"),
        "{err:?}"
    );
    assert!(err.to_string().contains("0.3"), "{err}");
}

#[test]
fn parse_structured_rejects_unknown_types() {
    let mut event = valid_event();
    event["type"] = json!("touchstone.touchpoints.touchpoint.recorded.v9");
    let err = reject(event.to_string().as_bytes());
    assert!(
        matches!(err, DecodeError::UnknownType(ref t) if t.ends_with(".v9")),
        "{err:?}"
    );
}

#[test]
fn parse_structured_rejects_data_missing_a_required_field() {
    let mut event = valid_event();
    event["data"].as_object_mut().unwrap().remove("channel");
    let err = reject(event.to_string().as_bytes());
    assert!(matches!(err, DecodeError::InvalidData { .. }), "{err:?}");
    assert!(err.to_string().contains("channel"), "{err}");
}

#[test]
fn parse_structured_rejects_an_invalid_currency() {
    let mut event = valid_event();
    event["data"]["currency"] = json!("eur");
    let err = reject(event.to_string().as_bytes());
    assert!(matches!(err, DecodeError::InvalidData { .. }), "{err:?}");
}

#[test]
fn consumers_tolerate_fields_they_do_not_know() {
    let mut event = valid_event();
    event["data"]["added_in_a_later_release"] = json!({"x": 1});
    event["someextension"] = json!("value");
    let parsed = parse_structured(event.to_string().as_bytes()).unwrap();
    assert_eq!(
        parsed.decode::<TouchpointRecorded>().unwrap(),
        touchpoint(1)
    );
}

#[test]
fn parse_structured_accepts_offsets_and_a_missing_datacontenttype() {
    let mut event = valid_event();
    event["time"] = json!("2025-02-20T20:03:12+02:00");
    event.as_object_mut().unwrap().remove("datacontenttype");
    let parsed = parse_structured(event.to_string().as_bytes()).unwrap();
    assert_eq!(parsed.time, at("2025-02-20T18:03:12Z"));
    assert_eq!(parsed.datacontenttype, "application/json");
}

fn batch_of(n: u128) -> (Vec<RawEvent>, Vec<u8>) {
    let events: Vec<RawEvent> = (0..n)
        .map(|i| RawEvent::new(&touchpoint(i), None))
        .collect();
    let body = serde_json::to_vec(&events).unwrap();
    (events, body)
}

#[test]
fn parse_batch_parses_every_event() {
    let (events, body) = batch_of(3);
    assert_eq!(parse_batch(&body).unwrap(), events);
}

#[test]
fn parse_batch_rejects_an_empty_array() {
    let err = parse_batch(b"[]").unwrap_err();
    assert!(matches!(err, DecodeError::EmptyBatch), "{err:?}");
}

#[test]
fn parse_batch_rejects_a_batch_with_one_bad_event_and_says_which() {
    let (events, _) = batch_of(3);
    let mut body: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_slice(&e.to_json_bytes()).unwrap())
        .collect();
    body[1]["specversion"] = json!("0.3");
    let err = parse_batch(&serde_json::to_vec(&body).unwrap()).unwrap_err();
    assert!(
        matches!(err, DecodeError::InBatch { index: 1, ref source } if matches!(**source, DecodeError::UnsupportedSpecVersion(_))),
        "{err:?}"
    );
    assert!(err.to_string().contains("event 1"), "{err}");
}

#[test]
fn parse_batch_rejects_a_single_object() {
    let body = RawEvent::new(&touchpoint(1), None).to_json_bytes();
    assert!(parse_batch(&body).is_err());
}

#[test]
fn parse_message_dispatches_on_content_type() {
    let (events, batch) = batch_of(3);
    assert_eq!(
        parse_message(Some(CLOUDEVENTS_BATCH_JSON), &batch).unwrap(),
        events
    );
    assert_eq!(
        parse_message(
            Some("application/cloudevents-batch+json; charset=utf-8"),
            &batch
        )
        .unwrap(),
        events
    );

    let single = events[0].to_json_bytes();
    for content_type in [
        None,
        Some(CLOUDEVENTS_JSON),
        Some("application/json"),
        Some("text/plain"),
    ] {
        assert_eq!(
            parse_message(content_type, &single).unwrap(),
            vec![events[0].clone()],
            "{content_type:?}"
        );
    }
    assert!(parse_message(Some(CLOUDEVENTS_JSON), &batch).is_err());
}

#[test]
fn currency_parse_rejects_malformed_codes() {
    for bad in ["eur", "EURO", ""] {
        assert!(Currency::parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(Currency::parse("JPY").unwrap().as_str(), "JPY");
}

#[test]
fn every_payload_type_is_in_the_catalog_exactly_once() {
    let types = [
        LeadCreated::TYPE,
        LeadUpdated::TYPE,
        LeadScored::TYPE,
        LeadLifecycleChanged::TYPE,
        LeadQualified::TYPE,
        LeadMerged::TYPE,
        AccountCreated::TYPE,
        AccountUpdated::TYPE,
        DealCreated::TYPE,
        DealUpdated::TYPE,
        DealStageChanged::TYPE,
        DealWon::TYPE,
        DealLost::TYPE,
        TouchpointRecorded::TYPE,
        ConversionAttributed::TYPE,
        BreakevenReached::TYPE,
        CampaignBreakevenReached::TYPE,
        CampaignAtRisk::TYPE,
    ];
    assert_eq!(catalog().len(), types.len());
    for ty in types {
        let count = catalog().iter().filter(|info| info.ty == ty).count();
        assert_eq!(count, 1, "{ty} is in the catalog {count} times");
        assert_eq!(lookup(ty).unwrap().ty, ty);
    }
    assert!(lookup("touchstone.leads.lead.created.v2").is_none());
}

#[test]
fn type_strings_follow_the_naming_rule() {
    // The rule is `^touchstone\.(leads|funnel|touchpoints|breakeven)\.[a-z_]+\.[a-z_]+\.v[0-9]+$`,
    // checked by hand to keep a regex engine out of the dependencies.
    for info in catalog() {
        let parts: Vec<&str> = info.ty.split('.').collect();
        assert_eq!(parts.len(), 5, "{}", info.ty);
        assert_eq!(parts[0], "touchstone", "{}", info.ty);
        assert!(
            ["leads", "funnel", "touchpoints", "breakeven"].contains(&parts[1]),
            "{}",
            info.ty
        );
        assert_eq!(parts[1], info.service.as_str(), "{}", info.ty);
        for word in &parts[2..4] {
            assert!(
                !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{}",
                info.ty
            );
        }
        let version = parts[4].strip_prefix('v').expect("version starts with v");
        assert!(
            !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()),
            "{}",
            info.ty
        );
    }
}

#[test]
fn only_touchpoint_recorded_is_batched_and_nobody_consumes_their_own_events() {
    for info in catalog() {
        assert_eq!(
            info.batched,
            info.ty == TouchpointRecorded::TYPE,
            "{}",
            info.ty
        );
        assert!(!info.consumers.contains(&info.service), "{}", info.ty);
    }
}

prop_compose! {
    fn any_decimal()(lo: u32, mid: u32, hi: u32, negative: bool, scale in 0u32..=28) -> Decimal {
        Decimal::from_parts(lo, mid, hi, negative, scale)
    }
}

proptest! {
    #[test]
    fn any_decimal_round_trips_exactly_through_the_wire(amount in any_decimal()) {
        let won = bare_deal_won(amount);
        let bytes = RawEvent::new(&won, None).to_json_bytes();
        let wire: Value = serde_json::from_slice(&bytes).unwrap();
        prop_assert_eq!(&wire["data"]["amount"], &json!(amount.to_string()));
        let back = parse_structured(&bytes).unwrap().decode::<DealWon>().unwrap();
        prop_assert_eq!(back.amount, amount);
        prop_assert_eq!(back.amount.scale(), amount.scale());
        prop_assert_eq!(back.amount.to_string(), amount.to_string());
    }
}
