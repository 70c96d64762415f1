//! Two instances behind the gateway: both take traffic, a SIGKILL loses no request, the
//! dead one is out of rotation within 3 s and back after a restart, and an instance
//! started later joins without a gateway restart.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::helpers::{Databases, Gateway, ServiceProcess, touchstone, unique_id, wait_for};

const ROUTE: &str = "/v1/leads";

#[tokio::test]
async fn an_instance_killed_mid_stream_costs_no_request_and_a_new_one_joins() {
    let ns = unique_id();
    let first = ServiceProcess::start("leads", &ns).await;
    let mut second = ServiceProcess::start("leads", &ns).await;
    let _dbs = Databases(vec![first.database()]);
    let gw = Gateway::start(&[("leads", vec![first.address(), second.address()])], &[]).await;
    assert!(
        gw.in_rotation("leads", &[first.address(), second.address()])
            .await,
        "both instances in rotation"
    );
    let key = gw.create_key("balance", &["leads:read"], Some("1000000/min"));
    // Only leads has instances here: once the first checks of the others have failed
    // (HAProxy starts a server as up), readiness is a problem naming them.
    let ready = gw.url("/health/ready");
    let unready = wait_for(Duration::from_secs(5), || {
        let ready = ready.clone();
        async move {
            let Ok(r) = reqwest::get(&ready).await else {
                return false;
            };
            let status = r.status();
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            status == 503
                && body["detail"] == "no healthy instance of: funnel touchpoints breakeven"
        }
    })
    .await;
    assert!(
        unready.is_some(),
        "readiness never named the services without instances"
    );

    // Both instances take traffic.
    let (a0, b0) = (first.served(ROUTE).await, second.served(ROUTE).await);
    for _ in 0..20 {
        assert_eq!(gw.get(&key, "/v1/leads?limit=1").await.status(), 200);
    }
    let (a1, b1) = (first.served(ROUTE).await, second.served(ROUTE).await);
    assert_eq!((a1 - a0) + (b1 - b0), 20);
    assert!(
        a1 > a0 && b1 > b0,
        "round robin: {} and {}",
        a1 - a0,
        b1 - b0
    );

    // A stream of GETs from 4 clients; one instance is SIGKILLed in the middle of it.
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (stop, ok, url, key) = (
            stop.clone(),
            ok.clone(),
            gw.url("/v1/leads?limit=1"),
            key.clone(),
        );
        clients.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                match client.get(&url).bearer_auth(&key).send().await {
                    Ok(r) if r.status() == 200 => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(r) => failures.push(format!(
                        "{}: {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    )),
                    Err(e) => failures.push(e.to_string()),
                }
            }
            failures
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let killed_at = Instant::now();
    second.kill();
    let out = wait_for(Duration::from_secs(5), || async {
        !gw.server_up("leads", &second.address())
    })
    .await;
    let out_after = killed_at.elapsed();
    assert!(
        out.is_some() && out_after <= Duration::from_secs(3),
        "out of rotation after {out_after:?}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut failures = Vec::new();
    for c in clients {
        failures.extend(c.await.unwrap());
    }
    assert!(
        failures.is_empty(),
        "{} failed requests: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(
        ok.load(Ordering::Relaxed) > 50,
        "the stream ran: {}",
        ok.load(Ordering::Relaxed)
    );

    // Back in rotation once it is healthy again.
    second.restart().await;
    assert!(
        gw.in_rotation("leads", &[second.address()]).await,
        "the restarted instance is back"
    );

    // An instance started now joins the running gateway.
    let third = ServiceProcess::start("leads", &ns).await;
    touchstone(
        &["gateway", "add-instance", "leads", &third.address()],
        &gw.state,
    );
    assert!(
        gw.in_rotation("leads", &[third.address()]).await,
        "the new instance passes its health checks"
    );
    let before = third.served(ROUTE).await;
    for _ in 0..12 {
        assert_eq!(gw.get(&key, "/v1/leads?limit=1").await.status(), 200);
    }
    assert!(
        third.served(ROUTE).await > before,
        "the new instance takes traffic"
    );
}
