//! Settings: command-line flags, then `APIKEYD_*` environment variables, then an optional env-style
//! file (`APIKEYD_CONFIG`, lines of `KEY=value`), then defaults.
use clap::Args;
use std::path::PathBuf;

/// Default cap on request bodies: far above any valid request, far below a memory problem.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Everything `apikeyd serve` needs.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on (port 0 picks a free port).
    #[arg(
        long,
        env = "APIKEYD_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,
    /// Directory holding apikeyd.db (SQLite event store and views) and audit.log.
    #[arg(
        long,
        env = "APIKEYD_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Public base URL clients should use (returned as `api` by /api/amplify-config);
    /// defaults to http://<bound address>.
    #[arg(long, env = "APIKEYD_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Roles that may manage keys, roles and user roles (comma-separated).
    #[arg(
        long,
        env = "APIKEYD_ADMIN_ROLES",
        default_value = "admin",
        value_delimiter = ',',
        global = true
    )]
    pub admin_roles: Vec<String>,
    /// User id given the admin role and a first API key on first start.
    #[arg(
        long,
        env = "APIKEYD_BOOTSTRAP_ADMIN",
        default_value = "admin",
        global = true
    )]
    pub bootstrap_admin: String,
    /// Largest request body accepted, in bytes (larger → 413).
    #[arg(long, env = "APIKEYD_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES, global = true)]
    pub max_body_bytes: usize,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "APIKEYD_WORKERS", global = true)]
    pub workers: Option<usize>,
}

impl Settings {
    /// Settings for tests: a free loopback port and the given data directory.
    pub fn for_tests(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            bind: "127.0.0.1:0".into(),
            data_dir: data_dir.into(),
            public_url: None,
            admin_roles: vec!["admin".into()],
            bootstrap_admin: "admin".into(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            workers: Some(2),
        }
    }

    /// The SQLite file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("apikeyd.db")
    }

    /// The JSON-lines audit file.
    pub fn audit_path(&self) -> PathBuf {
        self.data_dir.join("audit.log")
    }
}

/// Loads `KEY=value` lines from the file named by `APIKEYD_CONFIG` into the environment, without
/// overriding variables already set. Blank lines and `#` comments are skipped.
pub fn load_config_file() -> Result<(), String> {
    let Some(path) = std::env::var_os("APIKEYD_CONFIG") else {
        return Ok(());
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "cannot read config file {}: {e}",
            PathBuf::from(&path).display()
        )
    })?;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("config line {}: expected KEY=value", number + 1))?;
        let key = key.trim();
        if !key.starts_with("APIKEYD_") {
            return Err(format!("config line {}: unknown setting {key}", number + 1));
        }
        if std::env::var_os(key).is_none() {
            // Runs before any thread is started (clap parsing happens afterwards).
            std::env::set_var(key, value.trim().trim_matches('"'));
        }
    }
    Ok(())
}
