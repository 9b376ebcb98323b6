//! Keeps the read model, the persisted views and every audit sink caught up with the event log.
//!
//! cqrs-es runs queries inline after a commit and cannot fail the command, so projections here are
//! driven by checkpoints rather than by the dispatched events: each consumer remembers the last global
//! position it has fully handled and, on every commit (and on a timer), reads the log from there. A
//! failed write leaves the checkpoint where it was and the next pass repeats it; nothing is lost and
//! nothing is half-applied. The in-memory model is updated before the persisted views, so revocation
//! takes effect on the very next request even when the view tables are briefly unwritable.
use crate::audit::AuditRecord;
use crate::event::DomainEvent;
use crate::event::RecordedEvent;
use crate::key_listing::KeyChange;
use crate::read_model::{key_change, Applied, ReadModel, Touched};
use crate::role_directory::{RoleView, UserRolesView};
use async_trait::async_trait;
use cqrs_es::{Aggregate, EventEnvelope, Query};
use domain::{RoleName, UserId};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;
use tokio::sync::{Mutex, Notify};
use uuid::Uuid;

/// Events read from the log per round trip.
const BATCH: usize = 1000;

/// Events read per round trip by a rebuild, which reads the whole log.
const REBUILD_BATCH: usize = 5000;

/// A store could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Unreachable, locked, out of space: retry later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Data that cannot be read back.
    #[error("store data invalid: {0}")]
    Corrupt(String),
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

/// How far memory has folded the feed.
struct MemoryCursor {
    applied: String,
    /// The fold pass last begun (numbers passes for [`Passes`]).
    pass: u64,
    /// The last pass that read the log to its end without error.
    completed: u64,
}

/// What memory changed that the views do not have yet.
#[derive(Default)]
struct Dirty {
    /// Rows to write, each with the save generation current when it was last touched: a save removes
    /// only rows nothing touched after it took its snapshot, so a save that fails or is cancelled
    /// loses nothing.
    rows: BTreeMap<Touched, u64>,
    /// The change each dirty key's row needs, accumulated over the folds (memory keeps no listing
    /// row to read it back from).
    keys: HashMap<Uuid, KeyChange>,
    generation: u64,
}

/// Lets callers queued behind a pass share the next one instead of each running its own: a pass
/// that began after a caller arrived has read everything committed before it (group commit's
/// counterpart on the read side).
#[derive(Default)]
struct Passes {
    begun: AtomicU64,
}

impl Passes {
    /// Taken before waiting for the lock.
    fn ticket(&self) -> u64 {
        self.begun.load(Ordering::SeqCst)
    }

    /// Whether a pass that began after `ticket` was taken has already completed.
    fn served(ticket: u64, completed: u64) -> bool {
        completed > ticket
    }

    /// Numbers a new pass (under the lock, before it reads anything).
    fn begin(&self, counter: &mut u64) -> u64 {
        *counter += 1;
        self.begun.store(*counter, Ordering::SeqCst);
        *counter
    }
}

struct SinkState {
    checkpoint: String,
    pass: u64,
    completed: u64,
    /// Event ids delivered inside the feed's re-read window (a node's own sinks).
    recent: HashMap<String, String>,
}

struct SinkCursor {
    sink: Arc<dyn AuditSink>,
    state: Mutex<SinkState>,
    passes: Passes,
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

