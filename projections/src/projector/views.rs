//! Persisting the views: the rows memory changed since the last save, written in the background
//! (never on a command's path), and the wait a read served from the views uses.
use super::ports::{StoreError, ViewChanges};
use super::Projector;
use crate::key_listing::KeyChange;
use crate::read_model::{ReadModel, Touched};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use uuid::Uuid;

/// What memory changed that the views do not have yet.
#[derive(Default)]
pub(super) struct Dirty {
    /// Rows to write, each with the save generation current when it was last touched: a save removes
    /// only rows nothing touched after it took its snapshot, so a save that fails or is cancelled
    /// loses nothing.
    pub(super) rows: BTreeMap<Touched, u64>,
    /// The change each dirty key's row needs, accumulated over the folds (memory keeps no listing
    /// row to read it back from).
    pub(super) keys: HashMap<Uuid, KeyChange>,
    pub(super) generation: u64,
}

impl Projector {
    /// Brings memory, then the persisted views, up to the log's end (probes, the background task).
    pub async fn catch_up_views(&self) -> Result<(), StoreError> {
        self.catch_up_memory().await?;
        self.persist_views().await
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
                drop((model, dirty));
                self.settle(&[]);
                return Ok(());
            }
            let generation = dirty.generation;
            dirty.generation += 1;
            (generation, Self::changes_for(&model, &dirty))
        };
        self.views.save(&changes, &applied).await?;
        let settled: Vec<Uuid> = {
            let mut dirty = self.dirty();
            let Dirty { rows, keys, .. } = &mut *dirty;
            rows.retain(|_, touched_in| *touched_in > generation);
            let mut settled = Vec::new();
            keys.retain(|id, _| {
                let pending = rows.contains_key(&Touched::ApiKey(*id));
                if !pending {
                    settled.push(*id);
                }
                pending
            });
            settled
        };
        self.settle(&settled);
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
        tokio::time::timeout(deadline, reach)
            .await
            .map_err(|_| StoreError::ViewsBehind(deadline))?
    }

    /// Lets a bounded lookup evict the keys whose rows the store now holds (a key changed again
    /// since stays pinned: its row is still dirty), and evicts down to its capacity what it held
    /// beyond (run on every save, so a table that grew during a burst of changes shrinks back).
    fn settle(&self, ids: &[Uuid]) {
        {
            let model = self.read();
            if ids.is_empty() && !model.lookup.over_capacity() {
                return;
            }
            if model.lookup.capacity().is_none() {
                return;
            }
        }
        let mut model = self.model.write().unwrap_or_else(|p| p.into_inner());
        let dirty = self.dirty();
        for id in ids {
            if !dirty.rows.contains_key(&Touched::ApiKey(*id)) {
                model.lookup.settle(id);
            }
        }
        model.lookup.trim();
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
}
