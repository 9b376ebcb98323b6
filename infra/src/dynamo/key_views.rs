//! The key listing answered from the views table's `Kind-ViewId` index: VAMS pages by id (a merge
//! of the key shards, read lazily), console pages sorted in a bounded heap, one key by id.
//!
//! Index reads are eventually consistent (a global secondary index has no consistent reads), so a
//! listing may trail a write by the index's propagation (milliseconds); [`KeyViews::get`] reads the
//! table itself, consistently.
use super::item::{get_s, s, Item};
use super::view_index::{body_of, key_kind, INDEX, KEY_SHARDS, KIND};
use super::{unavailable, DynamoStore};
use async_trait::async_trait;
use futures::future::try_join_all;
use projections::key_listing::ApiKeyView;
use projections::key_views::{Conditions, ConsoleQuery, KeyPage, KeyViews, SortBy};
use projections::StoreError;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use uuid::Uuid;

/// Rows one query of a shard asks for while paging: a page needs at most its size plus one row,
/// so small pages read little; a console (which reads everything) uses the largest.
const MAX_QUERY_ROWS: usize = 1000;

/// One shard of the listing in the index, read a page at a time in id order.
struct Shard {
    kind: String,
    rows: VecDeque<Item>,
    /// Where the next query starts; `None` with `done` once the shard is read.
    next: Option<Item>,
    done: bool,
}

/// Every shard's rows after a start, merged into id order, fetched as they are needed: at most
/// one query page per shard is held at a time.
struct KeyRows<'a> {
    store: &'a DynamoStore,
    after: Option<String>,
    limit: i32,
    shards: Vec<Shard>,
}

impl<'a> KeyRows<'a> {
    fn new(store: &'a DynamoStore, start_after: Option<Uuid>, rows_per_query: usize) -> Self {
        let shards = (0..KEY_SHARDS)
            .map(|shard| Shard {
                kind: key_kind(shard),
                rows: VecDeque::new(),
                next: None,
                done: false,
            })
            .collect();
        Self {
            store,
            after: start_after.map(|id| format!("key#{id}")),
            limit: rows_per_query.clamp(1, MAX_QUERY_ROWS) as i32,
            shards,
        }
    }

    /// Reads the next page of every shard whose rows ran out, concurrently.
    async fn refill(&mut self) -> Result<(), StoreError> {
        let (store, after, limit) = (self.store, self.after.as_deref(), self.limit);
        let empty = self
            .shards
            .iter_mut()
            .filter(|shard| shard.rows.is_empty() && !shard.done);
        try_join_all(empty.map(|shard| async move {
            let mut query = store
                .client
                .query()
                .table_name(&store.tables.views)
                .index_name(INDEX)
                .expression_attribute_names("#k", KIND)
                .expression_attribute_values(":k", s(&shard.kind))
                .limit(limit)
                .set_exclusive_start_key(shard.next.take());
            query = match after {
                Some(after) => query
                    .key_condition_expression("#k = :k AND ViewId > :after")
                    .expression_attribute_values(":after", s(after)),
                None => query.key_condition_expression("#k = :k"),
            };
            let page = query.send().await.map_err(unavailable)?;
            shard.rows.extend(page.items().iter().cloned());
            shard.next = page.last_evaluated_key().cloned();
            shard.done = shard.next.is_none();
            Ok::<_, StoreError>(())
        }))
        .await?;
        Ok(())
    }

    /// The next key in id order, `None` when every shard is read.
    async fn next(&mut self) -> Result<Option<ApiKeyView>, StoreError> {
        // A shard may answer an empty page before its end; ask again until it has rows or ends.
        while self
            .shards
            .iter()
            .any(|shard| shard.rows.is_empty() && !shard.done)
        {
            self.refill().await?;
        }
        let first = self
            .shards
            .iter_mut()
            .filter(|shard| !shard.rows.is_empty())
            .min_by(|a, b| view_id(&a.rows[0]).cmp(view_id(&b.rows[0])));
        match first.and_then(|shard| shard.rows.pop_front()) {
            Some(item) => body_of(&item).map(Some),
            None => Ok(None),
        }
    }
}

