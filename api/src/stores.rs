//! The one way every command opens the configured backend's store: the server (through
//! [`crate::startup::Backend`]), the tools (replay, rebuild, verify, forensics), the import and the
//! seeder. Each takes the ports it needs from the one handle.
use crate::config::{BackendKind, Settings};
use anyhow::Context;
use infra::bulk::StreamCommit;
use infra::chain::ChainedLog;
use infra::{DynamoStore, SqliteStore};
use projections::{EventFeed, ViewStore};
use std::sync::Arc;

/// The configured backend's store.
#[derive(Clone)]
pub enum Store {
    /// One SQLite file (the default).
    Embedded(SqliteStore),
    /// DynamoDB tables shared by every node.
    Aws(DynamoStore),
}

impl Store {
    /// Opens the store the settings name: the SQLite file (created when missing), or the DynamoDB
    /// tables (created first when `APIKEYD_AWS_CREATE_TABLES` says so).
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        Ok(match settings.backend {
            BackendKind::Embedded => {
                let path = settings.database_path();
                let store = SqliteStore::open(&path)
                    .await
                    .with_context(|| format!("cannot open {}", path.display()))?;
                Self::Embedded(store)
            }
            BackendKind::Aws => {
                let store = DynamoStore::connect(&settings.table_prefix)
                    .await
                    .with_cache_keys(usize::try_from(settings.cache_keys).unwrap_or(usize::MAX));
                if settings.aws_create_tables {
                    store.init_tables_sharded(settings.feed_shards).await?;
                }
                Self::Aws(store)
            }
        })
    }

    /// The event log in global order.
    pub fn feed(&self) -> Arc<dyn EventFeed> {
        match self {
            Self::Embedded(store) => Arc::new(store.clone()),
            Self::Aws(store) => Arc::new(store.clone()),
        }
    }

    /// The persisted views and checkpoints.
    pub fn views(&self) -> Arc<dyn ViewStore> {
        match self {
            Self::Embedded(store) => Arc::new(store.clone()),
            Self::Aws(store) => Arc::new(store.clone()),
        }
    }

    /// The stored events with their hash chain (`events verify`).
    pub fn chain(&self) -> Arc<dyn ChainedLog> {
        match self {
            Self::Embedded(store) => Arc::new(store.clone()),
            Self::Aws(store) => Arc::new(store.clone()),
        }
    }

    /// Whole streams committed at once (the import).
    pub fn bulk(&self) -> Arc<dyn StreamCommit> {
        match self {
            Self::Embedded(store) => Arc::new(store.clone()),
            Self::Aws(store) => Arc::new(store.clone()),
        }
    }
}
