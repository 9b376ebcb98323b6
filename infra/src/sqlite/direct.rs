//! Bulk reads and writes of the views on a direct SQLite connection (rusqlite, on a blocking
//! thread): a start-up load of a million lookup rows and a rebuild writing a million listing rows.
//!
//! sqlx hands every row across threads (its worker thread steps the statement, copies each value
//! and wakes the async reader), which a profile of a start with a million keys shows as most of the
//! time: futex wake-ups, value copies and allocations per row. The request path keeps sqlx; these
//! two scans run here, where each row costs one `sqlite3_step`. See ADR 016.
//!
//! A rebuild also writes like a bulk loader: rows in primary-key order (appends, not random B-tree
//! inserts), the listing's secondary indexes dropped first and built once at the end (a sort instead
//! of a million random inserts), `synchronous=NORMAL` for its own transactions (WAL mode: a crash
//! loses at most the rebuild's last transactions, never the file; the checkpoint is written last,
//! so a cut-short rebuild is completed by the next start folding the whole log).
use super::VIEWS_CHECKPOINT;
use domain::{KeyHash, UserId};
use projections::key_listing::ApiKeyView;
use projections::key_lookup::LookupEntry;
use projections::role_directory::{RoleView, UserRolesView};
use projections::ReadModel;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Rows per transaction of a rebuild: rows arrive in key order, so a transaction appends pages and
/// the WAL grows by about the rows' size; a checkpoint between transactions keeps it bounded.
const ROWS_PER_TRANSACTION: usize = 250_000;

/// Page cache of a rebuild's connection (KiB, as SQLite's negative `cache_size`): the index builds
/// at the end sort in it.
const REBUILD_CACHE_KIB: i64 = 512 * 1024;

/// How much of the file a load maps (bytes): the whole of a file with millions of keys.
const LOAD_MMAP_BYTES: i64 = 8 << 30;

