//! The leads service binary.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if platform::app::print_openapi_if_asked(|| Ok(leads::definition()))? {
        return Ok(());
    }
    platform::telemetry::init(leads::SERVICE);
    let settings = platform::Settings::load(leads::SERVICE, leads::PORT)?;
    let app = leads::build(settings).await?;
    tracing::info!(port = app.port(), "leads listening");
    app.run_until_stopped().await
}
