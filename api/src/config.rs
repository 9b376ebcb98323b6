//! Settings: command-line flags, then `APIKEYD_*` environment variables, then an optional env-style
//! file (`APIKEYD_CONFIG`, lines of `KEY=value`), then defaults.
use clap::Args;
use std::path::PathBuf;

/// Default cap on request bodies: far above any valid request, far below a memory problem.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Where events and views live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// One SQLite file and a local audit file under the data directory: no set-up.
    Embedded,
    /// DynamoDB tables (and CloudWatch Logs for audit), shared by any number of nodes.
    Aws,
}

/// Everything `apikeyd serve` needs.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Storage backend.
    #[arg(
        long,
        env = "APIKEYD_BACKEND",
        value_enum,
        default_value = "embedded",
        global = true
    )]
    pub backend: BackendKind,
    /// AWS backend: prefix of the DynamoDB table names (<prefix>-events, -feed, -unique, -lookup, -views).
    /// Credentials, region and endpoints come from the standard AWS chain and AWS_ENDPOINT_URL_*.
    #[arg(
        long,
        env = "APIKEYD_TABLE_PREFIX",
        default_value = "apikeyd",
        global = true
    )]
    pub table_prefix: String,
    /// AWS backend: create missing tables at start (as `apikeyd aws init` does). Off by default:
    /// production tables come from deploy/cloudformation.yaml.
    #[arg(
        long,
        env = "APIKEYD_AWS_CREATE_TABLES",
        default_value_t = false,
        global = true
    )]
    pub aws_create_tables: bool,
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
            backend: BackendKind::Embedded,
            table_prefix: "apikeyd".into(),
            aws_create_tables: false,
            bind: "127.0.0.1:0".into(),
            data_dir: data_dir.into(),
            public_url: None,
            admin_roles: vec!["admin".into()],
            bootstrap_admin: "admin".into(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            workers: Some(2),
        }
    }

    /// Test settings on the AWS backend with fresh tables under `prefix` (created at start).
    pub fn for_aws_tests(data_dir: impl Into<PathBuf>, prefix: &str) -> Self {
        Self {
            backend: BackendKind::Aws,
            table_prefix: prefix.into(),
            aws_create_tables: true,
            ..Self::for_tests(data_dir)
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
