//! The API contract at the front door: no two services claim one path, the checked-in
//! aggregated document and maps are what the services' documents give today, and
//! schemathesis finds no server error and no response that breaks its schema.

use std::process::Command;

use gateway::openapi::{ServiceDoc, shared_paths};

use crate::helpers::{Suite, bin, bin_dir, repo};

fn service_docs() -> Vec<ServiceDoc> {
    gateway::SERVICES
        .iter()
        .map(|s| {
            let out = Command::new(bin(&format!("touchstone-{s}")))
                .arg("openapi")
                .output()
                .expect("the service prints its document");
            assert!(out.status.success());
            ServiceDoc {
                service: s.to_string(),
                doc: serde_json::from_slice(&out.stdout).expect("JSON"),
            }
        })
        .collect()
}

#[test]
fn no_two_services_share_a_path() {
    let docs = service_docs();
    assert!(
        docs.iter()
            .all(|d| d.doc["paths"].as_object().is_some_and(|p| p.len() > 3))
    );
    assert_eq!(shared_paths(&docs), vec![]);
}

#[test]
fn the_checked_in_document_and_maps_are_current() {
    let out = Command::new(bin("touchstone"))
        .current_dir(repo())
        .args(["gateway", "openapi", "--check", "--bin-dir"])
        .arg(bin_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `deploy/test/schemathesis.sh` over the gateway with a full-scope key (the script
/// makes its venv, `target/venv`, from the pinned requirements when missing).
#[tokio::test]
async fn schemathesis_through_the_gateway_finds_no_server_error_or_schema_violation() {
    let suite = Suite::start().await;
    let gw = &suite.gw;
    let key = gw.create_key("schemathesis", &["*"], Some("1000000/min"));
    let status = tokio::task::spawn_blocking({
        let url = gw.url("");
        move || {
            Command::new("bash")
                .current_dir(repo())
                .arg("deploy/test/schemathesis.sh")
                .arg(url)
                .env("SCHEMATHESIS_AUTH", format!("Authorization: Bearer {key}"))
                // Bounded for `make test`'s time; the script's default is 100.
                .env("SCHEMATHESIS_EXAMPLES", "50")
                .status()
                .expect("schemathesis runs")
        }
    })
    .await
    .unwrap();
    assert!(
        status.success(),
        "schemathesis found failures (see its report above)"
    );
}

/// Runs `deploy/test/generated_client.sh`: openapi-python-client generates a client from each
/// service's document and from the aggregated one (a part it cannot read fails the run), and
/// the clients make one write and one read per service through the gateway.
#[tokio::test]
async fn python_clients_generated_from_the_documents_read_and_write_every_service() {
    let suite = Suite::start().await;
    let gw = &suite.gw;
    let key = gw.create_key("generated-client", &["*"], Some("1000000/min"));
    let out = tokio::task::spawn_blocking({
        let url = gw.url("");
        move || {
            Command::new("bash")
                .current_dir(repo())
                .arg("deploy/test/generated_client.sh")
                .arg(url)
                .arg(bin_dir())
                .env("CLIENT_KEY", key)
                .output()
                .expect("the generated-client script runs")
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // Every call was made and answered as documented (the script prints one line each).
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok ")).count(),
        9,
        "{stdout}"
    );
}
