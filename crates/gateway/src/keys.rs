//! The API-key store. A key is 256 random bits shown once; the store keeps only its
//! SHA-256 in `keys.json`, with the key's name, scopes and rate limit, and renders the
//! three maps HAProxy matches requests against (`keys.map`, `grants.map`, `limits.map`).
//! Every change also comes back as map edits, which `runtime` applies to running gateways.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::SERVICES;

pub const KEYS_MAP: &str = "keys.map";
pub const GRANTS_MAP: &str = "grants.map";
pub const LIMITS_MAP: &str = "limits.map";
const STORE: &str = "keys.json";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum KeyError {
    #[error(
        "the key name {0:?} is not valid: use 1-63 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit"
    )]
    InvalidName(String),
    #[error("the scope {0:?} is not valid: use '*' or '<service>:read' / '<service>:write' with a service among {services}", services = SERVICES.join(", "))]
    InvalidScope(String),
    #[error(
        "the rate limit {0:?} is not valid: use a whole number of requests per minute, e.g. 600/min"
    )]
    InvalidRateLimit(String),
    #[error("a key needs at least one --scope")]
    NoScope,
    #[error("a key named {0:?} exists already")]
    Exists(String),
    #[error("no active key is named {0:?}")]
    NotFound(String),
}

/// `*`, or `<service>:read` / `<service>:write`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(String);

impl Scope {
    pub fn parse(s: &str) -> Result<Scope, KeyError> {
        if s == "*" {
            return Ok(Scope(s.to_string()));
        }
        match s.split_once(':') {
            Some((svc, "read" | "write")) if SERVICES.contains(&svc) => Ok(Scope(s.to_string())),
            _ => Err(KeyError::InvalidScope(s.to_string())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The grants this scope gives: `<service>:write` includes `<service>:read`.
    fn grants(&self) -> Vec<String> {
        match self.0.strip_suffix(":write") {
            Some(svc) => vec![self.0.clone(), format!("{svc}:read")],
            None => vec![self.0.clone()],
        }
    }
}

impl TryFrom<String> for Scope {
    type Error = KeyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Scope::parse(&s)
    }
}

impl From<Scope> for String {
    fn from(s: Scope) -> String {
        s.0
    }
}

/// `600/min` or `600`: requests per minute, at least 1.
pub fn parse_rate_limit(s: &str) -> Result<u32, KeyError> {
    let n = s.trim().strip_suffix("/min").unwrap_or(s.trim());
    match n.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(KeyError::InvalidRateLimit(s.to_string())),
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 63
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_' || c == '-'
        })
}

/// One key as stored: never the key itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KeyRecord {
    pub name: String,
    /// Hex SHA-256 of the key.
    pub hash: String,
    pub scopes: Vec<Scope>,
    /// Requests per minute; `None` takes the gateway's default.
    pub rate_limit_per_min: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl KeyRecord {
    pub fn active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// An edit of one of HAProxy's maps, applied to running gateways in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapEdit {
    Add {
        map: &'static str,
        key: String,
        value: String,
    },
    Del {
        map: &'static str,
        key: String,
    },
}

pub fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `ts_` and 32 random bytes in URL-safe base64 (256 bits).
pub fn generate_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "ts_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The rows a key contributes to each map, in the order a create must add them: grants
/// and limit first, the key itself last, so a key is never usable before its scopes are.
fn rows(r: &KeyRecord) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    let grants: BTreeSet<String> = r.scopes.iter().flat_map(Scope::grants).collect();
    for g in grants {
        out.push((GRANTS_MAP, format!("{}|{g}", r.name), "1".to_string()));
    }
    if let Some(n) = r.rate_limit_per_min {
        out.push((LIMITS_MAP, r.name.clone(), n.to_string()));
    }
    out.push((KEYS_MAP, r.hash.clone(), r.name.clone()));
    out
}

/// The key store in a folder of its own (mode 0700).
pub struct KeyStore {
    dir: PathBuf,
}

