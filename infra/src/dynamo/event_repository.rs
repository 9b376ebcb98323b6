//! cqrs-es `PersistedEventRepository` on DynamoDB: each commit is one TransactWriteItems holding the
//! events (conditional on their sequence being free), their feed copies and the unique claims.
use super::item::{get_n, get_s, n, s, Item};
use super::{DynamoStore, FeedShards, FeedShardsError};
use crate::unique::{guard_version, observed_guard, AdminGuard, ClaimAction, UniqueViolation};
use crate::unique::{TransactionTooLarge, ADMIN_GUARD_SCOPE, ADMIN_GUARD_VALUE, RULES};
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use chrono::Utc;
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use serde_json::Value;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// Items per transaction: DynamoDB's limit (and DynamoDB Local's since 2.0).
const MAX_TRANSACTION_ITEMS: usize = 100;

/// Streams whose head link a process remembers; past this the memory starts over (a miss costs one
/// read, never a wrong link).
const MAX_CHAIN_HEADS: usize = 100_000;

/// Per stream key, the sequence and chain link of the newest event this process read or wrote.
#[derive(Clone, Debug, Default)]
pub(super) struct ChainHeads(std::sync::Arc<std::sync::Mutex<HashMap<String, (usize, String)>>>);

impl ChainHeads {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (usize, String)>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The link of event `sequence` of `stream`, when it is the head remembered.
    fn link_of(&self, stream: &str, sequence: usize) -> Option<String> {
        match self.lock().get(stream) {
            Some((head, link)) if *head == sequence => Some(link.clone()),
            _ => None,
        }
    }

    /// Remembers a head, keeping the newest when two commits race to tell it.
    fn remember(&self, stream: String, sequence: usize, link: String) {
        let mut heads = self.lock();
        if heads.len() >= MAX_CHAIN_HEADS && !heads.contains_key(&stream) {
            heads.clear();
        }
        let entry = heads.entry(stream).or_insert((0, String::new()));
        if sequence >= entry.0 {
            *entry = (sequence, link);
        }
    }
}

/// What each transaction item is, to explain a cancellation.
#[derive(Debug, Clone)]
enum Slot {
    Event,
    Feed,
    Claim { scope: String, value: String },
    Release,
    Guard,
}

/// The admin guard's key in the unique table.
fn guard_key() -> AttributeValue {
    s(format!("{ADMIN_GUARD_SCOPE}#{ADMIN_GUARD_VALUE}"))
}

fn connection<E: std::error::Error + Send + Sync + 'static>(e: E) -> PersistenceError {
    PersistenceError::ConnectionError(Box::new(e))
}

fn build_error(e: aws_sdk_dynamodb::error::BuildError) -> PersistenceError {
    PersistenceError::UnknownError(Box::new(e))
}

/// The `events` table's hash key for an aggregate.
pub(super) fn stream_key(aggregate_type: &str, aggregate_id: &str) -> String {
    format!("{aggregate_type}:{aggregate_id}")
}

/// The feed cursor of an event: commit time, then identity, so cursors are unique and sort by time.
pub(super) fn feed_cursor(at: &str, event: &SerializedEvent) -> String {
    format!(
        "{at}#{}#{}#{:010}",
        event.aggregate_type, event.aggregate_id, event.sequence
    )
}

fn event_item(event: &SerializedEvent, cursor: &str, at: &str, previous: &str) -> Item {
    let stored = crate::chain::StoredEvent::about_to_store(event);
    let link = stored.expected_link(previous);
    Item::from([
        ("ChainHash".into(), s(link)),
        (
            "AggregateTypeAndId".into(),
            s(stream_key(&event.aggregate_type, &event.aggregate_id)),
        ),
        ("AggregateIdSequence".into(), n(event.sequence)),
        ("AggregateType".into(), s(&event.aggregate_type)),
        ("AggregateId".into(), s(&event.aggregate_id)),
        ("EventType".into(), s(&event.event_type)),
        ("EventVersion".into(), s(&event.event_version)),
        ("Payload".into(), s(stored.payload)),
        ("Metadata".into(), s(stored.metadata)),
        ("Cursor".into(), s(cursor)),
        ("RecordedAt".into(), s(at)),
    ])
}

