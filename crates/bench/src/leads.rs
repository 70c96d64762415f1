//! The leads service's targets: `POST /v1/leads` and `GET /v1/leads/{id}` beside
//! pgbench's single-row insert and select on the same machine, 10k touchpoint events
//! applied to engagement, and each report over 1M leads.

use std::time::{Duration, Instant};

use contracts::RawEvent;
use contracts::touchpoints::TouchpointRecorded;
use diesel::prelude::*;
use platform::DbError;

use platform::testing::RunningService;

use crate::http::{CONCURRENCY, Load, create, leads_service, load};
use crate::process::psql;
use crate::report::{Row, Verdict};

/// `count` demo leads (seeded by `seed`) created through `POST /v1/leads`, each with the
/// e-mail `{prefix}{i}@bench.example`; their ids in order.
pub async fn create_leads(
    service: &RunningService,
    seed: u64,
    prefix: &str,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let client = reqwest::Client::new();
    let url = service.url("/v1/leads");
    let mut generator = demo::Generator::new(seed);
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let mut body = generator.lead(i);
        body["email"] = serde_json::json!(format!("{prefix}{i}@bench.example"));
        ids.push(create(&client, &url, &body, "lead").await?);
    }
    Ok(ids)
}

/// pgbench's TPS for a one-row insert and a primary-key select at the same concurrency:
/// the database's own ceiling for what each HTTP endpoint does at least once.
pub async fn pgbench(seconds: u64) -> anyhow::Result<(f64, f64)> {
    let bin = std::fs::read_dir("/usr/lib/postgresql")?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin/pgbench"))
        .find(|p| p.exists())
        .or_else(|| which("pgbench"))
        .ok_or_else(|| anyhow::anyhow!("pgbench not found (apt install postgresql-contrib)"))?;
    let db = format!("bench_pgbench_{}", std::process::id());
    psql("postgres", &format!("CREATE DATABASE {db}"))?;
    psql(
        &db,
        "CREATE TABLE t (id bigserial PRIMARY KEY, v text NOT NULL, at timestamptz NOT NULL DEFAULT now()); \
         INSERT INTO t (v) SELECT md5(g::text) FROM generate_series(1, 100000) g",
    )?;
    let dir = std::env::temp_dir();
    let insert = dir.join("touchstone-pgbench-insert.sql");
    let select = dir.join("touchstone-pgbench-select.sql");
    std::fs::write(&insert, "INSERT INTO t (v) VALUES (md5(random()::text));\n")?;
    std::fs::write(
        &select,
        "\\set id random(1, 100000)\nSELECT v FROM t WHERE id = :id;\n",
    )?;
    let run = |script: &std::path::Path| -> anyhow::Result<f64> {
        let out = std::process::Command::new(&bin)
            .args(["-h", "127.0.0.1", "-U", "postgres", "-n", "-M", "prepared"])
            .args([
                "-c",
                &CONCURRENCY.to_string(),
                "-j",
                "2",
                "-T",
                &seconds.to_string(),
            ])
            .arg("-f")
            .arg(script)
            .arg(&db)
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .find_map(|l| l.strip_prefix("tps = "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "pgbench said: {text} {}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })
    };
    let result = run(&insert).and_then(|i| Ok((i, run(&select)?)));
    psql("postgres", &format!("DROP DATABASE {db} WITH (FORCE)"))?;
    result
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| std::path::Path::new(d).join(name))
        .find(|p| p.exists())
}

pub fn http_row(what: &str, load: &Load, baseline: String, min_rate: f64, max_p99: f64) -> Row {
    Row {
        what: what.into(),
        result: load.describe(),
        baseline,
        goal: format!("≥ {min_rate:.0} req/s, p99 < {max_p99:.0} ms"),
        verdict: Verdict::met_if(
            load.rate >= min_rate && load.p99_ms < max_p99 && load.errors == 0,
        ),
    }
}

pub async fn http(seconds: u64) -> anyhow::Result<Vec<Row>> {
    let (insert_tps, select_tps) = pgbench(seconds).await?;
    let service = leads_service().await;
    let url = service.url("/v1/leads");
    let post = load(seconds, 201, move |client, w, i| {
        let mut generator = demo::Generator::new(w as u64);
        let mut body = generator.lead(i);
        body["email"] = serde_json::json!(format!("w{w}.n{i}@bench.example"));
        client.post(&url).json(&body)
    })
    .await?;
    // Read back leads that exist: the ids just created.
    let ids: Vec<uuid::Uuid> = service
        .db
        .run(|c| {
            leads::store::schema::leads::table
                .select(leads::store::schema::leads::id)
                .limit(10_000)
                .load(c)
                .map_err(DbError::from)
        })
        .await?;
    anyhow::ensure!(!ids.is_empty(), "no leads were created");
    let base = service.url("/v1/leads/");
    let get = load(seconds, 200, move |client, w, i| {
        client.get(format!("{base}{}", ids[(w * 7919 + i) % ids.len()]))
    })
    .await?;
    drop(service);
    Ok(vec![
        http_row(
            &format!(
                "`POST /v1/leads`, concurrency {CONCURRENCY}, {seconds} s (validate, match account, score, insert + outbox in one transaction)"
            ),
            &post,
            format!("pgbench one-row INSERT, {CONCURRENCY} clients: {insert_tps:.0} tps"),
            3000.0,
            20.0,
        ),
        http_row(
            &format!("`GET /v1/leads/{{id}}`, concurrency {CONCURRENCY}, {seconds} s"),
            &get,
            format!("pgbench primary-key SELECT, {CONCURRENCY} clients: {select_tps:.0} tps"),
            10_000.0,
            5.0,
        ),
    ])
}

/// 10,000 `touchpoint.recorded` events for 1,000 leads, published as 100 batch messages of
/// 100 (as the touchpoints service sends them), from the first publish until the last is
/// applied.
pub async fn touches() -> anyhow::Result<Row> {
    let service = leads_service().await;
    let ids = create_leads(&service, 99, "touch", 1000).await?;
    let kinds = [
        "page_view",
        "email_open",
        "email_click",
        "visit",
        "form_submit",
        "meeting",
    ];
    let now = chrono::Utc::now();
    let batches: Vec<Vec<u8>> = (0..100)
        .map(|b| {
            let events: Vec<RawEvent> = (0..100)
                .map(|k| {
                    let n = b * 100 + k;
                    let t: TouchpointRecorded = serde_json::from_value(serde_json::json!({
                        "touchpoint_id": uuid::Uuid::new_v4(),
                        "occurred_at": now - chrono::Duration::minutes(n as i64),
                        "received_at": now,
                        "channel": "email",
                        "type": kinds[n % kinds.len()],
                        "lead_id": ids[n % ids.len()],
                    }))
                    .expect("valid touchpoint");
                    RawEvent::new(&t, None)
                })
                .collect();
            serde_json::to_vec(&events).expect("serializes")
        })
        .collect();
    let bus = service.settings.bus.clone();
    let conn = platform::bus::connect(&bus, "bench-touches").await?;
    let channel = conn.create_channel().await?;
    channel
        .confirm_select(lapin::options::ConfirmSelectOptions::default())
        .await?;
    let started = Instant::now();
    for body in &batches {
        platform::bus::publish_confirmed(
            &channel,
            &bus.exchange,
            "touchstone.touchpoints.touchpoint.recorded.v1",
            body,
            platform::bus::message_properties(
                &uuid::Uuid::now_v7().to_string(),
                contracts::CLOUDEVENTS_BATCH_JSON,
                Default::default(),
            ),
        )
        .await?;
    }
    wait_applied(
        &service,
        TOUCHPOINT_RECORDED,
        10_000,
        Duration::from_secs(120),
    )
    .await?;
    let elapsed = started.elapsed().as_secs_f64();
    let _ = conn.close(200, "done".into()).await;
    let stored = inbox_count(&service, TOUCHPOINT_RECORDED).await?;
    anyhow::ensure!(stored == 10_000, "the inbox holds {stored} of 10,000 ids");
    drop(service);
    Ok(Row {
        what: "10,000 `touchpoint.recorded` (100 batches of 100, 1,000 leads) applied to engagement, publish → committed".into(),
        result: format!("{elapsed:.2} s ({:.0} events/s)", 10_000.0 / elapsed),
        baseline: "—".into(),
        goal: "< 1 s".into(),
        verdict: Verdict::met_if(elapsed < 1.0),
    })
}

pub const TOUCHPOINT_RECORDED: &str = "touchstone.touchpoints.touchpoint.recorded.v1";

/// Events of type `ty` the service's consumer has applied (committed), from its
/// `/metrics`: polling this costs the service a text render, where counting the inbox
/// would scan it and take CPU from the consumer being measured.
pub async fn applied(service: &RunningService, ty: &str) -> anyhow::Result<u64> {
    let text = reqwest::get(service.url("/metrics")).await?.text().await?;
    let label = format!("type=\"{ty}\"");
    Ok(text
        .lines()
        .filter(|l| {
            l.starts_with("events_consumed_total{")
                && l.contains("outcome=\"applied\"")
                && l.contains(&label)
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum())
}

/// Waits until `n` events of type `ty` are applied, polling every 50 ms.
pub async fn wait_applied(
    service: &RunningService,
    ty: &str,
    n: u64,
    timeout: Duration,
) -> anyhow::Result<u64> {
    let deadline = Instant::now() + timeout;
    loop {
        let done = applied(service, ty).await?;
        if done >= n || Instant::now() > deadline {
            return Ok(done);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The inbox rows of type `ty`: the exact check, once the waiting is over.
pub async fn inbox_count(service: &RunningService, ty: &'static str) -> anyhow::Result<i64> {
    Ok(service
        .db
        .run(move |c| {
            platform::schema::inbox::table
                .filter(platform::schema::inbox::event_type.eq(ty))
                .count()
                .get_result(c)
                .map_err(DbError::from)
        })
        .await?)
}

/// Each report over 1,000,000 leads. The leads are written with one `INSERT … SELECT
/// generate_series` straight into the service's database (through the API they would take
/// minutes to load); their sources, campaigns, scores and stage times are spread like the
/// demo data's.
pub async fn reports() -> anyhow::Result<Vec<Row>> {
    let service = leads_service().await;
    let client = reqwest::Client::new();
    // The first request makes the default scoring model version 1.
    client.get(service.url("/v1/scoring-model")).send().await?;
    service
        .db
        .run(|c| {
            diesel::sql_query(
                "INSERT INTO leads (id, email, source, campaign_id, lifecycle_stage, version, created_at, updated_at, \
                   fit, engagement, engagement_as_of, grade, mql_at, sql_at, customer_at) \
                 SELECT gen_random_uuid(), 'l' || g || '@bench.example', \
                   (ARRAY['organic_search','content','webinar','referral','direct','sdr','event','affiliate','paid_search','paid_social','programmatic_display'])[1 + g % 11], \
                   CASE WHEN g % 3 = 0 THEN NULL ELSE 'cmp-' || (g % 7) END, 'lead', 1, \
                   now() - (g % 365) * interval '1 day', now(), \
                   (g % 97)::float8, (g % 61)::float8, now(), \
                   (ARRAY['A','B','C'])[1 + g % 3] || (1 + g % 3)::text, \
                   CASE WHEN g % 4 = 0 THEN now() - (g % 365) * interval '1 day' + (g % 20) * interval '1 day' END, \
                   CASE WHEN g % 12 = 0 THEN now() - (g % 300) * interval '1 day' END, \
                   CASE WHEN g % 40 = 0 THEN now() - (g % 200) * interval '1 day' END \
                 FROM generate_series(1, 1000000) g",
            )
            .execute(c)?;
            diesel::sql_query("ANALYZE leads").execute(c)?;
            Ok::<_, DbError>(())
        })
        .await?;
    let mut rows = Vec::new();
    for (name, path) in [
        ("lead quality", "/v1/reports/lead-quality"),
        ("score distribution", "/v1/reports/score-distribution"),
        (
            "lead quality as Parquet",
            "/v1/reports/lead-quality?format=parquet",
        ),
    ] {
        let started = Instant::now();
        let resp = client.get(service.url(path)).send().await?;
        anyhow::ensure!(resp.status().is_success(), "{path}: {}", resp.status());
        let bytes = resp.bytes().await?;
        let elapsed = started.elapsed().as_secs_f64();
        rows.push(Row {
            what: format!("Report `{path}` ({name}) over 1,000,000 leads"),
            result: format!("{elapsed:.2} s ({} bytes)", bytes.len()),
            baseline: "—".into(),
            goal: "< 2 s".into(),
            verdict: Verdict::met_if(elapsed < 2.0),
        });
    }
    drop(service);
    Ok(rows)
}
