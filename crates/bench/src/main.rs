//! The benchmark harness. Each measurement runs beside its baseline in the same run, on
//! fresh databases and broker names, and the table goes to stdout and to `--output`.

mod bus;
mod http;
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
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut rows = Vec::new();
    rows.extend(bus::throughput(args.events).await?);
    rows.push(bus::relay_lag(args.seconds).await?);
    rows.extend(http::post_leads(args.seconds).await?);
    rows.push(http::idle_rss().await?);
    let table = report::render(&rows);
    println!("{table}");
    report::write(&args.output, &table)?;
    eprintln!("written to {}", args.output);
    Ok(())
}