fn serialized(item: &Item) -> Result<SerializedEvent, PersistenceError> {
    let text = |name: &str| {
        get_s(item, name).ok_or_else(|| {
            PersistenceError::DeserializationError(format!("event item lacks {name}").into())
        })
    };
    Ok(SerializedEvent {
        aggregate_id: text("AggregateId")?.to_owned(),
        sequence: get_n(item, "AggregateIdSequence").unwrap_or(0) as usize,
        aggregate_type: text("AggregateType")?.to_owned(),
        event_type: text("EventType")?.to_owned(),
        event_version: text("EventVersion")?.to_owned(),
        payload: serde_json::from_str(text("Payload")?)?,
        metadata: serde_json::from_str(text("Metadata")?)?,
    })
}

impl DynamoStore {
    /// Every item of one aggregate's stream after `after`, consistently read, in sequence order.
    pub(super) async fn stream_items(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        after: usize,
    ) -> Result<Vec<Item>, aws_sdk_dynamodb::Error> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.tables.events)
                .key_condition_expression("AggregateTypeAndId = :k AND AggregateIdSequence > :s")
                .expression_attribute_values(":k", s(stream_key(aggregate_type, aggregate_id)))
                .expression_attribute_values(":s", n(after))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            items.extend(page.items().iter().cloned());
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    async fn events_of<A: Aggregate>(
        &self,
        aggregate_id: &str,
        after: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let items = self
            .stream_items(A::TYPE, aggregate_id, after)
            .await
            .map_err(connection)?;
        if let Some(last) = items.last() {
            let sequence = get_n(last, "AggregateIdSequence").unwrap_or(0) as usize;
            let link = get_s(last, "ChainHash").unwrap_or_default().to_owned();
            self.chain_heads
                .remember(stream_key(A::TYPE, aggregate_id), sequence, link);
        }
        items.iter().map(serialized).collect()
    }

    fn claim_items(
        &self,
        event: &SerializedEvent,
        items: &mut Vec<(TransactWriteItem, Slot)>,
    ) -> Result<(), PersistenceError> {
        for rule in RULES {
            match rule.action(&event.aggregate_type, &event.event_type, &event.payload) {
                Some(ClaimAction::Claim { scope, value }) => {
                    let put = Put::builder()
                        .table_name(&self.tables.unique)
                        .item("UniqueKey", s(format!("{scope}#{value}")))
                        .item("Owner", s(&event.aggregate_id))
                        .condition_expression("attribute_not_exists(UniqueKey)")
                        .build()
                        .map_err(build_error)?;
                    let slot = Slot::Claim {
                        scope: scope.to_owned(),
                        value,
                    };
                    items.push((TransactWriteItem::builder().put(put).build(), slot));
                }
                Some(ClaimAction::Release {
                    scope,
                    value: Some(value),
                }) => {
                    let delete = Delete::builder()
                        .table_name(&self.tables.unique)
                        .key("UniqueKey", s(format!("{scope}#{value}")))
                        .condition_expression("attribute_not_exists(UniqueKey) OR #o = :o")
                        .expression_attribute_names("#o", "Owner")
                        .expression_attribute_values(":o", s(&event.aggregate_id))
                        .build()
                        .map_err(build_error)?;
                    items.push((
                        TransactWriteItem::builder().delete(delete).build(),
                        Slot::Release,
                    ));
                }
                Some(ClaimAction::Release { value: None, .. }) | None => {}
            }
        }
        Ok(())
    }

    /// Moves the admin guard from `observed` to the next version, on condition it has not moved.
    fn guard_item(&self, observed: u64) -> Result<TransactWriteItem, PersistenceError> {
        let put = Put::builder()
            .table_name(&self.tables.unique)
            .item("UniqueKey", guard_key())
            .item("Owner", s((observed + 1).to_string()));
        let put = match observed {
            0 => put.condition_expression("attribute_not_exists(UniqueKey)"),
            _ => put
                .condition_expression("#o = :o")
                .expression_attribute_names("#o", "Owner")
                .expression_attribute_values(":o", s(observed.to_string())),
        };
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(build_error)?)
            .build())
    }

    /// The chain link of the event before `event` in its stream (empty for the first event).
    async fn previous_link(&self, event: &SerializedEvent) -> Result<String, PersistenceError> {
        if event.sequence <= 1 {
            return Ok(String::new());
        }
        let stream = stream_key(&event.aggregate_type, &event.aggregate_id);
        if let Some(link) = self.chain_heads.link_of(&stream, event.sequence - 1) {
            return Ok(link);
        }
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.events)
            .key(
                "AggregateTypeAndId",
                s(stream_key(&event.aggregate_type, &event.aggregate_id)),
            )
            .key("AggregateIdSequence", n(event.sequence - 1))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| connection(aws_sdk_dynamodb::Error::from(e)))?;
        Ok(out
            .item()
            .and_then(|i| get_s(i, "ChainHash"))
            .unwrap_or_default()
            .to_owned())
    }

    /// The chain link before the first event of each stream in `events` (a commit may span several
    /// aggregates, e.g. a role deletion).
    async fn previous_links(
        &self,
        events: &[SerializedEvent],
    ) -> Result<HashMap<String, String>, PersistenceError> {
        let mut links = HashMap::new();
        for event in events {
            if let Entry::Vacant(slot) =
                links.entry(stream_key(&event.aggregate_type, &event.aggregate_id))
            {
                slot.insert(self.previous_link(event).await?);
            }
        }
        Ok(links)
    }

    /// The commit's items; `previous` ends holding each stream's new head link.
    fn transaction(
        &self,
        events: &[SerializedEvent],
        previous: &mut HashMap<String, String>,
        shards: FeedShards,
    ) -> Result<Vec<(TransactWriteItem, Slot)>, PersistenceError> {
        let now = Utc::now();
        let mut items = Vec::new();
        for (i, event) in events.iter().enumerate() {
            // One nanosecond apart, so the feed keeps the commit's order even across aggregates
            // (a role deletion's revocations come before the deletion, as on SQLite).
            let at =
                crate::stored_time::write_sortable(now + chrono::Duration::nanoseconds(i as i64));
            let cursor = feed_cursor(&at, event);
            let link = previous
                .entry(stream_key(&event.aggregate_type, &event.aggregate_id))
                .or_default();
            let stored = event_item(event, &cursor, &at, link);
            *link = get_s(&stored, "ChainHash").unwrap_or_default().to_owned();
            let put = Put::builder()
                .table_name(&self.tables.events)
                .set_item(Some(stored.clone()))
                .condition_expression("attribute_not_exists(AggregateTypeAndId)")
                .build()
                .map_err(build_error)?;
            items.push((TransactWriteItem::builder().put(put).build(), Slot::Event));
            let mut copy = stored;
            copy.remove("AggregateTypeAndId");
            copy.insert(
                "FeedPartition".into(),
                s(shards.partition_of(&event.aggregate_type, &event.aggregate_id)),
            );
            let put = Put::builder()
                .table_name(&self.tables.feed)
                .set_item(Some(copy))
                .build()
                .map_err(build_error)?;
            items.push((TransactWriteItem::builder().put(put).build(), Slot::Feed));
            self.claim_items(event, &mut items)?;
        }
        if let Some(observed) = observed_guard(events)? {
            items.push((self.guard_item(observed)?, Slot::Guard));
        }
        if items.len() > MAX_TRANSACTION_ITEMS {
            return Err(PersistenceError::UnknownError(Box::new(
                TransactionTooLarge {
                    items: items.len(),
                    limit: MAX_TRANSACTION_ITEMS,
                },
            )));
        }
        Ok(items)
    }
}

