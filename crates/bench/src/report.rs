//! The results table and the docs/benchmarks.md it lives in.

pub struct Row {
    pub what: String,
    pub result: String,
    pub baseline: String,
    pub goal: String,
    pub verdict: Verdict,
}

pub enum Verdict {
    Met,
    Missed,
    Recorded,
}

pub fn render(rows: &[Row]) -> String {
    let mut out = String::from(
        "| what | result | baseline (same run) | goal | verdict |\n|---|---|---|---|---|\n",
    );
    for r in rows {
        let v = match r.verdict {
            Verdict::Met => "met",
            Verdict::Missed => "**missed**",
            Verdict::Recorded => "recorded",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.what, r.result, r.baseline, r.goal, v
        ));
    }
    out
}

/// Replaces the generated section of the file, keeping any prose around it.
pub fn write(path: &str, table: &str) -> anyhow::Result<()> {
    const BEGIN: &str = "<!-- bench:begin -->";
    const END: &str = "<!-- bench:end -->";
    let existing = std::fs::read_to_string(path).unwrap_or_else(|_| {
        format!("# Benchmarks\n\nReproduce with `make bench`.\n\n{BEGIN}\n{END}\n")
    });
    let machine = format!(
        "Run {} on {} cores, `make bench` (release build).\n\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let section = format!("{BEGIN}\n{machine}{table}{END}");
    let updated = match (existing.find(BEGIN), existing.find(END)) {
        (Some(b), Some(e)) if e > b => {
            format!(
                "{}{}{}",
                &existing[..b],
                section,
                &existing[e + END.len()..]
            )
        }
        _ => format!("{existing}\n{section}\n"),
    };
    std::fs::write(path, updated)?;
    Ok(())
}
