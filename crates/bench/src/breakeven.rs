//! The break-even service's targets: `POST /v1/breakeven/calculate` under load, and the
//! 101 × 101 sensitivity grid computed by the pure domain function.

use std::time::Instant;

use breakeven::domain::calculator::{CalculateRequest, SensitivityInput, calculate};
use breakeven::domain::sensitivity;
use platform::testing::{RunningService, TestNamespace};
use rust_decimal::Decimal;

use crate::http::{CONCURRENCY, load};
use crate::leads::{http_row, pgbench};
use crate::report::{Row, Verdict};

/// The calculator under load beside pgbench's primary-key SELECT (the smallest request a
/// database-backed service could answer), then the grid.
pub async fn run(seconds: u64) -> anyhow::Result<Vec<Row>> {
    let (_, select_tps) = pgbench(seconds).await?;
    let ns = TestNamespace::new();
    let mut settings = ns.settings(breakeven::SERVICE);
    settings.http.workers = None;
    settings.database.pool_size = 8;
    let service = RunningService::start(breakeven::definition(), settings).await;
    let url = service.url("/v1/breakeven/calculate");
    let body = serde_json::json!({
        "currency": "USD",
        "fixed_costs": "18000",
        "price": "100",
        "variable_cost": "60",
        "actual_units": "1000",
    });
    let calc = load(seconds, 200, move |client, _, _| {
        client.post(&url).json(&body)
    })
    .await?;
    drop(service);
    Ok(vec![
        http_row(
            &format!(
                "`POST /v1/breakeven/calculate`, concurrency {CONCURRENCY}, {seconds} s (break-even, margin of safety, leverage; no database)"
            ),
            &calc,
            format!(
                "pgbench primary-key SELECT, {CONCURRENCY} clients: {select_tps:.0} tps (for scale)"
            ),
            20_000.0,
            5.0,
        ),
        grid()?,
    ])
}

/// The 101 × 101 grid (±50 % in 1 % steps), pure function and whole calculator request,
/// median of 21 runs after a warm-up.
fn grid() -> anyhow::Result<Row> {
    let d = |s: &str| -> Decimal { s.parse().expect("a decimal literal") };
    let steps = sensitivity::steps(d("50"), d("1"))
        .ok_or_else(|| anyhow::anyhow!("±50 % in 1 % steps is within the limit"))?;
    anyhow::ensure!(
        steps.len() == 101,
        "expected 101 steps, got {}",
        steps.len()
    );
    let median = |f: &mut dyn FnMut() -> anyhow::Result<()>| -> anyhow::Result<f64> {
        f()?;
        let mut times = Vec::new();
        for _ in 0..21 {
            let t = Instant::now();
            f()?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        Ok(times[times.len() / 2])
    };
    let pure = median(&mut || {
        let g = sensitivity::grid(d("18000"), d("100"), d("60"), steps.clone(), steps.clone())
            .map_err(|e| anyhow::anyhow!("grid failed: {e:?}"))?;
        anyhow::ensure!(g.units.len() == 101 && g.units[0].len() == 101);
        Ok(())
    })?;
    let request = CalculateRequest {
        currency: "USD".into(),
        fixed_costs: Some("18000".into()),
        price: Some("100".into()),
        variable_cost: Some("60".into()),
        sensitivity: Some(SensitivityInput {
            range_percent: "50".into(),
            step_percent: "1".into(),
        }),
        ..CalculateRequest::default()
    };
    let today = chrono::Utc::now().date_naive();
    let whole = median(&mut || {
        calculate(&request, today).map_err(|e| anyhow::anyhow!("calculate failed: {e:?}"))?;
        Ok(())
    })?;
    Ok(Row {
        what: "Sensitivity grid 101 × 101 (±50 % price and variable cost, 1 % steps), pure `sensitivity::grid`, median of 21".into(),
        result: format!("{pure:.2} ms (whole `calculate` request with the grid: {whole:.2} ms)"),
        baseline: "—".into(),
        goal: "< 10 ms".into(),
        verdict: Verdict::met_if(pure < 10.0),
    })
}
