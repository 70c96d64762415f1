//! `touchstone-chaos` (`make chaos`): runs a seeded fault schedule against the suite as
//! `make run REPLICAS=2` starts it, under a stated load, then checks cross-service
//! invariants through the public APIs and writes the figures to `docs/reliability.md`.
//!
//! The load goes to the services' own instances (ports 8081… and 8181…), as a client with
//! failover does: a request that fails for want of an instance is sent again, with the same
//! `Idempotency-Key` (and the same touchpoint ids), to the next one. So every effect the
//! load asked for must be there exactly once in the end, whatever the faults did.

mod faults;
mod load;
mod report;
mod verify;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;

#[derive(Parser, Clone)]
#[command(name = "touchstone-chaos")]
pub struct Args {
    /// Orders the faults and draws the data.
    #[arg(long, env = "CHAOS_SEED", default_value_t = 7)]
    seed: u64,
    /// Seconds of load; the faults are spread over it.
    #[arg(long, env = "CHAOS_SECONDS", default_value_t = 240)]
    seconds: u64,
    /// Instances of each service `make run` started (ports base, base + 100, …).
    #[arg(long, default_value_t = 2)]
    replicas: u16,
    /// Leads created per second.
    #[arg(long, default_value_t = 8)]
    leads_per_second: u32,
    /// Touchpoints sent per second (in requests of 20).
    #[arg(long, default_value_t = 40)]
    touches_per_second: u32,
    /// How long, after the load, effects may take to settle before a missing one is lost.
    #[arg(long, default_value_t = 180)]
    settle_seconds: u64,
    /// Where the report goes.
    #[arg(long, default_value = "docs/reliability.md")]
    output: String,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let suite = Arc::new(load::Suite::new(args.replicas, args.seed));
    suite.wait_ready(Duration::from_secs(120)).await?;
    let before = verify::dead_letters().await?;
    let setup = load::setup(&suite, args.seed).await?;
    eprintln!(
        "[chaos] seed {}, {} s of load: {} leads/s, {} touches/s, deal transitions; faults: {}",
        args.seed,
        args.seconds,
        args.leads_per_second,
        args.touches_per_second,
        faults::schedule(args.seed)
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ")
    );

    let started = Instant::now();
    let stop = Arc::new(tokio::sync::Notify::new());
    let ledger = Arc::new(load::Ledger::default());
    let generators = load::spawn(
        suite.clone(),
        ledger.clone(),
        setup.clone(),
        &args,
        stop.clone(),
    );
    let faults = faults::run(
        suite.clone(),
        args.seed,
        Duration::from_secs(args.seconds),
        started,
    )
    .await;
    let elapsed = started.elapsed();
    if elapsed < Duration::from_secs(args.seconds) {
        tokio::time::sleep(Duration::from_secs(args.seconds) - elapsed).await;
    }
    stop.notify_waiters();
    for g in generators {
        let _ = g.await;
    }
    let load_seconds = started.elapsed().as_secs_f64();
    eprintln!("[chaos] load stopped after {load_seconds:.0} s; letting effects settle");

    let outcome = verify::settle(
        &suite,
        &ledger,
        &setup,
        &before,
        &faults,
        Duration::from_secs(args.settle_seconds),
    )
    .await?;
    let text = report::render(
        &args,
        &suite,
        &setup,
        &ledger,
        &faults,
        &outcome,
        load_seconds,
    );
    std::fs::write(&args.output, &text)?;
    println!("{text}");
    eprintln!("[chaos] written to {}", args.output);
    let server_errors = suite
        .outcomes
        .server_errors_500
        .load(std::sync::atomic::Ordering::Relaxed);
    anyhow::ensure!(
        outcome.passed() && server_errors == 0,
        "invariants broken: see {} (lost or doubled effects, unexpected dead letters, or 500s)",
        args.output
    );
    Ok(())
}
