//! The break-even service binary.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if platform::app::print_openapi_if_asked(|| {
        Ok(breakeven::definition_with(breakeven::Tracking::load()?))
    })? {
        return Ok(());
    }
    platform::telemetry::init(breakeven::SERVICE);
    let settings = platform::Settings::load(breakeven::SERVICE, breakeven::PORT)?;
    let app = breakeven::build(settings).await?;
    tracing::info!(port = app.port(), "breakeven listening");
    app.run_until_stopped().await
}
