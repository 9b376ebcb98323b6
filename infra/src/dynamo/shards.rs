//! The feed's shards: how many partitions the change feed is spread over, which one an event goes
//! to, and the config item in the feed table that records the count.
//!
//! With one shard the feed is the single partition `feed` (the layout before sharding). With `N > 1`
//! it is `feed#0` .. `feed#{N-1}`; an aggregate's events all go to the shard its
//! `<aggregate_type>#<aggregate_id>` hashes to (FNV-1a 64, stable across builds). The count is fixed
//! when the tables are initialised: resharding a live feed is not supported.
use super::item::{get_n, n, s};
use super::{DynamoStore, FEED_PARTITION};
use std::fmt;
use std::str::FromStr;

/// The feed table's partition holding configuration rather than events.
const CONFIG_PARTITION: &str = "config";
/// The config item's sort key.
const SHARDS_CURSOR: &str = "shards";
/// The config item's attribute holding the shard count.
const SHARDS_ATTRIBUTE: &str = "Shards";

/// The most shards a feed may have: every poll queries each one.
pub const MAX_FEED_SHARDS: u16 = 64;

/// A valid shard count, `1..=MAX_FEED_SHARDS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedShards(u16);

/// A shard count outside `1..=MAX_FEED_SHARDS`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("feed shards must be between 1 and {MAX_FEED_SHARDS}, not {0}")]
pub struct FeedShardsOutOfRange(pub String);

impl FeedShards {
    /// The unsharded feed: the single partition `feed`.
    pub const ONE: Self = Self(1);

    /// A shard count, if within `1..=MAX_FEED_SHARDS`.
    pub fn new(count: u16) -> Result<Self, FeedShardsOutOfRange> {
        if (1..=MAX_FEED_SHARDS).contains(&count) {
            Ok(Self(count))
        } else {
            Err(FeedShardsOutOfRange(count.to_string()))
        }
    }

    /// The number of shards.
    pub fn count(self) -> u16 {
        self.0
    }

    /// Every shard's partition key, in shard order.
    pub fn partitions(self) -> Vec<String> {
        (0..self.0)
            .map(|shard| self.partition_of_shard(shard))
            .collect()
    }

    /// The partition an aggregate's events go to.
    pub fn partition_of(self, aggregate_type: &str, aggregate_id: &str) -> String {
        let hash = fnv1a64(format!("{aggregate_type}#{aggregate_id}").as_bytes());
        self.partition_of_shard((hash % u64::from(self.0)) as u16)
    }

    fn partition_of_shard(self, shard: u16) -> String {
        if self.0 == 1 {
            FEED_PARTITION.to_owned()
        } else {
            format!("{FEED_PARTITION}#{shard}")
        }
    }
}

impl Default for FeedShards {
    fn default() -> Self {
        Self::ONE
    }
}

impl fmt::Display for FeedShards {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for FeedShards {
    type Err = FeedShardsOutOfRange;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.trim()
            .parse::<u16>()
            .map_err(|_| FeedShardsOutOfRange(text.to_owned()))
            .and_then(Self::new)
    }
}

/// FNV-1a, 64 bits: a hash whose value never changes between builds or versions (unlike std's).
fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
    })
}

/// Why the feed's shard count could not be read or recorded.
#[derive(Debug, thiserror::Error)]
pub enum FeedShardsError {
    /// The tables were initialised with another count. Resharding a live feed is not supported:
    /// readers would miss the events already in the old partitions.
    #[error(
        "the feed has {stored} shard(s), not {requested}: resharding a live feed is not supported \
         (initialise a new table set with --feed-shards {requested} and import into it)"
    )]
    Mismatch {
        /// The count the feed was initialised with.
        stored: FeedShards,
        /// The count asked for.
        requested: FeedShards,
    },
    /// The config item holds no valid count.
    #[error("the feed's shard count item is invalid")]
    Invalid,
    /// DynamoDB did not answer.
    #[error("DynamoDB request on the feed's shard count")]
    Request(#[source] Box<aws_sdk_dynamodb::Error>),
}

impl From<FeedShardsError> for projections::StoreError {
    fn from(error: FeedShardsError) -> Self {
        match error {
            FeedShardsError::Request(_) => Self::unavailable(error),
            FeedShardsError::Mismatch { .. } | FeedShardsError::Invalid => Self::corrupt(error),
        }
    }
}

