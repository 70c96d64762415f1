//! The benchmark harness. Each measurement runs beside its baseline in the same run, on
//! fresh databases and broker names, and the table goes to stdout and to `--output`.

mod bus;
mod http;
mod leads;
mod report;

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
    /// Run only these groups (comma-separated: `bus`, `lag`, `http`, `touches`, `reports`, `rss`); all by default.
    /// A partial run prints its table but does not rewrite `--output`.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let run = |group: &str| args.only.is_empty() || args.only.iter().any(|g| g == group);
    let mut rows = Vec::new();
    if run("bus") {
        rows.extend(bus::throughput(args.events).await?);
    }
    if run("lag") {
        rows.push(bus::relay_lag(args.seconds).await?);
    }
    if run("http") {
        rows.extend(leads::http(args.seconds).await?);
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
    let table = report::render(&rows);
    println!("{table}");
    if args.only.is_empty() {
        report::write(&args.output, &table)?;
        eprintln!("written to {}", args.output);
    }
    Ok(())
}
