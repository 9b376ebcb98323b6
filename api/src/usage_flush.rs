//! Keys' last use and usage counts: recorded in memory on every successful verification, written
//! to the store's usage table by a background task at most every `APIKEYD_LAST_USED_FLUSH_SECONDS`
//! and once more at a graceful shutdown (ADR 019).
use chrono::Utc;
use projections::usage::{store, UsageStore, UsageTracker};
use projections::Projector;
use std::sync::Arc;
use std::time::Duration;

/// The tracker, its store and how often it is flushed.
pub struct LastUse {
    /// This node's observations and every key's persisted last use.
    pub tracker: Arc<UsageTracker>,
    /// Where they are persisted.
    pub store: Arc<dyn UsageStore>,
    /// Longest time between two flushes (`None`: recording is off).
    pub interval: Option<Duration>,
}

impl LastUse {
    /// Recording every `seconds` (0: off), with the persisted last uses loaded. A store that cannot
    /// be read now is read again at the first flush: usage is no reason not to serve.
    pub async fn start(store: Arc<dyn UsageStore>, seconds: u64) -> Self {
        let interval = (seconds > 0).then(|| Duration::from_secs(seconds));
        let tracker = Arc::new(UsageTracker::new(interval.is_some()));
        if let Err(error) = store::load(&tracker, store.as_ref()).await {
            tracing::warn!(%error, "cannot load the keys' last use yet; the first flush reads it");
        }
        Self {
            tracker,
            store,
            interval,
        }
    }

    /// Writes what this node observed (for keys still live) and reads the other nodes' last uses.
    pub async fn flush(&self, projector: &Projector) {
        let live = |id: &uuid::Uuid| projector.read().lookup.may_be_live(id);
        match store::flush(&self.tracker, self.store.as_ref(), live, Utc::now()).await {
            Ok(keys) => tracing::debug!(keys, "last use flushed"),
            Err(error) => tracing::warn!(%error, "last use not flushed; it stays pending"),
        }
    }

    /// Flushes in the background until the process ends.
    pub fn spawn(self: &Arc<Self>, projector: Arc<Projector>) {
        let Some(interval) = self.interval else {
            return;
        };
        let this = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                this.flush(&projector).await;
            }
        });
    }
}