/// Why a bulk read or write of the views failed.
#[derive(Debug, thiserror::Error)]
pub enum DirectError {
    /// The file could not be opened, read or written (locked past the busy timeout, I/O, full).
    #[error("SQLite file {path}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// A stored row that cannot be decoded.
    #[error("{table} row {row}: {problem}")]
    Row {
        table: &'static str,
        row: String,
        problem: String,
    },
    /// A row that cannot be encoded for writing.
    #[error("encoding a {table} row")]
    Encode {
        table: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// The blocking task running the scan was cancelled or panicked.
    #[error("bulk SQLite task failed")]
    Task(#[from] tokio::task::JoinError),
}

impl From<DirectError> for projections::StoreError {
    fn from(error: DirectError) -> Self {
        match error {
            DirectError::Row { .. } | DirectError::Encode { .. } => Self::corrupt(error),
            DirectError::Sqlite { .. } | DirectError::Task(_) => Self::unavailable(error),
        }
    }
}

/// A connection of its own for one bulk operation.
fn connect(path: &Path) -> Result<Connection, DirectError> {
    let sqlite = |source| DirectError::Sqlite {
        path: path.to_owned(),
        source,
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(sqlite)?;
    Ok(conn)
}

fn bad_row(table: &'static str, row: &str, problem: impl std::fmt::Display) -> DirectError {
    DirectError::Row {
        table,
        row: row.to_owned(),
        problem: problem.to_string(),
    }
}

/// How much of the views a load reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Load {
    /// Everything, listing rows and every aggregate version included (verification, tools).
    Full,
    /// What a server starts from: lookup rows (with each key's name and version), roles, users
    /// with roles and the other aggregates' versions; listings are answered from the table.
    Serving,
}

/// The persisted views and their cursor, read in one snapshot (a save committing meanwhile cannot
/// pair old rows with a newer checkpoint).
pub(super) async fn load(path: PathBuf, what: Load) -> Result<(ReadModel, String), DirectError> {
    tokio::task::spawn_blocking(move || {
        let mut conn = connect(&path)?;
        let sqlite = |source| DirectError::Sqlite {
            path: path.clone(),
            source,
        };
        // Pages mapped, not copied by a read(2) each: the scan reads every page of the tables once.
        conn.pragma_update(None, "mmap_size", LOAD_MMAP_BYTES)
            .map_err(sqlite)?;
        let tx = conn.transaction().map_err(sqlite)?;
        let scanned = (|| {
            let mut model = match what {
                Load::Full => ReadModel::default(),
                Load::Serving => ReadModel::compact(),
            };
            if what == Load::Full {
                for view in bodies::<ApiKeyView>(&tx, "api_key_view", "api_key_id")? {
                    model.listing.upsert(view);
                }
            }
            load_lookup(&tx, &mut model)?;
            load_directory(&tx, &mut model)?;
            load_versions(&tx, &mut model, what == Load::Full)?;
            let cursor: Option<String> = tx
                .query_row(
                    "SELECT cursor FROM checkpoints WHERE name = ?",
                    [VIEWS_CHECKPOINT],
                    |row| row.get(0),
                )
                .optional()?;
            Ok::<_, ScanError>((model, cursor.unwrap_or_default()))
        })()
        .map_err(|e| e.with_path(&path))?;
        tx.commit().map_err(sqlite)?;
        Ok(scanned)
    })
    .await?
}

/// A failure inside one scan, before the path is attached.
enum ScanError {
    Sqlite(rusqlite::Error),
    Row(DirectError),
}

impl From<rusqlite::Error> for ScanError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

impl ScanError {
    fn with_path(self, path: &Path) -> DirectError {
        match self {
            Self::Sqlite(source) => DirectError::Sqlite {
                path: path.to_owned(),
                source,
            },
            Self::Row(e) => e,
        }
    }
}

/// Every lookup row. Rows written before the lookup carried names and versions take them from the
/// listing and versions tables (the subqueries run only for those rows).
fn load_lookup(tx: &Transaction<'_>, model: &mut ReadModel) -> Result<(), ScanError> {
    let mut statement = tx.prepare(
        "SELECT l.key_hash, l.api_key_id, l.user_id, l.is_active, l.expires_at,
            l.previous_key_hash, l.previous_key_expires_at,
            COALESCE(l.api_key_name, (SELECT json_extract(v.body, '$.api_key_name')
                FROM api_key_view v WHERE v.api_key_id = l.api_key_id)) AS api_key_name,
            COALESCE(l.version, (SELECT a.version FROM aggregate_versions a
                WHERE a.aggregate = 'ApiKey:' || l.api_key_id)) AS version,
            l.policy
         FROM api_key_lookup l",
    )?;
    let count: i64 = tx.query_row("SELECT count(*) FROM api_key_lookup", [], |row| row.get(0))?;
    model.lookup.reserve(usize::try_from(count).unwrap_or(0));
    let mut rows = statement.query([])?;
    let table = "api_key_lookup";
    while let Some(row) = rows.next()? {
        let id_text = row
            .get_ref(1)?
            .as_str()
            .map_err(|e| ScanError::Row(bad_row(table, "?", e)))?;
        let bad =
            |problem: &dyn std::fmt::Display| ScanError::Row(bad_row(table, id_text, problem));
        let api_key_id = id_text.parse().map_err(|e| bad(&e))?;
        let hash = KeyHash::from_hex(row.get_ref(0)?.as_str().map_err(|e| bad(&e))?)
            .map_err(|e| bad(&e))?;
        let user = row.get_ref(2)?.as_str().map_err(|e| bad(&e))?;
        let expires_at = match row.get_ref(4)?.as_str_or_null().map_err(|e| bad(&e))? {
            Some(text) => Some(crate::stored_time::read(text).map_err(|e| bad(&e))?),
            None => None,
        };
        let policy = match row.get_ref(9)?.as_str_or_null().map_err(|e| bad(&e))? {
            Some(text) => crate::stored_policy::read(text).map_err(|e| bad(&e))?,
            None => domain::KeyPolicy::default(),
        };
        let entry = LookupEntry {
            api_key_id,
            user_id: UserId::from_stored(user),
            is_active: row.get::<_, i64>(3)? != 0,
            expires_at,
            policy: LookupEntry::policy_of(&policy),
        };
        let grace = match (
            row.get_ref(5)?.as_str_or_null().map_err(|e| bad(&e))?,
            row.get_ref(6)?.as_str_or_null().map_err(|e| bad(&e))?,
        ) {
            (Some(hash), Some(until)) => Some(domain::api_key::Grace {
                key_hash: KeyHash::from_hex(hash).map_err(|e| bad(&e))?,
                until: crate::stored_time::read(until).map_err(|e| bad(&e))?,
            }),
            _ => None,
        };
        let name = row.get_ref(7)?.as_str_or_null().map_err(|e| bad(&e))?;
        let version = row.get::<_, Option<i64>>(8)?.unwrap_or(0) as u64;
        model
            .lookup
            .insert_at_version(hash, entry, name.unwrap_or_default(), version);
        if grace.is_some() {
            model.lookup.set_grace(&api_key_id, grace);
        }
    }
    Ok(())
}

fn bodies<T: serde::de::DeserializeOwned>(
    tx: &Transaction<'_>,
    table: &'static str,
    key_column: &str,
) -> Result<Vec<T>, ScanError> {
    let mut statement = tx.prepare(&format!("SELECT {key_column}, body FROM {table}"))?;
    let mut rows = statement.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let key: String = row.get(0)?;
        let body = row
            .get_ref(1)?
            .as_str()
            .map_err(|e| ScanError::Row(bad_row(table, &key, e)))?;
        out.push(serde_json::from_str(body).map_err(|e| ScanError::Row(bad_row(table, &key, e)))?);
    }
    Ok(out)
}

fn load_directory(tx: &Transaction<'_>, model: &mut ReadModel) -> Result<(), ScanError> {
    for view in bodies::<RoleView>(tx, "role_view", "role_name")? {
        model
            .directory
            .roles
            .insert(view.definition.role_name.clone(), view);
    }
    for view in bodies::<UserRolesView>(tx, "user_roles_view", "user_id")? {
        model.directory.users.insert(view.user_id.clone(), view);
    }
    Ok(())
}

/// Aggregate versions; `keys: false` skips the keys' (a compact model has the live keys' from their
/// lookup rows, and a deleted key's is only needed to skip a re-read, which this store's strictly
/// ordered feed never does).
fn load_versions(tx: &Transaction<'_>, model: &mut ReadModel, keys: bool) -> Result<(), ScanError> {
    let mut statement = tx.prepare(match keys {
        true => "SELECT aggregate, version FROM aggregate_versions",
        false => {
            "SELECT aggregate, version FROM aggregate_versions
             WHERE aggregate < 'ApiKey:' OR aggregate >= 'ApiKey;'"
        }
    })?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let version: i64 = row.get(1)?;
        model.set_version(row.get(0)?, version as u64);
    }
    Ok(())
}

