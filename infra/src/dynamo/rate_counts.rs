//! The fleet's shared rate-limit counts on DynamoDB: one item per key, period and window in the
//! `rate-limits` table (`Counter` = `"{key id}#{period}#{window}"`), `Count` the admissions
//! leased so far, `ExpiresAt` (epoch seconds) when the table's TTL may drop it.
//!
//! A reservation is one conditional `ADD`: the count grows by the lease only while it stays within
//! the limit, so concurrent nodes never lease more than the limit between them. When the whole
//! lease does not fit, the rest of the window is leased instead (the count comes back with the
//! failed condition, or from a consistent read); see ADR 020.
use super::item::{get_n, n, s};
use super::{unavailable, DynamoError, DynamoStore};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use chrono::{DateTime, Utc};
use projections::key_rate::WindowCounts;
use projections::StoreError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use uuid::Uuid;

/// Conditional writes per reservation: the whole lease, then what is left (twice, should another
/// node take some in between). A reservation that keeps losing grants 0: this node then refuses
/// the key for the rest of the window while the others use what remains, never exceeding it.
const ATTEMPTS: usize = 3;

/// The DynamoDB requests made so far (tests, metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateCountRequests {
    /// Conditional `UpdateItem`s (one per lease attempt).
    pub updates: u64,
    /// Consistent `GetItem`s (only when a failed condition did not return the count).
    pub reads: u64,
}

/// [`WindowCounts`] in the `rate-limits` table.
#[derive(Debug)]
pub struct DynamoWindowCounts {
    store: DynamoStore,
    updates: AtomicU64,
    reads: AtomicU64,
}

/// How one conditional add ended.
enum Added {
    /// The whole amount was added.
    All,
    /// The count was too high; what it was, when DynamoDB said.
    Full(Option<u64>),
}

impl DynamoStore {
    /// The fleet's shared rate-limit counts in this store's `rate-limits` table, for
    /// [`projections::key_rate::KeyRateLimiter::shared`].
    pub fn window_counts(&self) -> Arc<dyn WindowCounts> {
        Arc::new(DynamoWindowCounts::new(self.clone()))
    }
}

impl DynamoWindowCounts {
    /// Counts in `store`'s `rate-limits` table.
    pub fn new(store: DynamoStore) -> Self {
        Self {
            store,
            updates: AtomicU64::new(0),
            reads: AtomicU64::new(0),
        }
    }

    /// The requests made so far.
    pub fn requests(&self) -> RateCountRequests {
        RateCountRequests {
            updates: self.updates.load(Ordering::Relaxed),
            reads: self.reads.load(Ordering::Relaxed),
        }
    }

    /// Adds `want` to the counter if the result stays within `limit` (`want` ≤ `limit`).
    async fn add(
        &self,
        counter: &str,
        want: u32,
        limit: u32,
        expires_at: DateTime<Utc>,
    ) -> Result<Added, StoreError> {
        self.updates.fetch_add(1, Ordering::Relaxed);
        let sent = self
            .store
            .client
            .update_item()
            .table_name(&self.store.tables.rate_limits)
            .key("Counter", s(counter))
            // `COUNT` is a reserved word in expressions.
            .update_expression("ADD #count :want SET #expires = :expires")
            .condition_expression("attribute_not_exists(#count) OR #count <= :max")
            .expression_attribute_names("#count", "Count")
            .expression_attribute_names("#expires", "ExpiresAt")
            .expression_attribute_values(":want", n(want))
            .expression_attribute_values(":max", n(limit - want))
            .expression_attribute_values(":expires", n(expires_at.timestamp()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match sent.map_err(|e| e.into_service_error()) {
            Ok(_) => Ok(Added::All),
            Err(UpdateItemError::ConditionalCheckFailedException(failed)) => Ok(Added::Full(
                failed.item().and_then(|item| get_n(item, "Count")),
            )),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// The counter's count, read consistently (0 when it has no item).
    async fn count(&self, counter: &str) -> Result<u64, StoreError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        let out = self
            .store
            .client
            .get_item()
            .table_name(&self.store.tables.rate_limits)
            .key("Counter", s(counter))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        match out.item() {
            None => Ok(0),
            Some(item) => {
                get_n(item, "Count").ok_or_else(|| DynamoError::MissingAttribute("Count").into())
            }
        }
    }
}

#[async_trait]
impl WindowCounts for DynamoWindowCounts {
    async fn reserve(
        &self,
        key: Uuid,
        period_seconds: u32,
        window: u64,
        want: u32,
        limit: u32,
        expires_at: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let counter = format!("{key}#{period_seconds}#{window}");
        let mut want = want.min(limit);
        for _ in 0..ATTEMPTS {
            if want == 0 {
                break;
            }
            let count = match self.add(&counter, want, limit, expires_at).await? {
                Added::All => return Ok(want),
                Added::Full(Some(count)) => count,
                Added::Full(None) => self.count(&counter).await?,
            };
            // The condition failed, so fewer than `want` are left: lease exactly those.
            let left = u64::from(limit).saturating_sub(count);
            want = want.min(u32::try_from(left).unwrap_or(u32::MAX));
        }
        Ok(0)
    }
}
