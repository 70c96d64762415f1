//! HAProxy's admin socket (the runtime API): what makes a key change or a new instance
//! take effect on a running gateway without a reload or a dropped connection.
//!
//! Every gateway sharing a state folder puts its socket there (`*.sock`), so a change is
//! applied to all of them.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::keys::MapEdit;

/// Options of every server the gateway health-checks: an instance that refuses a
/// connection is out at once (observe layer4), one whose `/health/ready` fails twice a
/// second apart is out within ~2 s, and it is back after two passing checks.
pub const SERVER_OPTIONS: &str = "check inter 1s fastinter 500ms downinter 1s fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down";

pub struct AdminSocket {
    path: PathBuf,
}

impl AdminSocket {
    pub fn new(path: impl Into<PathBuf>) -> AdminSocket {
        AdminSocket { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The admin sockets in a state folder (one per gateway process).
    pub fn discover(state_dir: &Path) -> Vec<AdminSocket> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(state_dir)
            .map(|dir| {
                dir.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "sock"))
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found.into_iter().map(AdminSocket::new).collect()
    }

    /// Sends one command and returns the whole answer.
    pub fn command(&self, cmd: &str) -> std::io::Result<String> {
        let mut stream = UnixStream::connect(&self.path)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.set_write_timeout(Some(Duration::from_secs(5)))?;
        stream.write_all(cmd.as_bytes())?;
        stream.write_all(b"\n")?;
        stream.shutdown(std::net::Shutdown::Write)?;
        let mut out = String::new();
        stream.read_to_string(&mut out)?;
        Ok(out)
    }

    /// Like `command`, but an answer that is not empty or a known success is an error.
    fn checked(&self, cmd: &str) -> anyhow::Result<()> {
        let out = self.command(cmd)?;
        let out = out.trim();
        if out.is_empty() || out.starts_with("New server registered") || out == "Done." {
            Ok(())
        } else {
            anyhow::bail!(
                "{}: `{}` answered: {out}",
                self.path.display(),
                first_word(cmd)
            )
        }
    }

    /// The file path HAProxy knows each map by, keyed by file name (`keys.map`, ...).
    pub fn maps(&self) -> anyhow::Result<HashMap<String, String>> {
        let out = self.command("show map")?;
        Ok(parse_show_map(&out))
    }

    /// Applies key-store edits. An `add` of a row that exists already, or a `del` of one
    /// that is gone, leaves the map as intended and is not an error.
    pub fn apply(&self, edits: &[MapEdit]) -> anyhow::Result<()> {
        let maps = self.maps()?;
        let path_of = |name: &str| {
            maps.get(name)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("{} has no map {name}", self.path.display()))
        };
        for edit in edits {
            match edit {
                MapEdit::Add { map, key, value } => {
                    let file = path_of(map)?;
                    let existing = self.command(&format!("get map {file} {key}"))?;
                    if existing.contains("found=yes") {
                        self.checked(&format!("set map {file} {key} {value}"))?;
                    } else {
                        self.checked(&format!("add map {file} {key} {value}"))?;
                    }
                }
                MapEdit::Del { map, key } => {
                    let file = path_of(map)?;
                    let out = self.command(&format!("del map {file} {key}"))?;
                    let out = out.trim();
                    if !(out.is_empty() || out.contains("not found")) {
                        anyhow::bail!("{}: del map answered: {out}", self.path.display());
                    }
                }
            }
        }
        Ok(())
    }

    /// Seconds until each entry of a stick table expires, by key.
    pub fn table_expiries(&self, table: &str) -> anyhow::Result<HashMap<String, u64>> {
        let out = self.command(&format!("show table {table}"))?;
        Ok(parse_show_table(&out))
    }

    /// Adds an instance to a running gateway: a dynamic server with the same checks as
    /// the configured ones, health checks on, then in rotation once they pass.
    pub fn add_server(&self, service: &str, server: &str, address: &str) -> anyhow::Result<()> {
        let backend = format!("be_{service}");
        self.checked(&format!(
            "add server {backend}/{server} {address} {SERVER_OPTIONS}"
        ))?;
        self.checked(&format!("enable health {backend}/{server}"))?;
        self.checked(&format!("enable server {backend}/{server}"))
    }
}

fn first_word(cmd: &str) -> &str {
    cmd.split_whitespace().next().unwrap_or("")
}

/// `show map` lists `<id> (<file>) pattern loaded from file ...` per map reference.
fn parse_show_map(out: &str) -> HashMap<String, String> {
    out.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let open = line.find('(')?;
            let close = line[open..].find(')')? + open;
            let file = &line[open + 1..close];
            let name = Path::new(file).file_name()?.to_str()?.to_string();
            Some((name, file.to_string()))
        })
        .collect()
}

/// `show table` rows: `0x...: key=demo use=0 exp=86395000 ...` (exp in milliseconds).
fn parse_show_table(out: &str) -> HashMap<String, u64> {
    out.lines()
        .filter(|l| l.starts_with("0x"))
        .filter_map(|line| {
            let field = |name: &str| {
                line.split_whitespace()
                    .find_map(|w| w.strip_prefix(name).map(str::to_string))
            };
            let key = field("key=")?;
            let exp: u64 = field("exp=")?.parse().ok()?;
            Some((key, exp / 1000))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_map_gives_each_file_its_path() {
        let out = "# id (file) description\n\
            -1 (/run/gw/keys.map) pattern loaded from file '/run/gw/keys.map' used by map at file '/x/haproxy.cfg' line 80. curr_ver=0 next_ver=0 entry_cnt=1\n\
            -2 (/x/routes.map) pattern loaded from file '/x/routes.map' used by map at file '/x/haproxy.cfg' line 90. curr_ver=0 next_ver=0 entry_cnt=40\n\n";
        let maps = parse_show_map(out);
        assert_eq!(maps["keys.map"], "/run/gw/keys.map");
        assert_eq!(maps["routes.map"], "/x/routes.map");
        assert_eq!(maps.len(), 2);
    }

    #[test]
    fn show_table_gives_seconds_to_expiry() {
        let out = "# table: st_keys, type: string, size:102400, used:2\n\
            0x55d0c1d2e0f0: key=demo use=0 exp=86395000 shard=0 http_req_rate(60000)=3 http_req_cnt=10\n\
            0x55d0c1d2e1f0: key=ci use=1 exp=3000 shard=0 http_req_rate(60000)=0 http_req_cnt=1\n";
        let t = parse_show_table(out);
        assert_eq!(t["demo"], 86395);
        assert_eq!(t["ci"], 3);
    }
}