impl KeyStore {
    /// Opens the store, creating the folder and empty maps when missing.
    pub fn open(dir: impl AsRef<Path>) -> anyhow::Result<KeyStore> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))?;
        }
        let store = KeyStore {
            dir: fs::canonicalize(&dir)?,
        };
        if !store.dir.join(STORE).exists() {
            store.save(&[])?;
        }
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn list(&self) -> anyhow::Result<Vec<KeyRecord>> {
        let text = fs::read_to_string(self.dir.join(STORE))?;
        Ok(serde_json::from_str(&text)?)
    }

    /// Creates a key; returns its record, the key (shown once) and the map edits.
    pub fn create(
        &self,
        name: &str,
        scopes: &[Scope],
        rate_limit_per_min: Option<u32>,
    ) -> anyhow::Result<(KeyRecord, String, Vec<MapEdit>)> {
        if !valid_name(name) {
            return Err(KeyError::InvalidName(name.to_string()).into());
        }
        if scopes.is_empty() {
            return Err(KeyError::NoScope.into());
        }
        let _lock = self.lock()?;
        let mut records = self.list()?;
        if records.iter().any(|r| r.name == name && r.active()) {
            return Err(KeyError::Exists(name.to_string()).into());
        }
        let key = generate_key();
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        let record = KeyRecord {
            name: name.to_string(),
            hash: hash_key(&key),
            scopes,
            rate_limit_per_min,
            created_at: Utc::now(),
            revoked_at: None,
        };
        records.push(record.clone());
        self.save(&records)?;
        let edits = rows(&record)
            .into_iter()
            .map(|(map, key, value)| MapEdit::Add { map, key, value })
            .collect();
        Ok((record, key, edits))
    }

    /// Revokes the active key named `name`; the record stays, marked revoked.
    pub fn revoke(&self, name: &str) -> anyhow::Result<(KeyRecord, Vec<MapEdit>)> {
        let _lock = self.lock()?;
        let mut records = self.list()?;
        let record = records
            .iter_mut()
            .find(|r| r.name == name && r.active())
            .ok_or_else(|| KeyError::NotFound(name.to_string()))?;
        record.revoked_at = Some(Utc::now());
        let record = record.clone();
        self.save(&records)?;
        // The key first: from then on no request gets through with it.
        let edits = rows(&record)
            .into_iter()
            .rev()
            .map(|(map, key, _)| MapEdit::Del { map, key })
            .collect();
        Ok((record, edits))
    }

    fn lock(&self) -> anyhow::Result<fs::File> {
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(".lock"))?;
        f.lock()?;
        Ok(f)
    }

    /// Writes the store and the maps, each by rename, so a gateway starting meanwhile
    /// reads either the old or the new file, never half of one.
    fn save(&self, records: &[KeyRecord]) -> anyhow::Result<()> {
        let mut maps: [(&str, String); 3] = [
            (KEYS_MAP, String::new()),
            (GRANTS_MAP, String::new()),
            (LIMITS_MAP, String::new()),
        ];
        for r in records.iter().filter(|r| r.active()) {
            for (map, key, value) in rows(r) {
                let text = &mut maps
                    .iter_mut()
                    .find(|(m, _)| *m == map)
                    .expect("known map")
                    .1;
                text.push_str(&format!("{key} {value}\n"));
            }
        }
        for (map, text) in &maps {
            self.write_atomically(map, text.as_bytes())?;
        }
        self.write_atomically(STORE, serde_json::to_string_pretty(records)?.as_bytes())
    }

    fn write_atomically(&self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let mut f = fs::File::create(&tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, self.dir.join(name))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(s: &[&str]) -> Vec<Scope> {
        s.iter().map(|s| Scope::parse(s).unwrap()).collect()
    }

    fn temp_store() -> KeyStore {
        let dir = std::env::temp_dir().join(format!("ts-keys-{}", generate_key()));
        KeyStore::open(dir).unwrap()
    }

    #[test]
    fn scopes_parse_only_known_services_and_accesses() {
        assert!(Scope::parse("*").is_ok());
        assert!(Scope::parse("leads:read").is_ok());
        assert!(Scope::parse("breakeven:write").is_ok());
        for bad in [
            "leads",
            "leads:admin",
            "crm:read",
            "",
            "*:read",
            "leads:read ",
        ] {
            assert_eq!(
                Scope::parse(bad),
                Err(KeyError::InvalidScope(bad.to_string()))
            );
        }
    }

    #[test]
    fn rate_limits_are_per_minute_and_positive() {
        assert_eq!(parse_rate_limit("600/min"), Ok(600));
        assert_eq!(parse_rate_limit("5"), Ok(5));
        for bad in ["0/min", "-1", "ten", "5/s", ""] {
            assert!(parse_rate_limit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_are_random_url_safe_and_256_bits() {
        let a = generate_key();
        let b = generate_key();
        assert_ne!(a, b);
        assert_eq!(a.len(), 3 + 43);
        assert!(
            a[3..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        // sha256("abc"), the FIPS 180-2 example.
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_store_keeps_hashes_only_and_renders_the_maps() {
        let store = temp_store();
        let (record, key, edits) = store
            .create("ci", &scopes(&["leads:write", "funnel:read"]), Some(120))
            .unwrap();
        let on_disk = fs::read_to_string(store.dir().join(STORE)).unwrap();
        assert!(!on_disk.contains(&key), "the key itself is never stored");
        assert!(on_disk.contains(&hash_key(&key)));
        assert_eq!(
            fs::read_to_string(store.dir().join(KEYS_MAP)).unwrap(),
            format!("{} ci\n", record.hash)
        );
        assert_eq!(
            fs::read_to_string(store.dir().join(GRANTS_MAP)).unwrap(),
            "ci|funnel:read 1\nci|leads:read 1\nci|leads:write 1\n"
        );
        assert_eq!(
            fs::read_to_string(store.dir().join(LIMITS_MAP)).unwrap(),
            "ci 120\n"
        );
        // The key is added last, so it is never live before its grants.
        assert_eq!(
            edits.last(),
            Some(&MapEdit::Add {
                map: KEYS_MAP,
                key: record.hash.clone(),
                value: "ci".into()
            })
        );
        assert_eq!(edits.len(), 5);
    }

    #[test]
    fn revoking_removes_the_key_first_and_keeps_the_record() {
        let store = temp_store();
        let (record, _, _) = store.create("demo", &scopes(&["*"]), None).unwrap();
        let (revoked, edits) = store.revoke("demo").unwrap();
        assert!(revoked.revoked_at.is_some());
        assert_eq!(
            edits.first(),
            Some(&MapEdit::Del {
                map: KEYS_MAP,
                key: record.hash.clone()
            })
        );
        assert_eq!(fs::read_to_string(store.dir().join(KEYS_MAP)).unwrap(), "");
        assert_eq!(store.list().unwrap().len(), 1);
        // The name is free again, and revoking twice is an error.
        assert!(store.revoke("demo").is_err());
        assert!(store.create("demo", &scopes(&["*"]), None).is_ok());
    }

    #[test]
    fn names_and_duplicates_are_refused() {
        let store = temp_store();
        for bad in ["", "Demo", "-x", "a b", "a|b", &"x".repeat(64)] {
            assert!(store.create(bad, &scopes(&["*"]), None).is_err(), "{bad}");
        }
        store.create("a", &scopes(&["*"]), None).unwrap();
        let err = store.create("a", &scopes(&["*"]), None).unwrap_err();
        assert_eq!(
            err.downcast_ref::<KeyError>(),
            Some(&KeyError::Exists("a".into()))
        );
        assert!(store.create("b", &[], None).is_err());
    }
}
