//! Keeps the read model, the persisted views and every audit sink caught up with the event log.
//!
//! cqrs-es runs queries inline after a commit and cannot fail the command, so projections here are
//! driven by checkpoints rather than by the dispatched events: each consumer remembers the last global
//! position it has fully handled and, on every commit (and on a timer), reads the log from there. A
//! failed write leaves the checkpoint where it was and the next pass repeats it; nothing is lost and
//! nothing is half-applied. The in-memory model is updated before the persisted views, so revocation
//! takes effect on the very next request even when the view tables are briefly unwritable.
//!
//! # Layout
//! - [`ports`]: the event feed, the view store and audit sinks the projector is plugged into.
//! - this module: the catch-up engine (memory folded from the feed or from a commit of this process).
//! - `views`: the persisted views, written in the background from the rows memory changed.
//! - `delivery`: audit delivery to every sink from its checkpoint.
//! - `rebuild`: the whole log folded into a fresh model.
mod delivery;
mod passes;
pub mod ports;
mod rebuild;
mod views;

pub use ports::{AuditSink, Chain, EventFeed, StoreCause, StoreError, ViewChanges, ViewStore};
pub use rebuild::Rebuilt;

use crate::event::DomainEvent;
use crate::event::RecordedEvent;
use crate::read_model::{key_change, Applied, ReadModel};
use async_trait::async_trait;
use cqrs_es::{Aggregate, EventEnvelope, Query};
use delivery::{SinkCursor, SinkState};
use passes::Passes;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;
use tokio::sync::{Mutex, Notify};
use views::Dirty;

/// Events read from the log per round trip.
const BATCH: usize = 1000;

/// How far memory has folded the feed.
struct MemoryCursor {
    applied: String,
    /// The fold pass last begun (numbers passes for [`Passes`]).
    pass: u64,
    /// The last pass that read the log to its end without error.
    completed: u64,
}

/// The live read model plus the machinery that keeps it and its copies current.
pub struct Projector {
    feed: Arc<dyn EventFeed>,
    views: Arc<dyn ViewStore>,
    model: RwLock<ReadModel>,
    /// Held while the feed is folded in, so one pass reads it at a time.
    memory: Mutex<MemoryCursor>,
    memory_passes: Passes,
    /// Taken while `model` is write-locked, never across an `.await`.
    dirty: std::sync::Mutex<Dirty>,
    /// The views' cursor; held while they are written, so one save runs at a time.
    persisted: Mutex<String>,
    /// (applied, persisted) as last published: probes read them without waiting for a catch-up that
    /// may be stuck on an unresponsive store.
    published: std::sync::Mutex<(String, String)>,
    sinks: Vec<SinkCursor>,
    wake: Notify,
}

impl Projector {
    /// Loads the persisted views, then catches up with the log.
    pub async fn start(
        feed: Arc<dyn EventFeed>,
        views: Arc<dyn ViewStore>,
        sinks: Vec<Arc<dyn AuditSink>>,
    ) -> Result<Arc<Self>, StoreError> {
        let (model, cursor) = views.load_for_serving().await?;
        let mut cursors = Vec::new();
        for sink in sinks {
            let checkpoint = views.checkpoint(sink.name()).await?;
            let state = Mutex::new(SinkState {
                checkpoint,
                pass: 0,
                completed: 0,
                recent: HashMap::new(),
            });
            cursors.push(SinkCursor {
                sink,
                state,
                passes: Passes::default(),
            });
        }
        let projector = Arc::new(Self {
            feed,
            views,
            model: RwLock::new(model),
            published: std::sync::Mutex::new((cursor.clone(), cursor.clone())),
            memory: Mutex::new(MemoryCursor {
                applied: cursor.clone(),
                pass: 0,
                completed: 0,
            }),
            memory_passes: Passes::default(),
            dirty: std::sync::Mutex::new(Dirty::default()),
            persisted: Mutex::new(cursor),
            sinks: cursors,
            wake: Notify::new(),
        });
        projector.catch_up_memory().await?;
        // Unwritable views must not keep the service from starting: the background task retries.
        if let Err(error) = projector.persist_views().await {
            tracing::error!(%error, "persisting the views at start failed; will retry");
        }
        Ok(projector)
    }