/// Replaces every view with `model` at `cursor`: the first transaction clears the views and their
/// checkpoint, the last sets it; the listing's secondary indexes are rebuilt after the rows.
pub(super) async fn replace_all(
    path: PathBuf,
    model: &ReadModel,
    cursor: &str,
) -> Result<(), DirectError> {
    // Encoded here, in parallel with nothing else to do: the blocking task gets owned rows.
    let rows = Rows::of(model)?;
    let cursor = cursor.to_owned();
    tokio::task::spawn_blocking(move || write_all(&path, rows, &cursor)).await?
}

/// Everything a rebuild writes, encoded and sorted by each table's primary key.
struct Rows {
    /// (api_key_id, body), by id.
    listing: Vec<(String, String)>,
    /// (key_hash, api_key_id, user_id, is_active, expires_at, api_key_name, version), by hash.
    lookup: Vec<LookupRow>,
    roles: Vec<(String, String)>,
    users: Vec<(String, String)>,
    versions: Vec<(String, u64)>,
}

struct LookupRow {
    key_hash: String,
    api_key_id: String,
    user_id: String,
    is_active: bool,
    expires_at: Option<String>,
    api_key_name: String,
    version: u64,
    /// A rotated key's previous secret and the end of its grace.
    previous_key_hash: Option<String>,
    previous_key_expires_at: Option<String>,
    /// The key's settings as JSON, when it has any.
    policy: Option<String>,
}

