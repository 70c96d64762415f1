//! The benchmark harness. Each measurement runs beside its baseline in the same run, on
//! fresh databases and broker names, and the table goes to stdout and to `--output`.

mod attribution;
mod breakeven;
mod bus;
mod funnel;
mod gateway;
mod http;
mod leads;
mod peer;
mod process;
mod report;
mod soak;
mod touchpoints;

use clap::Parser;

#[derive(Parser)]
struct Args {
    /// Markdown file to write the results table into.
    #[arg(long, default_value = "docs/benchmarks.md")]
    output: String,
    /// Events per throughput run.
    #[arg(long, default_value_t = 20_000)]
    events: usize,
    /// Seconds of the relay-lag and HTTP load runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Run only these groups (comma-separated: `bus`, `lag`, `http`, `touches`, `reports`,
    /// `gateway`, `rss`, `funnel`, `touchpoints`, `touchpoints-e2e`, `touchpoints-rss`, `attribution`,
    /// `breakeven`, `soak`); all by default. A partial run prints its table but does not rewrite
    /// `--output` unless `--write` is given.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Seconds of the soak's mixed load.
    #[arg(long, default_value_t = 600)]
    soak_seconds: u64,
    /// Rewrite `--output` even for a partial run (the table then holds only its rows).
    #[arg(long)]
    write: bool,
    /// Internal: run a measurement that needs a process of its own (`markov3`).
    #[arg(long, hide = true)]
    child: Option<String>,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(child) = &args.child {
        anyhow::ensure!(child == "markov3", "unknown child {child}");
        return attribution::markov3_child();
    }
    let run = |group: &str| args.only.is_empty() || args.only.iter().any(|g| g == group);
    let mut rows = Vec::new();
    let mut gap = None;
    if run("bus") {
        rows.extend(bus::throughput(args.events).await?);
    }
    if run("lag") {
        rows.push(bus::relay_lag(args.seconds).await?);
    }
    if run("http") {
        rows.extend(leads::http(args.seconds).await?);
    }
    // The gateway's rows have a section of their own, so that they can be re-measured
    // (`--only gateway --write`) without rewriting the main table.
    let mut gateway_rows = Vec::new();
    if run("gateway") {
        gateway_rows = gateway::run(args.seconds).await?;
    }
    if run("touches") {
        rows.push(leads::touches().await?);
    }
    if run("reports") {
        rows.extend(leads::reports().await?);
    }
    if run("rss") {
        rows.push(http::idle_rss().await?);
    }
    if run("breakeven") {
        rows.extend(breakeven::run(args.seconds).await?);
    }
    if run("attribution") {
        let results = attribution::run().await?;
        rows.extend(results.rows);
        gap = results.gap;
    }
    if run("funnel") {
        rows.extend(funnel::run(args.seconds).await?);
    }
    if run("touchpoints") {
        rows.extend(touchpoints::ingest(args.seconds).await?);
    }
    if run("touchpoints-e2e") {
        rows.push(touchpoints::end_to_end().await?);
    }
    if run("touchpoints-rss") {
        rows.push(touchpoints::rss_1gb().await?);
    }
    // The soak's rows have a section of their own too (`--only soak --write`).
    let mut soak_rows = Vec::new();
    if run("soak") {
        soak_rows = soak::run(args.soak_seconds).await?;
    }
    let table = report::render(&rows);
    println!("{table}");
    let gateway_table = report::render(&gateway_rows);
    if !gateway_rows.is_empty() {
        println!("{gateway_table}");
    }
    let soak_table = report::render(&soak_rows);
    if !soak_rows.is_empty() {
        println!("{soak_table}");
    }
    if let Some(gap) = &gap {
        println!("{gap}");
    }
    if args.only.is_empty() || args.write {
        let command = if args.only.is_empty() {
            "make bench".to_string()
        } else {
            format!("bench --only {} --write", args.only.join(","))
        };
        let command = if run("soak") && args.soak_seconds != 600 {
            format!("{command} --soak-seconds {}", args.soak_seconds)
        } else {
            command
        };
        if !rows.is_empty() {
            report::write(&args.output, &table, &command)?;
        }
        if !gateway_rows.is_empty() {
            report::write_section(&args.output, "bench:gateway", &gateway_table, &command)?;
        }
        if !soak_rows.is_empty() {
            report::write_section(&args.output, "bench:soak", &soak_table, &command)?;
        }
        if let Some(gap) = &gap {
            report::write_section(&args.output, "bench:attribution-gap", gap, &command)?;
        }
        eprintln!("written to {}", args.output);
    }
    Ok(())
}
