//! The ports the projector reads from and writes to: the event feed, the view store, audit sinks,
//! and the error they report.
use crate::audit::AuditRecord;
use crate::event::RecordedEvent;
use crate::key_listing::KeyChange;
use crate::read_model::ReadModel;
use crate::role_directory::{RoleView, UserRolesView};
use async_trait::async_trait;
use domain::{RoleName, UserId};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Why a store failed, as its adapter's own error type (`SqliteError`, `DynamoError`, …) with the
/// causes it wraps: kept whole, so a log line or a test can walk or downcast it.
pub type StoreCause = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// A store could not be read or written. Its message carries the cause's whole chain.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// Unreachable, locked, out of space: retry later.
    #[error("store unavailable: {}", Chain(.0.as_ref()))]
    Unavailable(StoreCause),
    /// Data that cannot be read back.
    #[error("store data invalid: {}", Chain(.0.as_ref()))]
    Corrupt(StoreCause),
    /// The persisted views did not reach memory's position in time (their store is slow or failing).
    #[error("the views trail memory past the deadline of {0:?}")]
    ViewsBehind(Duration),
}

impl StoreError {
    /// An adapter failure to retry later.
    pub fn unavailable(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unavailable(Arc::new(cause))
    }

    /// Adapter data that cannot be read back.
    pub fn corrupt(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Corrupt(Arc::new(cause))
    }

    /// The adapter's error, when there is one.
    pub fn cause(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            Self::Unavailable(cause) | Self::Corrupt(cause) => Some(cause.as_ref()),
            Self::ViewsBehind(_) => None,
        }
    }
}

/// An error and every cause under it, as `outer: inner: innermost` (how errors are logged).
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(cause) = next {
            write!(f, ": {cause}")?;
            next = cause.source();
        }
        Ok(())
    }
}

/// The event log in (approximately) global order. Cursors are strings that sort like the log; `""`
/// is the beginning.
#[async_trait]
pub trait EventFeed: Send + Sync {
    /// Up to `limit` events whose cursor sorts after `cursor`, in cursor order.
    async fn events_after(
        &self,
        cursor: &str,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>;
    /// Every event of one aggregate, in sequence order (gap filling, history, audit of one key).
    async fn aggregate_events(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<RecordedEvent>, StoreError>;
    /// Where to re-read from to be sure nothing after `checkpoint` was missed. A store whose commits
    /// become visible strictly in cursor order returns `checkpoint`; one ordered by commit clocks
    /// steps back over the window in which a slower commit can still appear.
    fn replay_from(&self, checkpoint: &str) -> String {
        checkpoint.to_owned()
    }
    /// Cursors before this bound can no longer be preceded by a late commit (`None`: every visible
    /// event is settled). Audit delivery stops at it so its checkpoint is exact.
    fn settled_before(&self) -> Option<String> {
        None
    }
}

/// Rows to write back: `None` deletes the row.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ViewChanges {
    /// Key listing and lookup rows: each key's changes since the last save, as one.
    pub keys: Vec<(Uuid, KeyChange)>,
    /// Role rows.
    pub roles: Vec<(RoleName, Option<RoleView>)>,
    /// User-roles rows.
    pub users: Vec<(UserId, Option<UserRolesView>)>,
    /// Last folded sequence of every touched aggregate (`Type:id`), deleted ones included.
    pub versions: Vec<(String, u64)>,
}

impl ViewChanges {
    /// Every row of `model`, as a rebuild writes them.
    pub fn everything(model: &ReadModel) -> Self {
        Self {
            keys: model
                .listing
                .iter()
                .map(|v| (v.api_key_id, KeyChange::Put(v.clone())))
                .collect(),
            roles: all_rows(&model.directory.roles),
            users: all_rows(&model.directory.users),
            versions: model.versions().collect(),
        }
    }
}

fn all_rows<K: Clone, V: Clone>(map: &std::collections::BTreeMap<K, V>) -> Vec<(K, Option<V>)> {
    map.iter()
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .collect()
}

/// Where the views are persisted, with their checkpoint.
#[async_trait]
pub trait ViewStore: Send + Sync {
    /// The persisted views (with aggregate versions) and the feed cursor they reflect.
    async fn load(&self) -> Result<(ReadModel, String), StoreError>;
    /// What a server starts from: by default everything [`ViewStore::load`] reads, listing rows
    /// included (they are then served from memory). A store that answers listings itself
    /// ([`crate::key_views::KeyViews`]) returns a [`ReadModel::compact`] model instead.
    async fn load_for_serving(&self) -> Result<(ReadModel, String), StoreError> {
        self.load().await
    }
    /// Writes changed rows and moves the views checkpoint to `cursor`.
    async fn save(&self, changes: &ViewChanges, cursor: &str) -> Result<(), StoreError>;
    /// Replaces every view with `model` at `cursor` (rebuild).
    async fn replace_all(&self, model: &ReadModel, cursor: &str) -> Result<(), StoreError>;
    /// A named consumer's checkpoint (`""` when unknown).
    async fn checkpoint(&self, name: &str) -> Result<String, StoreError>;
    /// Moves a named consumer's checkpoint.
    async fn set_checkpoint(&self, name: &str, cursor: &str) -> Result<(), StoreError>;
}

/// A destination for audit records, delivered at least once and in log order.
#[async_trait]
pub trait AuditSink: Send + Sync {
    /// Checkpoint name, unique per sink.
    fn name(&self) -> &str;
    /// Local sinks are written before a command returns; remote ones in the background.
    fn inline(&self) -> bool;
    /// Writes records in order; on error none may be assumed written.
    async fn write(&self, records: &[AuditRecord]) -> Result<(), StoreError>;
    /// Whether this process should deliver now. A sink shared by several nodes (one CloudWatch log
    /// group) is delivered by the holder of a lease only, so records are not multiplied by nodes.
    async fn may_deliver(&self) -> bool {
        true
    }
    /// True when the checkpoint is shared with other nodes and must be re-read before delivering.
    fn shared(&self) -> bool {
        false
    }
}
