//! Table names and idempotent creation (`apikeyd aws init`).
use super::{view_index, DynamoStore, FeedShards, FeedShardsError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification, TimeToLiveStatus,
};
use std::time::{Duration, Instant};

/// The names of apikeyd's tables under one prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tables {
    pub events: String,
    pub feed: String,
    pub unique: String,
    pub lookup: String,
    pub views: String,
    /// Last use and usage counts per key.
    pub usage: String,
    /// The fleet's shared rate-limit counts per key and window (TTL on `ExpiresAt`).
    pub rate_limits: String,
}

impl Tables {
    /// `<prefix>-events`, `<prefix>-feed`, …
    pub fn with_prefix(prefix: &str) -> Self {
        let name = |suffix: &str| format!("{prefix}-{suffix}");
        Self {
            events: name("events"),
            feed: name("feed"),
            unique: name("unique"),
            lookup: name("lookup"),
            views: name("views"),
            usage: name("usage"),
            rate_limits: name("rate-limits"),
        }
    }
}

/// A table's key: hash attribute, optional range attribute (name, type), and the attribute its
/// items expire at, if they do.
struct Spec<'a> {
    name: &'a str,
    hash: &'a str,
    range: Option<(&'a str, ScalarAttributeType)>,
    ttl: Option<&'a str>,
    /// Whether the table carries the views' `Kind-ViewId` index.
    kind_index: bool,
}

