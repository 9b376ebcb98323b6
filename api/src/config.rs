//! Settings: command-line flags, then `APIKEYD_*` environment variables, then an optional env-style
//! file (`APIKEYD_CONFIG`, lines of `KEY=value`), then defaults.
use clap::Args;
use std::path::PathBuf;

/// Default cap on request bodies: far above any valid request, far below a memory problem.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Default cap on the request head's header bytes: a bearer key is ~50 bytes and vamscli sends a
/// handful of headers, so 16 KiB leaves room for proxies' additions and nothing for abuse.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;

/// Default sustained rate of refused keys one client IP may present, per minute.
pub const DEFAULT_AUTH_FAIL_LIMIT: u32 = 30;

/// Default number of refused keys one client IP may present in a burst before being limited.
pub const DEFAULT_AUTH_FAIL_BURST: u32 = 20;

/// Default leak reports (`POST /auth/exposures`) one client IP may send per minute, sustained (and
/// in a burst).
pub const DEFAULT_EXPOSURE_REPORT_LIMIT: u32 = 10;

/// Default time a client has to send a request body once its head arrived (ms): a valid body is a
/// few hundred bytes, so anything slower is a slow-body attack holding a connection open.
pub const DEFAULT_BODY_TIMEOUT_MS: u64 = 5_000;

/// Default cap on one client address's open connections: far above a gateway's keep-alive pool or
/// vamscli, far below what exhausts file descriptors.
pub const DEFAULT_MAX_CONNECTIONS_PER_IP: usize = 128;

/// Default longest time (s) between two flushes of the keys' last use and usage counts.
pub const DEFAULT_LAST_USED_FLUSH_SECONDS: u64 = 60;

/// Where events and views live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// One SQLite file and a local audit file under the data directory: no set-up.
    Embedded,
    /// DynamoDB tables (and CloudWatch Logs for audit), shared by any number of nodes.
    Aws,
}

