//! Lead events: `lead.created` opens a deal in the B2B funnel; lifecycle and qualification
//! events advance it. Each applies once, and the outcome does not depend on arrival order.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use contracts::RawEvent;
use contracts::leads::{LeadCreated, LeadLifecycleChanged, LeadQualified, MeddiccScores};
use uuid::Uuid;

use crate::helpers::*;

fn created(lead: Uuid, at: DateTime<Utc>) -> RawEvent {
    RawEvent::new(
        &LeadCreated {
            lead_id: lead,
            email: format!("{lead}@example.com"),
            first_name: None,
            last_name: None,
            title: None,
            phone: None,
            company: None,
            source: "inbound".into(),
            lifecycle_stage: "lead".into(),
            campaign_id: Some("spring".into()),
            anonymous_id: None,
            affiliate_id: None,
            utm_source: None,
            utm_medium: Some("paid_social".into()),
            utm_campaign: None,
            utm_term: None,
            utm_content: None,
            account_id: None,
            owner: Some("ann".into()),
            consent: true,
            properties: serde_json::json!({"segment": "enterprise"}),
            created_at: at,
        },
        None,
    )
}

fn moved(lead: Uuid, from: &str, to: &str, at: DateTime<Utc>) -> RawEvent {
    RawEvent::new(
        &LeadLifecycleChanged {
            lead_id: lead,
            from_stage: from.into(),
            to_stage: to.into(),
            cause: "scoring".into(),
            reason: None,
            deal_id: None,
            changed_at: at,
        },
        None,
    )
}

fn qualified(lead: Uuid, at: DateTime<Utc>) -> RawEvent {
    RawEvent::new(
        &LeadQualified {
            lead_id: lead,
            framework: "meddicc".into(),
            scores: MeddiccScores {
                metrics: 3,
                economic_buyer: 3,
                decision_criteria: 3,
                decision_process: 3,
                identify_pain: 3,
                champion: 3,
                competition: 3,
                paper_process: None,
            },
            total: 21,
            max_total: 21,
            account_id: None,
            qualified_at: at,
        },
        None,
    )
}

async fn log_of(app: &TestApp, lead: Uuid) -> Vec<(String, String)> {
    let deals = app.get_json(&format!("/v1/deals?lead_id={lead}")).await;
    let items = deals["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{deals}");
    let id = items[0]["id"].as_str().unwrap();
    let log = app.log(id).await;
    let mut moves: Vec<(String, String)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["at"].as_str().unwrap().to_string(),
                t["to_stage"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    moves.sort();
    moves
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lead_events_open_and_advance_deals_once_in_any_order() {
    let app = spawn_app().await;
    let t0 = (Utc::now() - Duration::days(10)).trunc_subsecs(0);
    let (in_order, shuffled) = (Uuid::now_v7(), Uuid::now_v7());
    let events = |lead| {
        vec![
            created(lead, t0),
            moved(lead, "lead", "mql", t0 + Duration::days(2)),
            qualified(lead, t0 + Duration::days(4)),
            moved(lead, "sql", "opportunity", t0 + Duration::days(6)),
        ]
    };
    let a = events(in_order);
    for e in &a {
        app.service.publish(e).await;
        // Delivered twice: applied once.
        app.service.publish(e).await;
    }
    // The other lead's events arrive backwards, lifecycle before the lead itself.
    let b = events(shuffled);
    for e in b.iter().rev() {
        app.service.publish(e).await;
    }
    app.service
        .wait_count("SELECT count(*) AS n FROM inbox", 8)
        .await;
    app.service
        .wait_count("SELECT count(*) AS n FROM transitions", 8)
        .await;
    let expected: Vec<(String, String)> = [(0, "lead"), (2, "mql"), (4, "sql"), (6, "opportunity")]
        .iter()
        .map(|(d, s)| {
            (
                (t0 + Duration::days(*d)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                s.to_string(),
            )
        })
        .collect();
    assert_eq!(log_of(&app, in_order).await, expected);
    assert_eq!(log_of(&app, shuffled).await, expected);
    assert_eq!(app.count("SELECT count(*) AS n FROM deals").await, 2);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM pending_lead_moves")
            .await,
        0
    );
    // Breakdown attributes came from the lead.
    let deal = &app.get_json(&format!("/v1/deals?lead_id={in_order}")).await["items"][0];
    assert_eq!(deal["attributes"]["channel"], "paid_social");
    assert_eq!(deal["attributes"]["segment"], "enterprise");
    // Moves the deal already made, or backwards, change nothing.
    app.service
        .publish(&moved(
            in_order,
            "opportunity",
            "mql",
            t0 + Duration::days(7),
        ))
        .await;
    app.service
        .wait_count("SELECT count(*) AS n FROM inbox", 9)
        .await;
    assert_eq!(log_of(&app, in_order).await, expected);
}
