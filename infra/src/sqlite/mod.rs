//! The embedded backend: one SQLite file in WAL mode.
//!
//! Events are appended by one writer task per process that commits whatever commands are queued in
//! one transaction (group commit, see `writer`). Every write transaction starts with `BEGIN IMMEDIATE`: it takes the write lock up front, so a
//! transaction that reads before writing (the hash chain) waits for its turn instead of failing to
//! upgrade its lock under concurrency.
//!
//! Tables: `events` (the log; `position` is the global order), `unique_claims` (names held by live
//! keys), `api_key_view`, `api_key_lookup`, `role_view`, `user_roles_view` (persisted projections) and
//! `checkpoints` (how far each consumer has read the log), `aggregate_versions` (the last sequence folded
//! into the views per aggregate), `api_key_usage` (last use and usage counts, not derived from the log).
pub mod baseline;
mod direct;
mod event_repository;
mod feed;
mod key_views;
mod usage;
mod view_store;
mod writer;

pub use direct::DirectError;
pub use writer::WriteError;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::path::Path;
use std::time::Duration;

/// Statements creating every table; safe to run on every start.
const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS events (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        aggregate_type TEXT NOT NULL,
        aggregate_id TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        event_type TEXT NOT NULL,
        event_version TEXT NOT NULL,
        payload TEXT NOT NULL,
        metadata TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        chain_hash TEXT NOT NULL DEFAULT '',
        UNIQUE (aggregate_type, aggregate_id, sequence)
    )",
    "CREATE TABLE IF NOT EXISTS unique_claims (
        scope TEXT NOT NULL,
        value TEXT NOT NULL,
        owner TEXT NOT NULL,
        PRIMARY KEY (scope, value)
    )",
    "CREATE INDEX IF NOT EXISTS unique_claims_owner ON unique_claims (scope, owner)",
    "CREATE TABLE IF NOT EXISTS api_key_view (api_key_id TEXT PRIMARY KEY, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS api_key_lookup (
        key_hash TEXT PRIMARY KEY,
        api_key_id TEXT NOT NULL UNIQUE,
        user_id TEXT NOT NULL,
        is_active INTEGER NOT NULL,
        expires_at TEXT
    )",
    "CREATE TABLE IF NOT EXISTS role_view (role_name TEXT PRIMARY KEY, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS user_roles_view (user_id TEXT PRIMARY KEY, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, cursor TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS aggregate_versions (aggregate TEXT PRIMARY KEY, version INTEGER NOT NULL)",
];

/// Checkpoint name of the persisted views.
const VIEWS_CHECKPOINT: &str = "views";

/// A handle on the SQLite file; cheap to clone. Implements the event repository, the event feed and
/// the view store.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The database file, for the bulk scans that open their own connection.
    path: std::path::PathBuf,
    writer: writer::Writer,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and its tables, and starts this handle's writer
    /// task on the current runtime (shared by its clones).
    pub async fn open(path: &Path) -> Result<Self, sqlx::Error> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a committed event survives power loss, not just a process crash.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            // 64 MiB of page cache per connection (allocated as used): a rebuild's random-key
            // inserts otherwise spill and re-read index pages all the time.
            .pragma("cache_size", "-65536");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        for statement in SCHEMA {
            sqlx::query(statement).execute(&pool).await?;
        }
        key_views::migrate(&pool).await?;
        usage::migrate(&pool).await?;
        let writer = writer::Writer::spawn(pool.clone());
        Ok(Self {
            pool,
            path: path.to_owned(),
            writer,
        })
    }

    /// The connection pool (tests and tools).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Whether the store answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// The feed cursor of a log position: zero-padded so cursors sort like positions.
pub fn cursor_of(position: i64) -> String {
    format!("{position:020}")
}

/// The log position of a feed cursor (`""` is the beginning).
pub fn position_of(cursor: &str) -> Result<i64, projections::StoreError> {
    if cursor.is_empty() {
        return Ok(0);
    }
    cursor
        .parse()
        .map_err(|_| SqliteError::Cursor(cursor.to_owned()).into())
}

/// Why the SQLite store failed, as the projection layer's [`projections::StoreError`] carries it.
#[derive(Debug, thiserror::Error)]
pub enum SqliteError {
    /// The driver failed: locked past the busy timeout, I/O, a full disk, a closed pool.
    #[error("SQLite")]
    Driver(#[from] sqlx::Error),
    /// A stored value that cannot be decoded.
    #[error("undecodable stored value")]
    Decode(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A feed cursor that is not a log position.
    #[error("bad cursor {0:?}")]
    Cursor(String),
}

impl From<SqliteError> for projections::StoreError {
    fn from(error: SqliteError) -> Self {
        match error {
            SqliteError::Driver(sqlx::Error::Decode(_) | sqlx::Error::ColumnDecode { .. })
            | SqliteError::Decode(_)
            | SqliteError::Cursor(_) => Self::corrupt(error),
            SqliteError::Driver(_) => Self::unavailable(error),
        }
    }
}

/// Maps a driver error to the projection layer's error.
fn store_error(e: sqlx::Error) -> projections::StoreError {
    SqliteError::Driver(e).into()
}

/// A stored value that cannot be decoded, as the projection layer's error.
fn corrupt(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> projections::StoreError {
    SqliteError::Decode(e.into()).into()
}

#[async_trait::async_trait]
impl crate::chain::ChainedLog for SqliteStore {
    async fn stored_events(
        &self,
    ) -> Result<Vec<crate::chain::StoredEvent>, projections::StoreError> {
        use sqlx::Row;
        let rows = sqlx::query(
            "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, chain_hash
             FROM events ORDER BY aggregate_type, aggregate_id, sequence",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter()
            .map(|row| {
                let text = |c: &str| row.try_get::<String, _>(c).map_err(store_error);
                Ok(crate::chain::StoredEvent {
                    aggregate_type: text("aggregate_type")?,
                    aggregate_id: text("aggregate_id")?,
                    sequence: row.try_get::<i64, _>("sequence").map_err(store_error)? as u64,
                    event_type: text("event_type")?,
                    event_version: text("event_version")?,
                    payload: text("payload")?,
                    metadata: text("metadata")?,
                    chain_hash: text("chain_hash")?,
                })
            })
            .collect()
    }

    async fn mirrored_events(
        &self,
    ) -> Result<Option<Vec<crate::chain::StoredEvent>>, projections::StoreError> {
        Ok(None)
    }

    async fn recorded_versions(
        &self,
    ) -> Result<std::collections::HashMap<String, u64>, projections::StoreError> {
        use sqlx::Row;
        let rows = sqlx::query("SELECT aggregate, version FROM aggregate_versions")
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|row| {
                let version: i64 = row.try_get("version").map_err(store_error)?;
                Ok((
                    row.try_get("aggregate").map_err(store_error)?,
                    version as u64,
                ))
            })
            .collect()
    }
}
