//! The funnel service binary. `touchstone-funnel rebuild` replays every deal's transition
//! log into its projections and exits.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if platform::app::print_openapi_if_asked(|| Ok(funnel::definition()))? {
        return Ok(());
    }
    platform::telemetry::init(funnel::SERVICE);
    let settings = platform::Settings::load(funnel::SERVICE, funnel::PORT)?;
    if std::env::args().nth(1).as_deref() == Some("rebuild") {
        let changed =
            tokio::task::spawn_blocking(move || funnel::rebuild_projections(&settings)).await??;
        tracing::info!(changed, "projections rebuilt from the transition log");
        println!("rebuilt projections: {changed} deals corrected");
        return Ok(());
    }
    let app = funnel::build(settings).await?;
    tracing::info!(port = app.port(), "funnel listening");
    app.run_until_stopped().await
}
