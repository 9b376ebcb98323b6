//! The AWS backend: DynamoDB tables for the event log, its feed, unique claims, the key lookup and
//! the other views.
//!
//! - `events`: the cqrs-es log (`AggregateTypeAndId`, `AggregateIdSequence`), as dynamo-es lays it out.
//! - `feed`: every event again, keyed by a commit-time cursor in one partition per shard (see
//!   [`FeedShards`]), written in the same transaction; nodes poll every shard to keep their
//!   in-memory read models current.
//! - `unique`: claims on values that must be unique among live aggregates (key names).
//! - `lookup`: key hash → key id, user, active, expiry (authentication when memory misses).
//! - `views`: listing rows, roles, user roles, aggregate versions and checkpoints, with the sparse
//!   index `Kind-ViewId` over live listing, role and user-roles rows (`view_index.rs`).
//! - `usage`: each key's last use and usage counts (`ApiKeyId`), not derived from the log.
//! - [`rate_counts`]: the fleet's shared rate-limit counts per key and window (`Counter`), with a TTL.
mod event_repository;
mod feed;
pub(crate) mod item;
mod key_views;
mod lease;
pub mod rate_counts;
pub mod requests;
mod shards;
mod tables;
mod usage;
mod user_keys;
mod view_index;
mod view_store;

pub use event_repository::STREAMS_PER_COMMIT;
pub use lease::Lease;
pub use shards::{FeedShards, FeedShardsError, FeedShardsOutOfRange, MAX_FEED_SHARDS};
pub use tables::{TableSetupError, Tables};
pub use view_index::ViewIndexError;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::Client;
use std::time::Duration;

/// How far back a poll re-reads the feed: commits are stamped with the committing node's clock
/// before they become visible, so a commit can appear slightly "in the past". This bounds both
/// transaction latency and clock skew between nodes.
pub const FEED_OVERLAP: chrono::TimeDelta = chrono::TimeDelta::seconds(5);

/// The unsharded feed's partition, and the stem of the shards' (`feed#0`, `feed#1`, …).
const FEED_PARTITION: &str = "feed";

/// A handle on the DynamoDB tables; cheap to clone.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    tables: Tables,
    /// The last chain link this process read or wrote per stream: a commit that follows it needs no
    /// read of the previous event (links never change once written).
    chain_heads: event_repository::ChainHeads,
    /// Keys a server's bounded lookup holds at most (`APIKEYD_CACHE_KEYS`).
    cache_keys: usize,
    /// The feed's shard count, learnt on first use and shared by clones.
    feed_shards: std::sync::Arc<tokio::sync::OnceCell<FeedShards>>,
}

/// Keys a node caches unless configured otherwise.
pub const DEFAULT_CACHE_KEYS: usize = 1_000_000;

impl DynamoStore {
    /// Connects with the standard AWS chain (env, profile, instance role) and endpoint overrides
    /// (`AWS_ENDPOINT_URL_DYNAMODB`). Short timeouts and few retries: a caller waiting on a dead
    /// store should get a 503 in seconds, not minutes.
    pub async fn connect(prefix: &str) -> Self {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .operation_attempt_timeout(Duration::from_secs(3))
                    .operation_timeout(Duration::from_secs(8))
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .load()
            .await;
        Self {
            client: Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(&config)
                    .interceptor(requests::CountRequests)
                    .build(),
            ),
            tables: Tables::with_prefix(prefix),
            chain_heads: Default::default(),
            cache_keys: DEFAULT_CACHE_KEYS,
            feed_shards: Default::default(),
        }
    }

    /// The same store, serving with a key cache of `keys` entries at most.
    pub fn with_cache_keys(mut self, keys: usize) -> Self {
        self.cache_keys = keys.max(1);
        self
    }

    /// The table names in use.
    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// The SDK client (tools and tests).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Whether DynamoDB answers.
    pub async fn ping(&self) -> bool {
        self.client
            .describe_table()
            .table_name(&self.tables.events)
            .send()
            .await
            .is_ok()
    }
}

/// Why the DynamoDB store failed, as the projection layer's [`projections::StoreError`] carries it.
#[derive(Debug, thiserror::Error)]
pub enum DynamoError {
    /// A request failed: network, throttling, a missing table, a timeout.
    #[error("DynamoDB request")]
    Request(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A stored item that cannot be decoded.
    #[error("undecodable DynamoDB item")]
    Item(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A stored item without an attribute every item of its table has.
    #[error("DynamoDB item lacks {0}")]
    MissingAttribute(&'static str),
}

impl From<DynamoError> for projections::StoreError {
    fn from(error: DynamoError) -> Self {
        match error {
            DynamoError::Request(_) => Self::unavailable(error),
            DynamoError::Item(_) | DynamoError::MissingAttribute(_) => Self::corrupt(error),
        }
    }
}

/// Maps any SDK failure to the projection layer's "retry later".
fn unavailable(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> projections::StoreError {
    DynamoError::Request(e.into()).into()
}

/// A stored item that cannot be decoded, as the projection layer's error.
fn corrupt(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> projections::StoreError {
    DynamoError::Item(e.into()).into()
}
