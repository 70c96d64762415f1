//! The configuration as other deployments run it: DNS discovery (a Kubernetes headless
//! Service) passes `haproxy -c`, and a bad instance list is refused before HAProxy starts.

use std::process::Command;

use crate::helpers::{bin, repo, unique_id};

fn check(env: &[(&str, &str)]) -> std::process::Output {
    let state = std::env::temp_dir().join(format!("ts-gw-check-{}", unique_id()));
    let out = Command::new(bin("touchstone"))
        .current_dir(repo())
        .args(["gateway", "check", "--state"])
        .arg(&state)
        .envs(env.iter().copied())
        .output()
        .expect("touchstone gateway check runs");
    let _ = std::fs::remove_dir_all(&state);
    out
}

#[test]
fn dns_discovery_is_a_valid_configuration() {
    let out = check(&[
        (
            "TOUCHSTONE_GATEWAY_LEADS_DNS",
            "_http._tcp.leads.touchstone.svc.cluster.local",
        ),
        (
            "TOUCHSTONE_GATEWAY_FUNNEL_DNS",
            "_http._tcp.funnel.touchstone.svc.cluster.local",
        ),
        (
            "TOUCHSTONE_GATEWAY_TOUCHPOINTS_DNS",
            "touchpoints.touchstone.svc.cluster.local:8083",
        ),
        (
            "TOUCHSTONE_GATEWAY_BREAKEVEN_DNS",
            "_http._tcp.breakeven.touchstone.svc.cluster.local",
        ),
        ("TOUCHSTONE_GATEWAY_BREAKEVEN_DNS_SLOTS", "4"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(all.contains("Configuration file is valid"), "{all}");
}

#[test]
fn an_instance_list_that_would_break_the_configuration_is_refused() {
    let out = check(&[(
        "TOUCHSTONE_GATEWAY_LEADS_INSTANCES",
        "127.0.0.1:8081\n  server evil 10.0.0.1:80",
    )]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("TOUCHSTONE_GATEWAY_LEADS_INSTANCES"));
}