    /// Brings memory, then the persisted views, up to the log's end (probes, the background task).
    pub async fn catch_up_views(&self) -> Result<(), StoreError> {
        self.catch_up_memory().await?;
        self.persist_views().await
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

    /// Writes the rows memory changed, and the views' checkpoint. Safe to cancel or fail: the rows
    /// stay marked until a save of them succeeds.
    pub async fn persist_views(&self) -> Result<(), StoreError> {
        let mut persisted = self.persisted.lock().await;
        let applied = self.memory.lock().await.applied.clone();
        let (generation, changes) = {
            // The model before the dirty rows, as a fold takes them.
            let model = self.read();
            let mut dirty = self.dirty();
            if applied == *persisted && dirty.rows.is_empty() {
                return Ok(());
            }
            let generation = dirty.generation;
            dirty.generation += 1;
            (generation, Self::changes_for(&model, &dirty))
        };
        self.views.save(&changes, &applied).await?;
        {
            let mut dirty = self.dirty();
            let Dirty { rows, keys, .. } = &mut *dirty;
            rows.retain(|_, touched_in| *touched_in > generation);
            keys.retain(|id, _| rows.contains_key(&Touched::ApiKey(*id)));
        }
        self.publish(None, Some(&applied));
        *persisted = applied;
        Ok(())
    }

    /// Waits until the persisted views hold at least what memory had folded when called, writing
    /// them itself if the background task has not yet: a read served from the views then sees
    /// every write this node acknowledged. Fails when the views cannot be written within `deadline`.
    pub async fn views_reach_memory(&self, deadline: Duration) -> Result<(), StoreError> {
        let target = self.cursors().0;
        // A commit of this process is folded without moving memory's feed cursor, so the cursor
        // alone does not say it is persisted: its rows are, once no row marked by then is pending.
        let generation = self.dirty().generation;
        let pending = || self.dirty().rows.values().any(|mark| *mark <= generation);
        let reach = async {
            while self.cursors().1 < target || pending() {
                self.persist_views().await?;
            }
            Ok(())
        };
        tokio::time::timeout(deadline, reach).await.map_err(|_| {
            StoreError::Unavailable("the views trail memory past the deadline".into())
        })?
    }

    /// Delivers every audit record after the sink's checkpoint, once per event id within the re-read
    /// window.
    async fn deliver(&self, cursor: &SinkCursor) -> Result<(), StoreError> {
        let ticket = cursor.passes.ticket();
        let mut state = cursor.state.lock().await;
        if Passes::served(ticket, state.completed) {
            return Ok(());
        }
        let pass = cursor.passes.begin(&mut state.pass);
        if !cursor.sink.may_deliver().await {
            return Ok(());
        }
        // A sink shared by several nodes gets only settled events (no commit can still appear before
        // them), so its shared checkpoint alone says what was delivered across restarts and lease
        // hand-overs. A node's own sink gets everything at once and re-reads the feed's window,
        // skipping what it already delivered.
        let settled = match cursor.sink.shared() {
            true => {
                let stored = self.views.checkpoint(cursor.sink.name()).await?;
                if stored > state.checkpoint {
                    state.checkpoint = stored;
                }
                self.feed.settled_before()
            }
            false => None,
        };
        let mut from = match settled {
            Some(_) => state.checkpoint.clone(),
            None => self.feed.replay_from(&state.checkpoint),
        };
        loop {
            let batch = self.feed.events_after(&from, BATCH).await?;
            let ready: Vec<&RecordedEvent> = batch
                .iter()
                .take_while(|e| settled.as_ref().is_none_or(|s| e.cursor < *s))
                .collect();
            let Some(last) = ready.last().map(|e| e.cursor.clone()) else {
                state.completed = pass;
                return Ok(());
            };
            let fresh: Vec<&&RecordedEvent> = ready
                .iter()
                .filter(|e| !state.recent.contains_key(&e.event_id()))
                .collect();
            if !fresh.is_empty() {
                let records: Vec<AuditRecord> =
                    fresh.iter().map(|e| AuditRecord::from_event(e)).collect();
                cursor.sink.write(&records).await?;
                for event in &fresh {
                    state.recent.insert(event.event_id(), event.cursor.clone());
                }
            }
            if last > state.checkpoint {
                state.checkpoint = last.clone();
                self.views.set_checkpoint(cursor.sink.name(), &last).await?;
            }
            let window = self.feed.replay_from(&state.checkpoint);
            state.recent.retain(|_, at| *at >= window);
            from = last;
            if ready.len() < BATCH {
                state.completed = pass;
                return Ok(());
            }
        }
    }

    /// Delivers to every sink, inline or not (shutdown, tests, the background task).
    pub async fn flush_audit(&self) -> Result<(), StoreError> {
        let mut result = Ok(());
        for cursor in &self.sinks {
            result = result.and(self.deliver(cursor).await);
        }
        result
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

    fn changes_for(model: &ReadModel, memory: &Dirty) -> ViewChanges {
        let mut changes = ViewChanges::default();
        for touched in memory.rows.keys() {
            let key = touched.version_key();
            changes.versions.push((key.clone(), model.version(&key)));
            match touched {
                Touched::ApiKey(id) => {
                    if let Some(change) = memory.keys.get(id) {
                        changes.keys.push((*id, change.clone()));
                    }
                }
                Touched::Role(name) => changes
                    .roles
                    .push((name.clone(), model.directory.roles.get(name).cloned())),
                Touched::UserRoles(user) => changes
                    .users
                    .push((user.clone(), model.directory.users.get(user).cloned())),
            }
        }
        changes
    }

    /// Folds the whole log into a fresh model: what the views must equal. Returns the model, the
    /// cursor of the last event and the number of events read.
    pub async fn rebuild_from(feed: &dyn EventFeed) -> Result<Rebuilt, StoreError> {
        Self::rebuild_until(feed, None, &mut |_| {}).await
    }

    /// The fold of every event that happened at or before `until` (all when `None`): the state as
    /// it was then. `progress` is told the number of events read after each batch.
    pub async fn rebuild_until(
        feed: &dyn EventFeed,
        until: Option<chrono::DateTime<chrono::Utc>>,
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<Rebuilt, StoreError> {
        let happened =
            move |e: &RecordedEvent| until.is_none_or(|t| crate::audit::event_time(&e.event) <= t);
        let mut model = ReadModel::default();
        let mut cursor = String::new();
        let mut events = 0;
        let mut gaps = BTreeSet::new();
        let mut batch = feed.events_after(&cursor, REBUILD_BATCH).await?;
        while let Some(last) = batch.last().map(|e| e.cursor.clone()) {
            events += batch.len();
            progress(events);
            // Fold this page on a blocking thread while the next one is read and decoded here:
            // the two halves of a replay run on two cores.
            let folding = tokio::task::spawn_blocking(move || {
                for event in batch.iter().filter(|e| happened(e)) {
                    if let Applied::Gap {
                        aggregate_type,
                        aggregate_id,
                    } = model.apply(event)
                    {
                        gaps.insert((aggregate_type, aggregate_id));
                    }
                }
                (model, gaps)
            });
            let (next, folded) = tokio::join!(feed.events_after(&last, REBUILD_BATCH), folding);
            (model, gaps) = folded.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
            batch = next?;
            cursor = last;
        }
        for (aggregate_type, aggregate_id) in gaps {
            for event in feed
                .aggregate_events(&aggregate_type, &aggregate_id)
                .await?
            {
                model.apply(&event);
            }
        }
        Ok(Rebuilt {
            model,
            cursor,
            events,
        })
    }
}

/// The result of folding the whole log.
pub struct Rebuilt {
    /// The views as the log defines them.
    pub model: ReadModel,
    /// Cursor of the last event.
    pub cursor: String,
    /// Events read.
    pub events: usize,
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
