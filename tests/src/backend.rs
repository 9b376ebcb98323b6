//! Which store the app under test runs on.
//!
//! Every test goes through [`Backend`], so adding a backend (DynamoDB, …) means adding a variant and
//! its three answers here, not copying tests.
use api::config::Settings;
use std::path::{Path, PathBuf};

/// Environment variable selecting the backend: `embedded` (default).
pub const BACKEND_ENV: &str = "APIKEYD_TEST_BACKEND";

/// A store apikeyd can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (WAL) in the data directory.
    Embedded,
    /// DynamoDB (Local, started by `scripts/emulators.sh`), fresh tables per data directory.
    Aws,
}

impl Backend {
    /// The backend named by `APIKEYD_TEST_BACKEND`; panics on an unknown name rather than silently
    /// testing the wrong store.
    pub fn from_env() -> Self {
        match std::env::var(BACKEND_ENV) {
            Err(_) => Self::Embedded,
            Ok(name) => Self::parse(&name).unwrap_or_else(|| {
                panic!("{BACKEND_ENV}={name:?} is not a known backend (known: embedded, aws)")
            }),
        }
    }

    /// Parses a backend name, case-insensitively.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "" | "embedded" | "sqlite" => Some(Self::Embedded),
            "aws" | "dynamodb" => Some(Self::Aws),
            _ => None,
        }
    }

    /// Settings for an in-process app whose local files (audit log, SQLite) go to `data_dir`.
    pub fn settings(self, data_dir: &Path) -> Settings {
        match self {
            Self::Embedded => Settings::for_tests(data_dir),
            Self::Aws => {
                require_emulators();
                let mut settings = Settings::for_aws_tests(data_dir, &table_prefix(data_dir));
                settings.audit_file = Some(audit_log(data_dir));
                settings.audit_log_group = Some("none".to_owned());
                settings
            }
        }
    }

    /// Environment for the `apikeyd` binary (serve and the projections commands), bind excluded.
    pub fn binary_env(self, data_dir: &Path) -> Vec<(String, String)> {
        match self {
            Self::Embedded => vec![(
                "APIKEYD_DATA_DIR".to_owned(),
                data_dir.display().to_string(),
            )],
            Self::Aws => {
                require_emulators();
                [
                    ("APIKEYD_DATA_DIR", data_dir.display().to_string()),
                    ("APIKEYD_BACKEND", "aws".to_owned()),
                    ("APIKEYD_TABLE_PREFIX", table_prefix(data_dir)),
                    ("APIKEYD_AWS_CREATE_TABLES", "true".to_owned()),
                    (
                        "APIKEYD_AUDIT_FILE",
                        audit_log(data_dir).display().to_string(),
                    ),
                    ("APIKEYD_AUDIT_LOG_GROUP", "none".to_owned()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect()
            }
        }
    }

    /// Local files holding the persisted store (none for a remote store).
    pub fn store_files(self, data_dir: &Path) -> Vec<PathBuf> {
        match self {
            Self::Embedded => ["apikeyd.db", "apikeyd.db-wal", "apikeyd.db-shm"]
                .iter()
                .map(|name| data_dir.join(name))
                .collect(),
            Self::Aws => vec![],
        }
    }

    /// Everything the store holds, as (label, bytes), for the plaintext scan: the files for the
    /// embedded store (read by a child process, as a server may have them open in this one); the
    /// tables' items for the AWS backend.
    pub async fn store_dump(self, data_dir: &Path) -> Vec<(String, Vec<u8>)> {
        match self {
            Self::Embedded => self
                .store_files(data_dir)
                .into_iter()
                .map(|path| {
                    let bytes = crate::secrets::read_from_another_process(&path);
                    (path.display().to_string(), bytes)
                })
                .collect(),
            Self::Aws => dump_tables(&table_prefix(data_dir)).await,
        }
    }
}

/// The DynamoDB table prefix of a data directory: stable across restarts on the same directory,
/// fresh for every new one (DynamoDB Local has no reset call).
pub fn table_prefix(data_dir: &Path) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(data_dir.display().to_string().as_bytes());
    format!("t{}", &hex::encode(digest)[..16])
}

/// The AWS backend needs the emulators' environment (`eval "$(bash scripts/emulators.sh start)"`).
fn require_emulators() {
    assert!(
        std::env::var_os("APIKEYD_EMULATORS").is_some(),
        "{BACKEND_ENV}=aws needs DynamoDB Local: run `eval \"$(bash scripts/emulators.sh start)\"` first"
    );
}

/// Every item of every table under the prefix, as text.
async fn dump_tables(prefix: &str) -> Vec<(String, Vec<u8>)> {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let mut dump = Vec::new();
    for suffix in [
        "events",
        "feed",
        "unique",
        "lookup",
        "views",
        "usage",
        "rate-limits",
    ] {
        let table = format!("{prefix}-{suffix}");
        let mut text = String::new();
        let mut start = None;
        loop {
            let page = client
                .scan()
                .table_name(&table)
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap_or_else(|e| panic!("scan {table}: {e:?}"));
            for item in page.items() {
                text.push_str(&format!("{item:?}\n"));
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        dump.push((table, text.into_bytes()));
    }
    dump
}

/// The local audit file the server appends to, whatever the backend.
pub fn audit_log(data_dir: &Path) -> PathBuf {
    data_dir.join("audit.log")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names() {
        assert_eq!(Backend::parse("embedded"), Some(Backend::Embedded));
        assert_eq!(Backend::parse(" Embedded "), Some(Backend::Embedded));
        assert_eq!(Backend::parse("dynamodb"), Some(Backend::Aws));
        assert_eq!(Backend::parse("postgres"), None);
    }
}