fn view_id(item: &Item) -> &str {
    get_s(item, "ViewId").unwrap_or_default()
}

/// A row ranked by a console sort: the heap's greatest is the row that leaves first.
struct Ranked<'q> {
    view: ApiKeyView,
    query: &'q ConsoleQuery,
}

impl Ranked<'_> {
    fn order(&self, other: &Self) -> Ordering {
        sorted(
            self.query.sort_by,
            self.query.descending,
            &self.view,
            &other.view,
        )
    }
}

/// The console's order of two rows.
fn sorted(sort_by: SortBy, descending: bool, a: &ApiKeyView, b: &ApiKeyView) -> Ordering {
    let order = sort_by.compare(a, b);
    if descending {
        order.reverse()
    } else {
        order
    }
}

impl PartialEq for Ranked<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.order(other) == Ordering::Equal
    }
}

impl Eq for Ranked<'_> {}

impl PartialOrd for Ranked<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.order(other)
    }
}

#[async_trait]
impl KeyViews for DynamoStore {
    /// Merges the key shards of the index in id order and stops one matching row past
    /// `max_items`: memory holds the page plus one query page per shard, whatever the table size.
    async fn page(
        &self,
        filter: Option<&str>,
        only: &Conditions,
        start_after: Option<Uuid>,
        max_items: Option<usize>,
    ) -> Result<KeyPage, StoreError> {
        let needle = filter.map(str::to_lowercase).filter(|f| !f.is_empty());
        let limit = max_items.unwrap_or(usize::MAX);
        let mut rows = KeyRows::new(self, start_after, limit.saturating_add(1));
        let mut items = Vec::new();
        let mut more = false;
        while let Some(view) = rows.next().await? {
            if needle.as_deref().is_some_and(|n| !view.matches(n))
                || !only.hold(&view.api_key_id, view.expires_at)
            {
                continue;
            }
            if items.len() == limit {
                more = true;
                break;
            }
            items.push(view);
        }
        let next_token = match (items.last(), more) {
            (Some(last), true) => Some(last.api_key_id.to_string()),
            _ => None,
        };
        Ok(KeyPage {
            total_count: items.len(),
            items,
            next_token,
        })
    }

    /// Reads every key row of the index once per console page (the total count and an arbitrary
    /// sort need all of them: cost grows with the number of keys, one full read of the listing per
    /// page) and keeps only the best `offset + page_size` rows in a heap, so memory is bounded by
    /// the page's depth, not the table.
    async fn console(&self, query: &ConsoleQuery) -> Result<KeyPage, StoreError> {
        let depth = query.offset.saturating_add(query.page_size);
        let mut rows = KeyRows::new(self, None, MAX_QUERY_ROWS);
        let mut best: BinaryHeap<Ranked<'_>> = BinaryHeap::new();
        let mut total = 0;
        while let Some(view) = rows.next().await? {
            if query.search.as_deref().is_some_and(|n| !view.matches(n))
                || !query.only.hold(&view.api_key_id, view.expires_at)
            {
                continue;
            }
            total += 1;
            if depth == 0 {
                continue;
            }
            best.push(Ranked { view, query });
            if best.len() > depth {
                best.pop();
            }
        }
        let items = best
            .into_sorted_vec()
            .into_iter()
            .skip(query.offset)
            .map(|ranked| ranked.view)
            .collect();
        Ok(KeyPage {
            items,
            next_token: None,
            total_count: total,
        })
    }

    /// A consistent read of the key's row in the table (not the index): a tombstone is `None`.
    async fn get(&self, id: &Uuid) -> Result<Option<ApiKeyView>, StoreError> {
        self.stored_key(id).await
    }
}
