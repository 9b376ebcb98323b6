//! Aggregates this process has just named and knows to be new: loading one costs no store read.
//!
//! A create's key id is a fresh random UUID, so its stream is empty and reading it back is a wasted
//! round trip (on DynamoDB, a third of a create). The command bus marks such an id before it runs the
//! command; the first load of it answers "no events" from here. Safety does not rest on the mark: the
//! commit's first event is conditional on its sequence being free, so were the id ever taken, the
//! commit would lose as a race and the retry would load the stream from the store.
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// An event repository that answers the first load of a marked aggregate without reading.
#[derive(Clone)]
pub struct FreshAware<R> {
    inner: R,
    fresh: Arc<Mutex<HashSet<(&'static str, String)>>>,
}

impl<R> FreshAware<R> {
    /// Wraps `inner`; nothing is marked.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            fresh: Arc::default(),
        }
    }

    /// Marks a stream as known to be empty, until its first load or [`FreshAware::forget`].
    pub fn mark(&self, aggregate_type: &'static str, id: &str) {
        self.set().insert((aggregate_type, id.to_owned()));
    }

    /// Removes a mark the command did not consume (it failed before loading).
    pub fn forget(&self, aggregate_type: &'static str, id: &str) {
        self.set().remove(&(aggregate_type, id.to_owned()));
    }

    fn set(&self) -> std::sync::MutexGuard<'_, HashSet<(&'static str, String)>> {
        self.fresh.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether this load is the first of a marked stream (consuming the mark).
    fn take<A: Aggregate>(&self, id: &str) -> bool {
        self.set().remove(&(A::TYPE, id.to_owned()))
    }
}

impl<R: PersistedEventRepository> PersistedEventRepository for FreshAware<R> {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        match self.take::<A>(aggregate_id) {
            true => Ok(Vec::new()),
            false => self.inner.get_events::<A>(aggregate_id).await,
        }
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        match self.take::<A>(aggregate_id) {
            true => Ok(Vec::new()),
            false => {
                self.inner
                    .get_last_events::<A>(aggregate_id, last_sequence)
                    .await
            }
        }
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        self.inner.get_snapshot::<A>(aggregate_id).await
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        self.inner.persist::<A>(events, snapshot_update).await
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        self.inner.stream_events::<A>(aggregate_id).await
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        self.inner.stream_all_events::<A>().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::api_key::ApiKey;
    use domain::role::Role;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts reads; every stream holds one event.
    #[derive(Clone, Default)]
    struct Counting(Arc<AtomicUsize>);

    fn one_event(id: &str) -> Vec<SerializedEvent> {
        vec![SerializedEvent::new(
            id.to_owned(),
            1,
            "ApiKey".to_owned(),
            "Test".to_owned(),
            "1".to_owned(),
            Value::Null,
            Value::Null,
        )]
    }

    impl PersistedEventRepository for Counting {
        async fn get_events<A: Aggregate>(
            &self,
            id: &str,
        ) -> Result<Vec<SerializedEvent>, PersistenceError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(one_event(id))
        }
        async fn get_last_events<A: Aggregate>(
            &self,
            id: &str,
            _: usize,
        ) -> Result<Vec<SerializedEvent>, PersistenceError> {
            self.get_events::<A>(id).await
        }
        async fn get_snapshot<A: Aggregate>(
            &self,
            _: &str,
        ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
            Ok(None)
        }
        async fn persist<A: Aggregate>(
            &self,
            _: &[SerializedEvent],
            _: Option<(String, Value, usize)>,
        ) -> Result<(), PersistenceError> {
            Ok(())
        }
        async fn stream_events<A: Aggregate>(
            &self,
            _: &str,
        ) -> Result<ReplayStream, PersistenceError> {
            Ok(ReplayStream::new(1).1)
        }
        async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
            Ok(ReplayStream::new(1).1)
        }
    }

    #[tokio::test]
    async fn only_the_first_load_of_a_marked_stream_skips_the_store() {
        let reads = Counting::default();
        let repo = FreshAware::new(reads.clone());
        repo.mark(ApiKey::TYPE, "new");
        assert!(repo.get_events::<ApiKey>("new").await.unwrap().is_empty());
        assert_eq!(reads.0.load(Ordering::SeqCst), 0);
        // A retry after a lost race reads the store.
        assert_eq!(repo.get_events::<ApiKey>("new").await.unwrap().len(), 1);
        assert_eq!(reads.0.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_mark_is_per_aggregate_type_and_can_be_forgotten() {
        let reads = Counting::default();
        let repo = FreshAware::new(reads.clone());
        repo.mark(ApiKey::TYPE, "x");
        assert_eq!(repo.get_events::<Role>("x").await.unwrap().len(), 1);
        repo.forget(ApiKey::TYPE, "x");
        assert_eq!(repo.get_events::<ApiKey>("x").await.unwrap().len(), 1);
        assert_eq!(reads.0.load(Ordering::SeqCst), 2);
    }
}