/// New single-event streams with at most one claim each that fit one transaction (event, feed copy
/// and claim: 3 items each).
pub const STREAMS_PER_COMMIT: usize = MAX_TRANSACTION_ITEMS / 3;

/// Explains a cancelled transaction: a taken sequence is a lost race, a taken claim a duplicate.
fn cancelled(reasons: &[Option<&str>], slots: &[Slot]) -> Option<PersistenceError> {
    // Another transaction on the same item in flight: a lost race like a taken sequence.
    if reasons.contains(&Some("TransactionConflict")) {
        return Some(PersistenceError::OptimisticLockError);
    }
    for (code, slot) in reasons.iter().zip(slots) {
        if *code != Some("ConditionalCheckFailed") {
            continue;
        }
        return Some(match slot {
            Slot::Event | Slot::Guard => PersistenceError::OptimisticLockError,
            Slot::Claim { scope, value } => {
                PersistenceError::UnknownError(Box::new(UniqueViolation {
                    scope: scope.clone(),
                    value: value.clone(),
                }))
            }
            Slot::Feed | Slot::Release => continue,
        });
    }
    None
}

impl AdminGuard for DynamoStore {
    async fn admin_guard(&self) -> Result<u64, PersistenceError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.unique)
            .key("UniqueKey", guard_key())
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| connection(aws_sdk_dynamodb::Error::from(e)))?;
        guard_version(out.item().and_then(|i| get_s(i, "Owner")))
    }
}

