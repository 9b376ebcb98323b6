//! The event log in global order, decoded for the projections.
use super::{corrupt, cursor_of, position_of, store_error, SqliteStore};
use async_trait::async_trait;
use projections::{DomainEvent, EventFeed, RecordedEvent, StoreError};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use std::collections::HashMap;

const COLUMNS: &str =
    "position, aggregate_type, aggregate_id, sequence, payload, metadata, recorded_at";

#[async_trait]
impl EventFeed for SqliteStore {
    async fn events_after(
        &self,
        cursor: &str,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let position = position_of(cursor)?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?"
        ))
        .bind(position)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter().map(decode).collect()
    }

    async fn aggregate_events(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM events WHERE aggregate_type = ? AND aggregate_id = ? ORDER BY sequence"
        ))
        .bind(aggregate_type)
        .bind(aggregate_id)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter().map(decode).collect()
    }
}

/// A row the store cannot decode stops the projections (loudly) rather than being skipped: skipping
/// a deletion would leave a revoked key working.
fn decode(row: &SqliteRow) -> Result<RecordedEvent, StoreError> {
    let get = |col: &str| row.try_get::<String, _>(col).map_err(corrupt);
    let aggregate_type = get("aggregate_type")?;
    let metadata: HashMap<String, String> =
        serde_json::from_str(&get("metadata")?).unwrap_or_default();
    let recorded_at = crate::stored_time::read(&get("recorded_at")?).map_err(corrupt)?;
    let event = DomainEvent::decode_str(&aggregate_type, &get("payload")?).map_err(corrupt)?;
    Ok(RecordedEvent {
        cursor: cursor_of(row.try_get::<i64, _>("position").map_err(corrupt)?),
        aggregate_type,
        aggregate_id: get("aggregate_id")?,
        sequence: row.try_get::<i64, _>("sequence").map_err(corrupt)? as u64,
        event,
        metadata,
        recorded_at,
    })
}
