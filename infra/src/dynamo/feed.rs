//! The feed table read as the projections' event log.
use super::item::s;
use super::item::{get_n, get_s, Item};
use super::{corrupt, unavailable, DynamoStore, FEED_OVERLAP};
use async_trait::async_trait;
use chrono::Utc;
use projections::{DomainEvent, EventFeed, RecordedEvent, StoreError};
use std::collections::HashMap;

/// Decodes an `events` or `feed` item.
fn recorded(item: &Item) -> Result<RecordedEvent, StoreError> {
    let text =
        |name: &str| get_s(item, name).ok_or_else(|| corrupt(format!("feed item lacks {name}")));
    let aggregate_type = text("AggregateType")?.to_owned();
    let payload: serde_json::Value = serde_json::from_str(text("Payload")?).map_err(corrupt)?;
    let metadata: HashMap<String, String> =
        serde_json::from_str(text("Metadata")?).unwrap_or_default();
    let recorded_at = crate::stored_time::read(text("RecordedAt")?).map_err(corrupt)?;
    Ok(RecordedEvent {
        cursor: text("Cursor")?.to_owned(),
        event: DomainEvent::decode(&aggregate_type, payload).map_err(corrupt)?,
        aggregate_type,
        aggregate_id: text("AggregateId")?.to_owned(),
        sequence: get_n(item, "AggregateIdSequence")
            .ok_or_else(|| corrupt("feed item lacks sequence"))?,
        metadata,
        recorded_at,
    })
}

impl DynamoStore {
    /// One shard's first `limit` events after `cursor`, in cursor order, page by page.
    async fn shard_events_after(
        &self,
        partition: &str,
        cursor: &str,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut events = Vec::new();
        let mut start = None;
        while events.len() < limit {
            let mut query = self
                .client
                .query()
                .table_name(&self.tables.feed)
                .expression_attribute_values(":p", s(partition));
            // DynamoDB refuses an empty string in a key condition: "" means "from the start".
            query = if cursor.is_empty() {
                query.key_condition_expression("FeedPartition = :p")
            } else {
                query
                    .key_condition_expression("FeedPartition = :p AND #c > :c")
                    .expression_attribute_names("#c", "Cursor")
                    .expression_attribute_values(":c", s(cursor))
            };
            let page = query
                .consistent_read(true)
                .limit((limit - events.len()).min(1000) as i32)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items() {
                events.push(recorded(item)?);
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        Ok(events)
    }
}

#[async_trait]
impl EventFeed for DynamoStore {
    /// Every shard's first `limit` events after `cursor`, read concurrently and merged: the
    /// global first `limit` is among them, since each shard is in cursor order.
    async fn events_after(
        &self,
        cursor: &str,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let partitions = self.feed_shards().await?.partitions();
        let reads = partitions
            .iter()
            .map(|partition| self.shard_events_after(partition, cursor, limit));
        let mut events: Vec<RecordedEvent> = futures::future::try_join_all(reads)
            .await?
            .into_iter()
            .flatten()
            .collect();
        if partitions.len() > 1 {
            events.sort_by(|a, b| a.cursor.cmp(&b.cursor));
            events.truncate(limit);
        }
        Ok(events)
    }

    async fn aggregate_events(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let items = self
            .stream_items(aggregate_type, aggregate_id, 0)
            .await
            .map_err(unavailable)?;
        items.iter().map(recorded).collect()
    }

    /// A commit stamped more than [`FEED_OVERLAP`] ago is visible by now.
    fn settled_before(&self) -> Option<String> {
        Some(crate::stored_time::write_sortable(
            Utc::now() - FEED_OVERLAP,
        ))
    }

    /// Steps back over [`FEED_OVERLAP`]: the timestamp alone sorts before every cursor carrying it.
    fn replay_from(&self, checkpoint: &str) -> String {
        let stamp = checkpoint.split('#').next().unwrap_or("");
        match crate::stored_time::read(stamp) {
            Ok(at) => crate::stored_time::write_sortable(at - FEED_OVERLAP),
            Err(_) => String::new(),
        }
    }
}
