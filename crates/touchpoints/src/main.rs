//! The touchpoints service binary.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if platform::app::print_openapi_if_asked(touchpoints::definition)? {
        return Ok(());
    }
    platform::telemetry::init(touchpoints::SERVICE);
    let settings = platform::Settings::load(touchpoints::SERVICE, touchpoints::PORT)?;
    let app = touchpoints::build(settings).await?;
    tracing::info!(port = app.port(), "touchpoints listening");
    app.run_until_stopped().await
}