/// The line format of the audit log group (`APIKEYD_AUDIT_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    /// apikeyd's JSON records (see docs/AUDIT.md).
    Json,
    /// The `[AUTHCHANGES]` lines VAMS 2.5.1 writes to its VAMSAuditAuthChanges group.
    Vams,
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
    /// AWS backend: partitions the change feed is spread over (1..=64), recorded when the tables
    /// are initialised (`aws init`, or at start with APIKEYD_AWS_CREATE_TABLES). Fixed for the life
    /// of the table set: initialising again with another count is refused (no resharding).
    #[arg(
        long,
        env = "APIKEYD_FEED_SHARDS",
        default_value_t = infra::dynamo::FeedShards::ONE,
        global = true
    )]
    pub feed_shards: infra::dynamo::FeedShards,
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
    /// CloudWatch Logs group receiving the audit stream (one stream per UTC day). Default on the AWS
    /// backend: `apikeyd-audit`; on the embedded backend none unless set. `none` disables it.
    #[arg(long, env = "APIKEYD_AUDIT_LOG_GROUP", global = true)]
    pub audit_log_group: Option<String>,
    /// Line format of APIKEYD_AUDIT_LOG_GROUP: `json` (apikeyd's records) or `vams` (VAMS 2.5.1's
    /// `[AUTHCHANGES]` lines, so VAMS's queries and metric filters keep working).
    #[arg(
        long,
        env = "APIKEYD_AUDIT_FORMAT",
        value_enum,
        default_value = "json",
        global = true
    )]
    pub audit_format: AuditFormat,
    /// A second CloudWatch Logs group that receives the same audit trail as VAMS lines, with its own
    /// checkpoint (switch a team over gradually). Default none.
    #[arg(long, env = "APIKEYD_AUDIT_LOG_GROUP_VAMS", global = true)]
    pub audit_log_group_vams: Option<String>,
    /// JSON-lines audit file. Default on the embedded backend: `<data dir>/audit.log`; on the AWS
    /// backend none unless set. `none` disables it.
    #[arg(long, env = "APIKEYD_AUDIT_FILE", global = true)]
    pub audit_file: Option<PathBuf>,
    /// AWS backend: keys each node keeps in memory at most, the most recently used (CLOCK); every
    /// other key costs one consistent `GetItem` on the lookup table when presented, and is then
    /// cached. About 100 bytes a key (docs/SCALING.md); the embedded backend keeps every key.
    #[arg(
        long,
        env = "APIKEYD_CACHE_KEYS",
        default_value_t = 1_000_000,
        value_parser = clap::value_parser!(u64).range(1..=1_000_000_000),
        global = true
    )]
    pub cache_keys: u64,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "APIKEYD_WORKERS", global = true)]
    pub workers: Option<usize>,
    /// Largest total size of request header names and values, in bytes (larger → 431).
    #[arg(long, env = "APIKEYD_MAX_HEADER_BYTES", default_value_t = DEFAULT_MAX_HEADER_BYTES, global = true)]
    pub max_header_bytes: usize,
    /// Refused keys one client IP may present per minute, sustained, before its requests that
    /// authenticate get 429 (0 turns the limit off).
    #[arg(long, env = "APIKEYD_AUTH_FAIL_LIMIT", default_value_t = DEFAULT_AUTH_FAIL_LIMIT, global = true)]
    pub auth_fail_limit: u32,
    /// Refused keys one client IP may present in a burst before the per-minute rate applies.
    #[arg(long, env = "APIKEYD_AUTH_FAIL_BURST", default_value_t = DEFAULT_AUTH_FAIL_BURST, global = true)]
    pub auth_fail_burst: u32,
    /// Peers (comma-separated IPs or CIDR ranges, e.g. a local nginx) trusted to name the client in
    /// the forwarding header (`--client-ip-header`); every other peer is the client itself.
    #[arg(
        long,
        env = "APIKEYD_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<crate::client_info::Cidr>,
    /// Header a trusted proxy names the client in: `x-forwarded-for` (walked from the right past
    /// trusted proxies) or `x-real-ip`.
    #[arg(
        long,
        env = "APIKEYD_CLIENT_IP_HEADER",
        value_enum,
        default_value = "x-forwarded-for",
        global = true
    )]
    pub client_ip_header: crate::client_info::ClientIpHeader,
    /// Milliseconds a client has to send a request body once its head arrived (slower → 408, and the
    /// connection is closed).
    #[arg(long, env = "APIKEYD_BODY_TIMEOUT_MS", default_value_t = DEFAULT_BODY_TIMEOUT_MS, global = true)]
    pub body_timeout_ms: u64,
    /// Open connections one socket peer may hold; more are closed at once (0 turns the cap off;
    /// trusted proxies are exempt).
    #[arg(long, env = "APIKEYD_MAX_CONNECTIONS_PER_IP", default_value_t = DEFAULT_MAX_CONNECTIONS_PER_IP, global = true)]
    pub max_connections_per_ip: usize,
    /// How a refused bearer key is answered: `401` (default, `{"message":"Unauthorized"}`) or `403`,
    /// exactly as VAMS's API Gateway answers (`{"message":"Forbidden"}`), for clients that depend on
    /// it. A request without any key is 401 either way, as there.
    #[arg(
        long,
        env = "APIKEYD_VAMS_REFUSAL_STATUS",
        value_enum,
        default_value = "401",
        global = true
    )]
    pub vams_refusal_status: crate::error::RefusalStatus,
    /// Longest a key may live, in days: when set, create and rotate require an expiry no later
    /// than now + this, and an update may not move one past it. Unset: any expiry, or none (VAMS).
    #[arg(long, env = "APIKEYD_MAX_KEY_LIFETIME_DAYS", value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_key_lifetime_days: Option<u32>,
    /// Leak reports (`POST /auth/exposures`, unauthenticated) one client IP may send per minute,
    /// sustained and in a burst; more get 429 (0 turns the limit off).
    #[arg(long, env = "APIKEYD_EXPOSURE_REPORT_LIMIT", default_value_t = DEFAULT_EXPOSURE_REPORT_LIMIT, global = true)]
    pub exposure_report_limit: u32,
    /// Longest time (seconds) between two writes of the keys' last use and usage counts, which
    /// every successful verification records in memory (`lastUsedAt`, `/usage`); also written at
    /// a graceful shutdown. `0` records nothing (the fields stay as last persisted).
    #[arg(long, env = "APIKEYD_LAST_USED_FLUSH_SECONDS", default_value_t = DEFAULT_LAST_USED_FLUSH_SECONDS, global = true)]
    pub last_used_flush_seconds: u64,
}