/// How long `init` waits for a new table to become active.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// Per attempt of a table call. Creating tables is set-up, not the request path: a busy or cold
/// DynamoDB (an emulator's JVM warming up) may take far longer than the request path's 3 s.
const SETUP_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the tables could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TableSetupError {
    /// A table's definition was refused before it was sent (a bug, not the store's state).
    #[error("table {table}: invalid definition")]
    Definition {
        /// The table.
        table: String,
        /// The SDK's reason.
        #[source]
        source: aws_sdk_dynamodb::error::BuildError,
    },
    /// DynamoDB did not create (or describe) the table.
    #[error("create table {table}")]
    Create {
        /// The table.
        table: String,
        /// The SDK's error, with its cause chain.
        #[source]
        source: Box<aws_sdk_dynamodb::Error>,
    },
    /// DynamoDB did not turn on (or describe) the table's expiry of items.
    #[error("time to live of table {table}")]
    TimeToLive {
        /// The table.
        table: String,
        /// The SDK's error, with its cause chain.
        #[source]
        source: Box<aws_sdk_dynamodb::Error>,
    },
    /// The feed's shard count could not be recorded, or another one is recorded.
    #[error("feed shards")]
    FeedShards(#[from] FeedShardsError),
    /// The views' `Kind-ViewId` index could not be added, waited for or backfilled.
    #[error("index of table {table}")]
    ViewIndex {
        /// The views table.
        table: String,
        /// The store's error.
        #[source]
        source: projections::StoreError,
    },
    /// The table exists but did not become active in time.
    #[error("table {table} not active after {waited:?}")]
    NotActive {
        /// The table.
        table: String,
        /// How long it was waited for.
        waited: Duration,
    },
}

impl DynamoStore {
    /// [`Self::init_tables_sharded`] with one feed shard (the unsharded feed).
    pub async fn init_tables(&self) -> Result<Vec<String>, TableSetupError> {
        self.init_tables_sharded(FeedShards::ONE).await
    }

    /// Creates every table that does not exist yet, waits until all are active, makes the views'
    /// index usable ([`DynamoStore::ensure_view_index`]) and records the feed's shard count. Safe to run from several nodes at once. Refused
    /// ([`FeedShardsError::Mismatch`]) when the feed was initialised with another count:
    /// resharding a live feed is not supported.
    pub async fn init_tables_sharded(
        &self,
        shards: FeedShards,
    ) -> Result<Vec<String>, TableSetupError> {
        let patient = self.patient();
        let created = patient.create_all().await?;
        patient
            .ensure_view_index()
            .await
            .map_err(|source| TableSetupError::ViewIndex {
                table: self.tables.views.clone(),
                source,
            })?;
        patient.record_feed_shards(shards).await?;
        Ok(created)
    }

    /// The same tables through a client with set-up timeouts instead of request-path ones.
    pub(super) fn patient(&self) -> DynamoStore {
        let config = self
            .client
            .config()
            .to_builder()
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(SETUP_ATTEMPT_TIMEOUT)
                    .operation_timeout(SETUP_ATTEMPT_TIMEOUT * 3)
                    .build(),
            )
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3))
            .build();
        DynamoStore {
            client: aws_sdk_dynamodb::Client::from_conf(config),
            tables: self.tables.clone(),
            chain_heads: self.chain_heads.clone(),
            cache_keys: self.cache_keys,
            feed_shards: self.feed_shards.clone(),
        }
    }

    async fn create_all(&self) -> Result<Vec<String>, TableSetupError> {
        let t = &self.tables;
        let specs = [
            Spec {
                name: &t.events,
                hash: "AggregateTypeAndId",
                range: Some(("AggregateIdSequence", ScalarAttributeType::N)),
                ttl: None,
                kind_index: false,
            },
            Spec {
                name: &t.feed,
                hash: "FeedPartition",
                range: Some(("Cursor", ScalarAttributeType::S)),
                ttl: None,
                kind_index: false,
            },
            Spec {
                name: &t.unique,
                hash: "UniqueKey",
                range: None,
                ttl: None,
                kind_index: false,
            },
            Spec {
                name: &t.lookup,
                hash: "KeyHash",
                range: None,
                ttl: None,
                kind_index: false,
            },
            Spec {
                name: &t.views,
                hash: "ViewId",
                range: None,
                ttl: None,
                kind_index: true,
            },
            Spec {
                name: &t.usage,
                hash: "ApiKeyId",
                range: None,
                ttl: None,
                kind_index: false,
            },
            // A row per key and window: without expiry the table would only grow.
            Spec {
                name: &t.rate_limits,
                hash: "Counter",
                range: None,
                ttl: Some("ExpiresAt"),
                kind_index: false,
            },
        ];
        let mut created = Vec::new();
        for spec in &specs {
            if self.create_table(spec).await? {
                created.push(spec.name.to_owned());
            }
        }
        for spec in &specs {
            self.wait_active(spec.name).await?;
            if let Some(attribute) = spec.ttl {
                self.enable_ttl(spec.name, attribute).await?;
            }
        }
        Ok(created)
    }

    async fn create_table(&self, spec: &Spec<'_>) -> Result<bool, TableSetupError> {
        let definition = |source| TableSetupError::Definition {
            table: spec.name.to_owned(),
            source,
        };
        let key = |name: &str, key_type| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(key_type)
                .build()
                .map_err(definition)
        };
        let attr = |name: &str, t| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(t)
                .build()
                .map_err(definition)
        };
        let mut request = self
            .client
            .create_table()
            .table_name(spec.name)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key(spec.hash, KeyType::Hash)?)
            .attribute_definitions(attr(spec.hash, ScalarAttributeType::S)?);
        if let Some((range, t)) = &spec.range {
            request = request
                .key_schema(key(range, KeyType::Range)?)
                .attribute_definitions(attr(range, t.clone())?);
        }
        if spec.kind_index {
            request = request
                .attribute_definitions(view_index::kind_attribute().map_err(definition)?)
                .global_secondary_indexes(view_index::index_definition().map_err(definition)?);
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(TableSetupError::Create {
                table: spec.name.to_owned(),
                source: Box::new(e.into()),
            }),
        }
    }

    /// Turns on expiry by `attribute` unless it is on (or being turned on) already: DynamoDB
    /// refuses to enable it twice.
    async fn enable_ttl(&self, table: &str, attribute: &str) -> Result<(), TableSetupError> {
        let failed = |e: aws_sdk_dynamodb::Error| TableSetupError::TimeToLive {
            table: table.to_owned(),
            source: Box::new(e),
        };
        if self.ttl_on(table).await.map_err(failed)? {
            return Ok(());
        }
        let spec = TimeToLiveSpecification::builder()
            .attribute_name(attribute)
            .enabled(true)
            .build()
            .map_err(|source| TableSetupError::Definition {
                table: table.to_owned(),
                source,
            })?;
        let turned_on = self
            .client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(spec)
            .send()
            .await;
        match turned_on {
            Ok(_) => Ok(()),
            // Nodes starting together on new tables race here: the one that lost sees TTL on
            // ("already enabled" is a ValidationException), which is all it wanted.
            Err(error) => match self.ttl_on(table).await {
                Ok(true) => Ok(()),
                _ => Err(failed(error.into())),
            },
        }
    }

    /// Whether the table's time to live is on (or being turned on).
    async fn ttl_on(&self, table: &str) -> Result<bool, aws_sdk_dynamodb::Error> {
        let described = self
            .client
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await?;
        let status = described
            .time_to_live_description()
            .and_then(|d| d.time_to_live_status());
        Ok(matches!(
            status,
            Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
        ))
    }

    async fn wait_active(&self, table: &str) -> Result<(), TableSetupError> {
        let deadline = Instant::now() + ACTIVE_TIMEOUT;
        loop {
            let described = self.client.describe_table().table_name(table).send().await;
            if let Ok(out) = &described {
                if out.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(TableSetupError::NotActive {
                    table: table.to_owned(),
                    waited: ACTIVE_TIMEOUT,
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