impl PersistedEventRepository for DynamoStore {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.events_of::<A>(aggregate_id, 0).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.events_of::<A>(aggregate_id, last_sequence).await
    }

    /// Aggregates here have a handful of events; snapshots are not used.
    async fn get_snapshot<A: Aggregate>(
        &self,
        _aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        Ok(None)
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        _snapshot: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        if events.is_empty() {
            return Ok(());
        }
        let shards = self.feed_shards().await.map_err(|e| match e {
            FeedShardsError::Request(_) => connection(e),
            FeedShardsError::Mismatch { .. } | FeedShardsError::Invalid => {
                PersistenceError::UnknownError(Box::new(e))
            }
        })?;
        let mut links = self.previous_links(events).await?;
        let (items, slots): (Vec<_>, Vec<_>) = self
            .transaction(events, &mut links, shards)?
            .into_iter()
            .unzip();
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let Err(error) = result else {
            let mut heads: HashMap<String, usize> = HashMap::new();
            for event in events {
                let head = heads
                    .entry(stream_key(&event.aggregate_type, &event.aggregate_id))
                    .or_default();
                *head = event.sequence.max(*head);
            }
            for (stream, sequence) in heads {
                if let Some(link) = links.remove(&stream) {
                    self.chain_heads.remember(stream, sequence, link);
                }
            }
            return Ok(());
        };
        if let Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e)) =
            error.as_service_error()
        {
            let codes: Vec<Option<&str>> = e.cancellation_reasons().iter().map(|r| r.code()).collect();
            if let Some(mapped) = cancelled(&codes, &slots) {
                return Err(mapped);
            }
        }
        Err(PersistenceError::ConnectionError(
            DisplayErrorContext(error).to_string().into(),
        ))
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        let events = self.events_of::<A>(aggregate_id, 0).await?;
        let (mut feed, stream) = ReplayStream::new(events.len().max(1));
        for event in events {
            let _ = feed.push(Ok(event)).await;
        }
        Ok(stream)
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        let mut events = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.tables.events)
                .filter_expression("AggregateType = :t")
                .expression_attribute_values(":t", AttributeValue::S(A::TYPE.to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| connection(aws_sdk_dynamodb::Error::from(e)))?;
            for item in page.items() {
                events.push(serialized(item)?);
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        let (mut feed, stream) = ReplayStream::new(events.len().max(1));
        for event in events {
            let _ = feed.push(Ok(event)).await;
        }
        Ok(stream)
    }
}

fn stored(item: &Item) -> Result<crate::chain::StoredEvent, projections::StoreError> {
    let text = |name: &'static str| {
        get_s(item, name).map(str::to_owned).ok_or_else(|| {
            projections::StoreError::from(super::DynamoError::MissingAttribute(name))
        })
    };
    Ok(crate::chain::StoredEvent {
        aggregate_type: text("AggregateType")?,
        aggregate_id: text("AggregateId")?,
        sequence: get_n(item, "AggregateIdSequence").unwrap_or(0),
        event_type: text("EventType")?,
        event_version: text("EventVersion")?,
        payload: text("Payload")?,
        metadata: text("Metadata")?,
        chain_hash: get_s(item, "ChainHash").unwrap_or_default().to_owned(),
    })
}

#[async_trait::async_trait]
impl crate::chain::ChainedLog for DynamoStore {
    async fn stored_events(
        &self,
    ) -> Result<Vec<crate::chain::StoredEvent>, projections::StoreError> {
        self.scan_all(&self.tables.events)
            .await?
            .iter()
            .map(stored)
            .collect()
    }

    async fn mirrored_events(
        &self,
    ) -> Result<Option<Vec<crate::chain::StoredEvent>>, projections::StoreError> {
        // Every shard's copies; the shard count's config item is no event.
        let items = self.scan_all(&self.tables.feed).await?;
        items
            .iter()
            .filter(|item| super::shards::is_event_item(item))
            .map(stored)
            .collect::<Result<_, _>>()
            .map(Some)
    }

    async fn recorded_versions(
        &self,
    ) -> Result<std::collections::HashMap<String, u64>, projections::StoreError> {
        Ok(self
            .scan_all(&self.tables.views)
            .await?
            .iter()
            .filter_map(|item| {
                let id = get_s(item, "ViewId")?.strip_prefix("version#")?;
                Some((id.to_owned(), get_n(item, "Version")?))
            })
            .collect())
    }
}