    /// The current read model. Do not hold the guard across an `.await`.
    pub fn read(&self) -> RwLockReadGuard<'_, ReadModel> {
        self.model
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Caches a key a cold look-up read from the store, unless memory holds that version of it or
    /// a newer one (see [`crate::key_lookup::KeyLookup::cache`]); a previous secret in grace is not
    /// cached (its row lacks the key's current secret). True when cached.
    pub fn cache_key(&self, hash: domain::KeyHash, key: &crate::miss::StoredKey) -> bool {
        if key.grace {
            return false;
        }
        let mut model = self.model.write().unwrap_or_else(|p| p.into_inner());
        model.lookup.cache(hash, key.entry.clone(), key.version)
    }

    /// Cursor of the last event in the in-memory model, and of the persisted views. Never waits: it
    /// is what the last catch-up left, even while another one is stuck on the store.
    pub fn cursors(&self) -> (String, String) {
        self.published
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn publish(&self, applied: Option<&str>, persisted: Option<&str>) {
        let mut published = self.published.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(applied) = applied {
            published.0 = applied.to_owned();
        }
        if let Some(persisted) = persisted {
            published.1 = persisted.to_owned();
        }
    }

    /// What a commit waits for: the in-memory model up to the log's end, then the inline sinks. The
    /// persisted views follow in the background (woken here), so a failing view table never fails or
    /// slows a command.
    pub async fn catch_up(&self) -> Result<(), StoreError> {
        let memory = self.catch_up_memory().await;
        memory.and(self.after_fold().await)
    }

    /// What a command of this process waits for after its commit: its own events folded into memory
    /// as they were committed (no read of the log; a later pass over the feed finds them already
    /// folded), then the inline sinks. Events whose aggregate memory has not seen from the start (a
    /// stream another node began) are folded from the log instead.
    pub async fn committed(&self, events: &[RecordedEvent]) -> Result<(), StoreError> {
        let memory = match self.fold(events).is_empty() {
            true => Ok(()),
            false => self.catch_up_memory().await,
        };
        memory.and(self.after_fold().await)
    }

    /// Delivers to the inline sinks and wakes the background task for the rest.
    async fn after_fold(&self) -> Result<(), StoreError> {
        let mut audit = Ok(());
        for cursor in self.sinks.iter().filter(|c| c.sink.inline()) {
            audit = audit.and(self.deliver(cursor).await);
        }
        self.wake.notify_one();
        audit
    }

    fn dirty(&self) -> std::sync::MutexGuard<'_, Dirty> {
        self.dirty.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Folds events into memory; returns the aggregates whose earlier events are missing.
    fn fold(&self, events: &[RecordedEvent]) -> BTreeSet<(String, String)> {
        let mut model = self.model.write().unwrap_or_else(|p| p.into_inner());
        let mut dirty = self.dirty();
        let generation = dirty.generation;
        let mut gaps = BTreeSet::new();
        for event in events {
            match model.apply(event) {
                Applied::Changed(touched) => {
                    if let DomainEvent::ApiKey(key_event) = &event.event {
                        let (id, change) = key_change(key_event, event.sequence);
                        let pending = match dirty.keys.remove(&id) {
                            Some(earlier) => earlier.then(change),
                            None => change,
                        };
                        dirty.keys.insert(id, pending);
                    }
                    dirty.rows.insert(touched, generation);
                }
                Applied::Duplicate => {}
                Applied::Gap {
                    aggregate_type,
                    aggregate_id,
                } => {
                    gaps.insert((aggregate_type, aggregate_id));
                }
            }
        }
        gaps
    }

    /// Folds every event after memory's cursor into the in-memory model: all a command or a look-up
    /// waits for.
    pub async fn catch_up_memory(&self) -> Result<(), StoreError> {
        let ticket = self.memory_passes.ticket();
        let mut cursor = self.memory.lock().await;
        if Passes::served(ticket, cursor.completed) {
            return Ok(());
        }
        let pass = self.memory_passes.begin(&mut cursor.pass);
        let mut from = self.feed.replay_from(&cursor.applied);
        loop {
            let batch = self.feed.events_after(&from, BATCH).await?;
            let Some(last) = batch.last().map(|e| e.cursor.clone()) else {
                break;
            };
            let gaps = self.fold(&batch);
            for (aggregate_type, aggregate_id) in gaps {
                let history = self
                    .feed
                    .aggregate_events(&aggregate_type, &aggregate_id)
                    .await?;
                self.model
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .forget_evicted(&aggregate_type, &aggregate_id);
                self.fold(&history);
            }
            if last > cursor.applied {
                cursor.applied = last.clone();
                self.publish(Some(&last), None);
            }
            from = last;
            if batch.len() < BATCH {
                break;
            }
        }
        cursor.completed = pass;
        Ok(())
    }

    /// Catches up on a timer and whenever a commit wakes it: retries failed writes, delivers to remote
    /// sinks, and picks up events other processes appended. Logs a failure once, not on every tick.
    pub fn spawn_background(self: &Arc<Self>, period: Duration) -> tokio::task::JoinHandle<()> {
        let projector = Arc::clone(self);
        tokio::spawn(async move {
            let mut failing = false;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(period) => {}
                    _ = projector.wake.notified() => {}
                }
                // Each follower on its own: unwritable views must not hold up audit delivery.
                let memory = projector.catch_up_memory().await;
                let views = projector.persist_views().await;
                let result = memory.and(views).and(projector.flush_audit().await);
                match (result, failing) {
                    (Err(e), false) => {
                        tracing::error!(error = %e, "projection catch-up failing; will retry");
                        failing = true;
                    }
                    (Ok(()), true) => {
                        tracing::info!("projection catch-up recovered");
                        failing = false;
                    }
                    _ => {}
                }
            }
        })
    }
}

