//! The port the stores implement for usage, and the flush that feeds them.
use super::{LastUse, Usage, UsageTracker};
use crate::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Where usage is persisted (its own table, not the event log).
#[async_trait]
pub trait UsageStore: Send + Sync {
    /// Every key's persisted last use.
    async fn last_uses(&self) -> Result<Vec<(Uuid, LastUse)>, StoreError>;
    /// One key's persisted usage.
    async fn usage(&self, id: &Uuid) -> Result<Option<Usage>, StoreError>;
    /// Merges each observation into the key's persisted usage by [`Usage::merge`] at `now`, so the
    /// later last use wins and counts from every node add up.
    async fn add(&self, observed: &[(Uuid, Usage)], now: DateTime<Utc>) -> Result<(), StoreError>;
}

/// Why a flush wrote nothing; the observations stay pending for the next one.
#[derive(Debug, thiserror::Error)]
pub enum FlushError {
    /// The store refused or did not answer.
    #[error("usage store: {0}")]
    Store(#[from] StoreError),
}

/// Writes the tracker's pending observations of keys that are still live (`live`) and refreshes its
/// persisted last uses (other nodes' observations). Observations the store did not take go back to
/// the tracker; a deleted key's are dropped.
pub async fn flush(
    tracker: &UsageTracker,
    store: &dyn UsageStore,
    live: impl Fn(&Uuid) -> bool,
    now: DateTime<Utc>,
) -> Result<usize, FlushError> {
    let mut taken = tracker.take();
    taken.retain(|(id, _)| live(id));
    if !taken.is_empty() {
        if let Err(error) = store.add(&taken, now).await {
            tracker.restore(taken, now);
            return Err(error.into());
        }
    }
    tracker.remember(store.last_uses().await?);
    tracker.flushed();
    Ok(taken.len())
}

/// Loads the persisted last uses (at start).
pub async fn load(tracker: &UsageTracker, store: &dyn UsageStore) -> Result<(), FlushError> {
    tracker.remember(store.last_uses().await?);
    Ok(())
}

/// A key's usage as this node knows it: the persisted record plus its own unflushed observations.
pub async fn usage_of(
    tracker: &UsageTracker,
    store: &dyn UsageStore,
    id: &Uuid,
    now: DateTime<Utc>,
) -> Result<Usage, StoreError> {
    let mut usage = store.usage(id).await?.unwrap_or_default();
    if let Some(pending) = tracker.pending(id) {
        usage.merge(&pending, now);
    }
    Ok(usage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Memory(Mutex<HashMap<Uuid, Usage>>, Mutex<bool>);

    #[async_trait]
    impl UsageStore for Memory {
        async fn last_uses(&self) -> Result<Vec<(Uuid, LastUse)>, StoreError> {
            let rows = self.0.lock().unwrap();
            Ok(rows
                .iter()
                .filter_map(|(id, u)| u.last.map(|l| (*id, l)))
                .collect())
        }
        async fn usage(&self, id: &Uuid) -> Result<Option<Usage>, StoreError> {
            Ok(self.0.lock().unwrap().get(id).cloned())
        }
        async fn add(
            &self,
            observed: &[(Uuid, Usage)],
            now: DateTime<Utc>,
        ) -> Result<(), StoreError> {
            if *self.1.lock().unwrap() {
                return Err(StoreError::unavailable(std::io::Error::other("down")));
            }
            let mut rows = self.0.lock().unwrap();
            for (id, usage) in observed {
                rows.entry(*id).or_default().merge(usage, now);
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn two_nodes_add_up_and_the_latest_use_wins_whatever_the_flush_order() {
        let store = Memory::default();
        let (a, b) = (UsageTracker::new(true), UsageTracker::new(true));
        let id = Uuid::new_v4();
        let t0: DateTime<Utc> = "2026-12-01T20:00:00Z".parse().unwrap();
        let t1 = t0 + chrono::TimeDelta::minutes(1);
        a.record(id, "10.0.0.1".parse().ok(), t0);
        b.record(id, "10.0.0.2".parse().ok(), t1);
        b.record(id, "10.0.0.2".parse().ok(), t1);
        flush(&b, &store, |_| true, t1).await.unwrap();
        flush(&a, &store, |_| true, t1).await.unwrap();
        let persisted = store.usage(&id).await.unwrap().unwrap();
        assert_eq!(
            persisted.last.unwrap().at,
            t1,
            "node a's older use did not win"
        );
        assert_eq!(persisted.hours.values().sum::<u64>(), 3);
        assert_eq!(
            a.last_use(&id).unwrap().at,
            t1,
            "a sees b's use after its flush"
        );
    }

    #[tokio::test]
    async fn a_failed_flush_keeps_the_observations_and_deleted_keys_are_dropped() {
        let store = Memory::default();
        let tracker = UsageTracker::new(true);
        let (live, gone) = (Uuid::new_v4(), Uuid::new_v4());
        let now = Utc::now();
        tracker.record(live, None, now);
        tracker.record(gone, None, now);
        *store.1.lock().unwrap() = true;
        assert!(flush(&tracker, &store, |id| *id == live, now)
            .await
            .is_err());
        assert_eq!(
            tracker.pending_keys(),
            1,
            "the live key's use waits for the next flush"
        );
        *store.1.lock().unwrap() = false;
        assert_eq!(
            flush(&tracker, &store, |id| *id == live, now)
                .await
                .unwrap(),
            1
        );
        assert!(store.usage(&gone).await.unwrap().is_none());
        assert_eq!(
            usage_of(&tracker, &store, &live, now)
                .await
                .unwrap()
                .hours
                .len(),
            1
        );
    }
}
