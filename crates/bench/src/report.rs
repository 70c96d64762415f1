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

impl Verdict {
    /// `Met` when the goal was reached, else `Missed`.
    pub fn met_if(reached: bool) -> Verdict {
        if reached {
            Verdict::Met
        } else {
            Verdict::Missed
        }
    }
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

/// Replaces the generated results section of the file, keeping any prose around it.
/// `command` is what produced the table.
pub fn write(path: &str, table: &str, command: &str) -> anyhow::Result<()> {
    write_section(path, "bench", table, command)
}

/// Replaces the section between `<!-- {name}:begin -->` and `<!-- {name}:end -->`,
/// appending it when the file has none.
pub fn write_section(path: &str, name: &str, content: &str, command: &str) -> anyhow::Result<()> {
    let begin = format!("<!-- {name}:begin -->");
    let end = format!("<!-- {name}:end -->");
    let (begin, end) = (begin.as_str(), end.as_str());
    let existing = std::fs::read_to_string(path).unwrap_or_else(|_| {
        format!("# Benchmarks\n\nReproduce with `make bench`.\n\n{begin}\n{end}\n")
    });
    let machine = format!(
        "Run {} on {} cores, `{command}` (release build).\n\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let section = format!("{begin}\n{machine}{content}{end}");
    let updated = match (existing.find(begin), existing.find(end)) {
        (Some(b), Some(e)) if e > b => {
            format!(
                "{}{}{}",
                &existing[..b],
                section,
                &existing[e + end.len()..]
            )
        }
        _ => format!("{existing}\n{section}\n"),
    };
    std::fs::write(path, updated)?;
    Ok(())
}
