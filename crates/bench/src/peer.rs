//! The Python peers (DuckDB, ChannelAttribution): the scripts in `crates/bench/py`, run
//! with the venv `make bench` prepares (`target/bench-venv`, or `BENCH_PYTHON`).

use std::path::PathBuf;

/// The interpreter of the bench venv.
pub fn python() -> PathBuf {
    std::env::var_os("BENCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bench-venv/bin/python"))
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("py")
        .join(name)
}

/// Runs a peer script and parses the last line it prints as JSON (ChannelAttribution
/// prints a banner first). Any failure, a missing interpreter or package included, is an
/// error the caller turns into "baseline unavailable".
pub fn run_json(name: &str, args: &[&str]) -> anyhow::Result<serde_json::Value> {
    let python = python();
    anyhow::ensure!(
        python.exists(),
        "{} is missing: run `make bench` to create the venv",
        python.display()
    );
    let out = std::process::Command::new(&python)
        .arg(script(name))
        .args(args)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| anyhow::anyhow!("{name} printed no JSON: {text}"))?;
    Ok(serde_json::from_str(last)?)
}

fn package_version(package: &str) -> String {
    std::process::Command::new(python())
        .args([
            "-c",
            &format!("import importlib.metadata as m; print(m.version('{package}'))"),
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "?".into())
}

pub fn duckdb_version() -> String {
    package_version("duckdb")
}

pub fn ca_version() -> String {
    package_version("ChannelAttribution")
}

/// A fresh directory for a section's data files, removed by the section when it is done.
pub fn scratch_dir(section: &str) -> anyhow::Result<PathBuf> {
    let dir =
        std::env::temp_dir().join(format!("touchstone-bench-{section}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