impl Settings {
    /// Settings for tests: a free loopback port and the given data directory.
    pub fn for_tests(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            backend: BackendKind::Embedded,
            table_prefix: "apikeyd".into(),
            aws_create_tables: false,
            feed_shards: infra::dynamo::FeedShards::ONE,
            bind: "127.0.0.1:0".into(),
            data_dir: data_dir.into(),
            public_url: None,
            admin_roles: vec!["admin".into()],
            bootstrap_admin: "admin".into(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            workers: Some(2),
            cache_keys: infra::dynamo::DEFAULT_CACHE_KEYS as u64,
            audit_log_group: None,
            audit_format: AuditFormat::Json,
            audit_log_group_vams: None,
            audit_file: None,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            // Off: suites present many refused keys from one address on purpose; the limit has its
            // own tests, which turn it on.
            auth_fail_limit: 0,
            auth_fail_burst: DEFAULT_AUTH_FAIL_BURST,
            trusted_proxies: Vec::new(),
            client_ip_header: crate::client_info::ClientIpHeader::XForwardedFor,
            body_timeout_ms: DEFAULT_BODY_TIMEOUT_MS,
            max_connections_per_ip: DEFAULT_MAX_CONNECTIONS_PER_IP,
            vams_refusal_status: crate::error::RefusalStatus::Unauthorized,
            max_key_lifetime_days: None,
            exposure_report_limit: DEFAULT_EXPOSURE_REPORT_LIMIT,
            last_used_flush_seconds: DEFAULT_LAST_USED_FLUSH_SECONDS,
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

    /// Who the client of a request is: the trusted proxies and the header they set.
    pub fn client_rule(&self) -> crate::client_info::ClientRule {
        crate::client_info::ClientRule {
            trusted: self.trusted_proxies.clone(),
            header: self.client_ip_header,
        }
    }

    /// The SQLite file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("apikeyd.db")
    }

    /// The JSON-lines audit file, if one is kept.
    pub fn audit_path(&self) -> Option<PathBuf> {
        match (&self.audit_file, self.backend) {
            (Some(path), _) if path.as_os_str().is_empty() || path.as_os_str() == "none" => None,
            (Some(path), _) => Some(path.clone()),
            (None, BackendKind::Embedded) => Some(self.data_dir.join("audit.log")),
            (None, BackendKind::Aws) => None,
        }
    }

    /// The CloudWatch Logs audit group, if the audit stream goes there.
    pub fn audit_group(&self) -> Option<String> {
        match (&self.audit_log_group, self.backend) {
            (Some(group), _) if group.is_empty() || group == "none" => None,
            (Some(group), _) => Some(group.clone()),
            (None, BackendKind::Aws) => Some("apikeyd-audit".to_owned()),
            (None, BackendKind::Embedded) => None,
        }
    }

    /// The second, VAMS-format audit group, if one is configured.
    pub fn audit_group_vams(&self) -> Option<String> {
        self.audit_log_group_vams
            .clone()
            .filter(|g| !g.is_empty() && g != "none")
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