/// Plugs the projector into cqrs-es: every commit of any aggregate is folded into memory before the
/// command returns (a commit made outside the frameworks, dispatched without events, catches up
/// from the log).
pub struct CatchUpQuery(pub Arc<Projector>);

/// The events of a commit as the feed will deliver them; `None` if one cannot be read back the way
/// the feed decodes it (then the log is the authority).
fn as_recorded<A: Aggregate>(events: &[EventEnvelope<A>]) -> Option<Vec<RecordedEvent>> {
    let recorded_at = chrono::Utc::now();
    events
        .iter()
        .map(|envelope| {
            let payload = serde_json::to_value(&envelope.payload).ok()?;
            Some(RecordedEvent {
                cursor: String::new(),
                aggregate_type: A::TYPE.to_owned(),
                aggregate_id: envelope.aggregate_id.clone(),
                sequence: envelope.sequence as u64,
                event: crate::DomainEvent::decode(A::TYPE, payload).ok()?,
                metadata: envelope.metadata.clone(),
                recorded_at,
            })
        })
        .collect()
}

#[async_trait]
impl<A: Aggregate> Query<A> for CatchUpQuery {
    async fn dispatch(&self, aggregate_id: &str, events: &[EventEnvelope<A>]) {
        let done = match as_recorded(events) {
            Some(recorded) if !recorded.is_empty() => self.0.committed(&recorded).await,
            _ => self.0.catch_up().await,
        };
        if let Err(error) = done {
            tracing::error!(%error, aggregate_type = A::TYPE, aggregate_id, "projection catch-up after commit failed; background task will retry");
        }
    }
}
