//! Many aggregates' events in one store transaction: what lets an import write thousands of keys a
//! second where one commit per key manages a few hundred. It is the normal commit path (`persist`:
//! hash chain per stream, unique claims, admin guard, feed copy), which already takes events of
//! several aggregates in one call (a role deletion), so both write the same rows.
use async_trait::async_trait;
use cqrs_es::persist::{PersistedEventRepository, PersistenceError, SerializedEvent};
use domain::api_key::ApiKey;

/// Streams a SQLite transaction takes at once: large enough to amortize the fsync, small enough that
/// a failed batch (retried one by one) costs little.
const SQLITE_STREAMS_PER_COMMIT: usize = 500;

/// A store that commits several aggregates' events atomically.
#[async_trait]
pub trait StreamCommit: Send + Sync {
    /// Most streams of new single-event aggregates one commit takes.
    fn max_streams(&self) -> usize;
    /// Appends every stream, each chained to its aggregate's log and with its unique claims, in one
    /// transaction: all are stored or none. A taken sequence is `OptimisticLockError`, a taken unique
    /// value an `UnknownError` holding a [`crate::UniqueViolation`].
    async fn commit_streams(&self, streams: &[&[SerializedEvent]]) -> Result<(), PersistenceError>;
}

/// The streams one after the other, as `persist` takes a commit spanning aggregates.
fn flatten(streams: &[&[SerializedEvent]]) -> Vec<SerializedEvent> {
    streams.iter().flat_map(|s| s.iter().cloned()).collect()
}

#[async_trait]
impl StreamCommit for crate::SqliteStore {
    fn max_streams(&self) -> usize {
        SQLITE_STREAMS_PER_COMMIT
    }

    async fn commit_streams(&self, streams: &[&[SerializedEvent]]) -> Result<(), PersistenceError> {
        // The aggregate type parameter only names the repository's generic; every event carries its own.
        self.persist::<ApiKey>(&flatten(streams), None).await
    }
}

#[async_trait]
impl StreamCommit for crate::DynamoStore {
    fn max_streams(&self) -> usize {
        crate::dynamo::STREAMS_PER_COMMIT
    }

    async fn commit_streams(&self, streams: &[&[SerializedEvent]]) -> Result<(), PersistenceError> {
        self.persist::<ApiKey>(&flatten(streams), None).await
    }
}