fn request(e: impl Into<aws_sdk_dynamodb::Error>) -> FeedShardsError {
    FeedShardsError::Request(Box::new(e.into()))
}

impl DynamoStore {
    /// The feed's shard count, read once per store (and its clones) and cached.
    pub async fn feed_shards(&self) -> Result<FeedShards, FeedShardsError> {
        self.feed_shards
            .get_or_try_init(|| self.stored_feed_shards())
            .await
            .copied()
    }

    /// The count the config item records; 1 when absent (tables made before sharding).
    async fn stored_feed_shards(&self) -> Result<FeedShards, FeedShardsError> {
        Ok(self
            .recorded_feed_shards()
            .await?
            .unwrap_or(FeedShards::ONE))
    }

    /// The count the config item records, if there is one.
    async fn recorded_feed_shards(&self) -> Result<Option<FeedShards>, FeedShardsError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.feed)
            .key("FeedPartition", s(CONFIG_PARTITION))
            .key("Cursor", s(SHARDS_CURSOR))
            .consistent_read(true)
            .send()
            .await
            .map_err(request)?;
        out.item()
            .map(|item| {
                get_n(item, SHARDS_ATTRIBUTE)
                    .and_then(|count| u16::try_from(count).ok())
                    .and_then(|count| FeedShards::new(count).ok())
                    .ok_or(FeedShardsError::Invalid)
            })
            .transpose()
    }

    /// Records `requested` as the feed's shard count unless one is recorded already, which must
    /// then be the same. Tables from before sharding (no config item, events in `feed`) count as
    /// one shard. Safe from several nodes at once: the write is conditional, so all agree.
    pub(super) async fn record_feed_shards(
        &self,
        requested: FeedShards,
    ) -> Result<FeedShards, FeedShardsError> {
        let recorded = self.recorded_feed_shards().await?;
        let agreed = if let Some(recorded) = recorded {
            recorded
        } else if requested != FeedShards::ONE && self.has_unsharded_events().await? {
            FeedShards::ONE
        } else {
            let put = self
                .client
                .put_item()
                .table_name(&self.tables.feed)
                .item("FeedPartition", s(CONFIG_PARTITION))
                .item("Cursor", s(SHARDS_CURSOR))
                .item(SHARDS_ATTRIBUTE, n(requested.count()))
                .condition_expression("attribute_not_exists(FeedPartition)")
                .send()
                .await;
            match put {
                Ok(_) => requested,
                // Another node recorded a count first: that one stands.
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
                {
                    self.stored_feed_shards().await?
                }
                Err(e) => return Err(request(e)),
            }
        };
        if agreed != requested {
            return Err(FeedShardsError::Mismatch {
                stored: agreed,
                requested,
            });
        }
        // A store that has read the count already keeps it; one that has not learns it here.
        let _ = self.feed_shards.set(agreed);
        Ok(agreed)
    }

    /// Whether the unsharded partition `feed` holds events (a table set from before sharding).
    async fn has_unsharded_events(&self) -> Result<bool, FeedShardsError> {
        let out = self
            .client
            .query()
            .table_name(&self.tables.feed)
            .key_condition_expression("FeedPartition = :p")
            .expression_attribute_values(":p", s(FEED_PARTITION))
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(request)?;
        Ok(!out.items().is_empty())
    }
}

/// Whether a feed table item is an event copy (not the config item).
pub(super) fn is_event_item(item: &super::item::Item) -> bool {
    super::item::get_s(item, "FeedPartition").is_some_and(|p| p != CONFIG_PARTITION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_published_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn one_shard_is_the_unsharded_partition() {
        assert_eq!(FeedShards::ONE.partition_of("ApiKey", "x"), "feed");
        assert_eq!(FeedShards::ONE.partitions(), vec!["feed".to_owned()]);
    }

    #[test]
    fn several_shards_name_numbered_partitions() {
        let four = FeedShards::new(4).unwrap();
        assert_eq!(four.partitions(), ["feed#0", "feed#1", "feed#2", "feed#3"]);
        assert!(four
            .partitions()
            .contains(&four.partition_of("ApiKey", "some-id")));
    }

    #[test]
    fn counts_outside_the_range_are_refused() {
        assert!(FeedShards::new(0).is_err());
        assert!(FeedShards::new(65).is_err());
        assert_eq!("64".parse::<FeedShards>().unwrap().count(), 64);
        assert!("x".parse::<FeedShards>().is_err());
    }
}
