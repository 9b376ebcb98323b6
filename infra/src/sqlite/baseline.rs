//! The embedded store's own limit, the baseline of the creates/s benchmark: one thread commits one
//! 2-row transaction at a time (an event row and a name claim, the shape of a create) on a fresh
//! SQLite file opened as the store is (WAL, `synchronous=FULL`). Each transaction is a single driver
//! call (no parameter binding, no savepoints), so what it measures is SQLite and the disk's fsync.
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};
use std::path::Path;
use std::time::{Duration, Instant};

/// Commits into a new database at `path` (an empty directory's file) for `budget` or `max` commits,
/// whichever comes first; returns the commits made and the time they took.
pub async fn commit_rate(
    path: &Path,
    budget: Duration,
    max: u64,
) -> Result<(u64, Duration), sqlx::Error> {
    let mut db = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await?;
    sqlx::raw_sql(
        "CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, aggregate_id TEXT NOT NULL,
            sequence INTEGER NOT NULL, payload TEXT NOT NULL, UNIQUE (aggregate_id, sequence));
         CREATE TABLE claims (value TEXT PRIMARY KEY, owner TEXT NOT NULL);",
    )
    .execute(&mut db)
    .await?;
    let started = Instant::now();
    let mut done = 0u64;
    while done < max && started.elapsed() < budget {
        let id = uuid::Uuid::new_v4();
        let commit = format!(
            "BEGIN IMMEDIATE;
             INSERT INTO events (aggregate_id, sequence, payload) VALUES ('{id}', 1, '{{\"n\":{done}}}');
             INSERT INTO claims (value, owner) VALUES ('name-{done}', '{id}');
             COMMIT;"
        );
        sqlx::raw_sql(&commit).execute(&mut db).await?;
        done += 1;
    }
    let took = started.elapsed();
    db.close().await?;
    Ok((done, took))
}
