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
}

impl Backend {
    /// The backend named by `APIKEYD_TEST_BACKEND`; panics on an unknown name rather than silently
    /// testing the wrong store.
    pub fn from_env() -> Self {
        match std::env::var(BACKEND_ENV) {
            Err(_) => Self::Embedded,
            Ok(name) => Self::parse(&name).unwrap_or_else(|| {
                panic!("{BACKEND_ENV}={name:?} is not a known backend (known: embedded)")
            }),
        }
    }

    /// Parses a backend name, case-insensitively.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "" | "embedded" | "sqlite" => Some(Self::Embedded),
            _ => None,
        }
    }

    /// Settings for an in-process app whose local files (audit log, SQLite) go to `data_dir`.
    pub fn settings(self, data_dir: &Path) -> Settings {
        match self {
            Self::Embedded => Settings::for_tests(data_dir),
        }
    }

    /// Environment for the `apikeyd` binary (serve and the projections commands), bind excluded.
    pub fn binary_env(self, data_dir: &Path) -> Vec<(String, String)> {
        match self {
            Self::Embedded => vec![(
                "APIKEYD_DATA_DIR".to_owned(),
                data_dir.display().to_string(),
            )],
        }
    }

    /// Local files holding the persisted store (none for a remote store).
    pub fn store_files(self, data_dir: &Path) -> Vec<PathBuf> {
        match self {
            Self::Embedded => ["apikeyd.db", "apikeyd.db-wal", "apikeyd.db-shm"]
                .iter()
                .map(|name| data_dir.join(name))
                .collect(),
        }
    }

    /// Everything the store holds, as (label, bytes), for the plaintext scan: the files for the
    /// embedded store; a remote store would return a dump of its tables here.
    pub async fn store_dump(self, data_dir: &Path) -> Vec<(String, Vec<u8>)> {
        match self {
            Self::Embedded => self
                .store_files(data_dir)
                .into_iter()
                .map(|path| {
                    let bytes = crate::secrets::read_or_empty(&path);
                    (path.display().to_string(), bytes)
                })
                .collect(),
        }
    }
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
        assert_eq!(Backend::parse("dynamodb"), None);
    }
}