fn encode<T: serde::Serialize>(table: &'static str, value: &T) -> Result<String, DirectError> {
    serde_json::to_string(value).map_err(|source| DirectError::Encode { table, source })
}

impl Rows {
    fn of(model: &ReadModel) -> Result<Self, DirectError> {
        let mut listing = Vec::with_capacity(model.listing.len());
        let mut lookup = Vec::with_capacity(model.listing.len());
        for view in model.listing.iter() {
            listing.push((view.api_key_id.to_string(), encode("api_key_view", view)?));
            lookup.push(LookupRow::of(view));
        }
        listing.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        lookup.sort_unstable_by(|a, b| a.key_hash.cmp(&b.key_hash));
        let roles = model
            .directory
            .roles
            .iter()
            .map(|(name, view)| Ok((name.as_ref().to_owned(), encode("role_view", view)?)))
            .collect::<Result<_, DirectError>>()?;
        let users = model
            .directory
            .users
            .iter()
            .map(|(user, view)| Ok((user.as_ref().to_owned(), encode("user_roles_view", view)?)))
            .collect::<Result<_, DirectError>>()?;
        let mut versions: Vec<(String, u64)> = model.versions().collect();
        versions.sort_unstable();
        Ok(Self {
            listing,
            lookup,
            roles,
            users,
            versions,
        })
    }
}

impl LookupRow {
    fn of(view: &ApiKeyView) -> Self {
        Self {
            key_hash: view.key_hash.to_hex(),
            api_key_id: view.api_key_id.to_string(),
            user_id: view.user_id.as_ref().to_owned(),
            is_active: view.is_active,
            expires_at: view.expires_at.map(crate::stored_time::write),
            api_key_name: view.api_key_name.clone(),
            version: view.version,
            previous_key_hash: view.secret.previous_key.map(|g| g.key_hash.to_hex()),
            previous_key_expires_at: view
                .secret
                .previous_key
                .map(|g| crate::stored_time::write(g.until)),
            policy: crate::stored_policy::write(&view.policy),
        }
    }
}

