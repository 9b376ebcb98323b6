//! Key usage in the embedded store: one row per key in `api_key_usage`, its own table beside the
//! views (never touched by a projections rebuild, which rewrites only what the log derives).
//!
//! A flush reads the rows it changes, merges by [`Usage::merge`] and writes them back in one
//! `BEGIN IMMEDIATE` transaction, so it never races another writer of the file.
use super::{corrupt, store_error, SqliteStore};
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use projections::usage::{LastUse, Usage, UsageStore};
use projections::StoreError;
use sqlx::{Row, SqlitePool};
use uuid::Uuid;

/// Creates the usage table on a new or an existing file.
pub(super) async fn migrate(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS api_key_usage (
            api_key_id TEXT PRIMARY KEY,
            last_used_at TEXT,
            last_used_from TEXT,
            body TEXT NOT NULL
        )",
    )
    .execute(pool)
    .await
    .map(|_| ())
}

fn last_use_of(row: &sqlx::sqlite::SqliteRow) -> Result<Option<LastUse>, StoreError> {
    let at: Option<String> = row.try_get("last_used_at").map_err(corrupt)?;
    let from: Option<String> = row.try_get("last_used_from").map_err(corrupt)?;
    let Some(at) = at else { return Ok(None) };
    Ok(Some(LastUse {
        at: at.parse::<DateTime<Utc>>().map_err(corrupt)?,
        from: from.and_then(|f| f.parse().ok()),
    }))
}

#[async_trait]
impl UsageStore for SqliteStore {
    async fn last_uses(&self) -> Result<Vec<(Uuid, LastUse)>, StoreError> {
        let rows = sqlx::query(
            "SELECT api_key_id, last_used_at, last_used_from FROM api_key_usage
             WHERE last_used_at IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let mut uses = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("api_key_id").map_err(corrupt)?;
            if let Some(last) = last_use_of(row)? {
                uses.push((id.parse().map_err(corrupt)?, last));
            }
        }
        Ok(uses)
    }

    async fn usage(&self, id: &Uuid) -> Result<Option<Usage>, StoreError> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM api_key_usage WHERE api_key_id = ?")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
        body.map(|b| serde_json::from_str(&b).map_err(corrupt))
            .transpose()
    }

    async fn add(&self, observed: &[(Uuid, Usage)], now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(store_error)?;
        for (id, usage) in observed {
            let id = id.to_string();
            let body: Option<String> =
                sqlx::query_scalar("SELECT body FROM api_key_usage WHERE api_key_id = ?")
                    .bind(&id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(store_error)?;
            let mut merged: Usage = match body {
                Some(b) => serde_json::from_str(&b).map_err(corrupt)?,
                None => Usage::default(),
            };
            merged.merge(usage, now);
            let last = merged.last;
            sqlx::query(
                "INSERT INTO api_key_usage (api_key_id, last_used_at, last_used_from, body)
                 VALUES (?, ?, ?, ?)
                 ON CONFLICT (api_key_id) DO UPDATE SET last_used_at = excluded.last_used_at,
                   last_used_from = excluded.last_used_from, body = excluded.body",
            )
            .bind(&id)
            .bind(last.map(|l| l.at.to_rfc3339_opts(SecondsFormat::Micros, true)))
            .bind(last.and_then(|l| l.from).map(|ip| ip.to_string()))
            .bind(serde_json::to_string(&merged).map_err(corrupt)?)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)
    }
}
