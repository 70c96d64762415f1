//! `make run`'s supervisor (deploy/scripts/supervise.sh) around a real service binary: a
//! service killed with SIGKILL is started again within seconds, the restart is logged, and
//! SIGTERM stops the supervisor and the service with it.

use std::io::BufRead;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::helpers::*;

/// The supervisor's one child: the service process.
fn service_pid(supervisor: u32) -> Option<u32> {
    let out = Command::new("pgrep")
        .args(["-P", &supervisor.to_string()])
        .output()
        .expect("pgrep runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
}

fn alive(pid: u32) -> bool {
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success())
}

/// The next line that contains `needle`, within `timeout`.
fn line_with(lines: &mpsc::Receiver<String>, needle: &str, timeout: Duration) -> Option<String> {
    let deadline = Instant::now() + timeout;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return Some(line),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_service_is_restarted_within_seconds_and_sigterm_stops_both() {
    let ns = unique_id();
    let mut leads = ServiceProcess::prepare("leads", &ns, free_port());
    let _dbs = Databases(vec![leads.database()]);
    let out = leads.start_supervised().await;
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let supervisor = leads.pid();
    let first = service_pid(supervisor).expect("the service runs under the supervisor");

    Command::new("kill")
        .args(["-KILL", &first.to_string()])
        .status()
        .expect("kill runs");
    let killed = Instant::now();
    let exit = line_with(&lines, "[supervise] leads exited", Duration::from_secs(5))
        .expect("the exit is logged");
    assert!(exit.contains("status 137"), "{exit}");
    line_with(
        &lines,
        "[supervise] leads restarted",
        Duration::from_secs(5),
    )
    .expect("the restart is logged");
    assert!(
        killed.elapsed() < Duration::from_secs(5),
        "restarted after {:?}",
        killed.elapsed()
    );
    let url = format!("http://{}/health/ready", leads.address());
    wait_for(Duration::from_secs(60), || answers_ok(&url))
        .await
        .expect("the new process becomes ready");
    let second = service_pid(supervisor).expect("a new service process");
    assert_ne!(first, second);

    // SIGTERM to the supervisor drains the service and ends both, without a restart.
    assert_eq!(leads.terminate(), Some(0));
    assert!(!alive(second), "the service outlived its supervisor");
    assert!(line_with(&lines, "restarted", Duration::from_millis(500)).is_none());
}