fn write_all(path: &Path, rows: Rows, cursor: &str) -> Result<(), DirectError> {
    let mut conn = connect(path)?;
    let sqlite = |source| DirectError::Sqlite {
        path: path.to_owned(),
        source,
    };
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(&sqlite)?;
    conn.pragma_update(None, "cache_size", -REBUILD_CACHE_KIB)
        .map_err(&sqlite)?;
    let mut phase = Phase::start();
    let indexes = {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(&sqlite)?;
        let mut indexes = Vec::new();
        for table in ["api_key_view", "api_key_lookup"] {
            indexes.extend(recreate(&tx, table).map_err(&sqlite)?);
        }
        // Versions are overwritten, not cleared, as every save does.
        for table in ["role_view", "user_roles_view"] {
            tx.execute(&format!("DELETE FROM {table}"), [])
                .map_err(&sqlite)?;
        }
        set_checkpoint(&tx, "").map_err(&sqlite)?;
        insert_pairs(&tx, "role_view", "role_name", &rows.roles).map_err(&sqlite)?;
        insert_pairs(&tx, "user_roles_view", "user_id", &rows.users).map_err(&sqlite)?;
        tx.commit().map_err(&sqlite)?;
        indexes
    };
    phase.done("emptied tables", 2);
    for chunk in rows.listing.chunks(ROWS_PER_TRANSACTION) {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(&sqlite)?;
        insert_pairs(&tx, "api_key_view", "api_key_id", chunk).map_err(&sqlite)?;
        tx.commit().map_err(&sqlite)?;
    }
    phase.done("listing rows", rows.listing.len());
    for chunk in rows.lookup.chunks(ROWS_PER_TRANSACTION) {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(&sqlite)?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO api_key_lookup
                     (key_hash, api_key_id, user_id, is_active, expires_at, api_key_name, version,
                      previous_key_hash, previous_key_expires_at, policy)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .map_err(&sqlite)?;
            for row in chunk {
                insert
                    .execute(params![
                        row.key_hash,
                        row.api_key_id,
                        row.user_id,
                        row.is_active as i64,
                        row.expires_at,
                        row.api_key_name,
                        row.version as i64,
                        row.previous_key_hash,
                        row.previous_key_expires_at,
                        row.policy,
                    ])
                    .map_err(&sqlite)?;
            }
        }
        tx.commit().map_err(&sqlite)?;
    }
    phase.done("lookup rows", rows.lookup.len());
    for chunk in rows.versions.chunks(ROWS_PER_TRANSACTION) {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(&sqlite)?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT OR REPLACE INTO aggregate_versions (aggregate, version) VALUES (?, ?)",
                )
                .map_err(&sqlite)?;
            for (aggregate, version) in chunk {
                insert
                    .execute(params![aggregate, *version as i64])
                    .map_err(&sqlite)?;
            }
        }
        tx.commit().map_err(&sqlite)?;
    }
    // The last commit syncs the WAL, and with it every rebuild transaction before it.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(&sqlite)?;
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(&sqlite)?;
    phase.done("versions", rows.versions.len());
    for create in &indexes {
        tx.execute(create, []).map_err(&sqlite)?;
    }
    set_checkpoint(&tx, cursor).map_err(&sqlite)?;
    tx.commit().map_err(&sqlite)?;
    phase.done("sort indexes", indexes.len());
    Ok(())
}

/// Times the phases of a rebuild's writes (logged at debug level).
struct Phase(std::time::Instant);

impl Phase {
    fn start() -> Self {
        Self(std::time::Instant::now())
    }

    fn done(&mut self, what: &str, rows: usize) {
        tracing::debug!(
            what,
            rows,
            seconds = self.0.elapsed().as_secs_f64(),
            "rebuild phase written"
        );
        self.0 = std::time::Instant::now();
    }
}

/// Empties `table` by dropping it and creating it again from its own stored definition (columns
/// added by migrations included): the key-ordered rows then append to fresh B-trees instead of
/// following a delete of every row. Returns the statements of its explicit indexes, to create
/// once the rows are in (a sort each, instead of a random insert per row).
fn recreate(tx: &Transaction<'_>, table: &str) -> Result<Vec<String>, rusqlite::Error> {
    let definition: String = tx.query_row(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
        [table],
        |row| row.get(0),
    )?;
    let mut statement = tx.prepare(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
    )?;
    let indexes = statement
        .query_map([table], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    tx.execute(&format!("DROP TABLE {table}"), [])?;
    tx.execute(&definition, [])?;
    Ok(indexes)
}

fn insert_pairs(
    tx: &Transaction<'_>,
    table: &str,
    key_column: &str,
    rows: &[(String, String)],
) -> Result<(), rusqlite::Error> {
    let mut insert = tx.prepare(&format!(
        "INSERT INTO {table} ({key_column}, body) VALUES (?, ?)"
    ))?;
    for (key, body) in rows {
        insert.execute(params![key, body])?;
    }
    Ok(())
}

fn set_checkpoint(tx: &Transaction<'_>, cursor: &str) -> Result<(), rusqlite::Error> {
    tx.execute(
        "INSERT OR REPLACE INTO checkpoints (name, cursor) VALUES (?, ?)",
        params![VIEWS_CHECKPOINT, cursor],
    )?;
    Ok(())
}
