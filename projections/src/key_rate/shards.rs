//! Per-key state in sharded maps whose ended windows are swept as the maps grow.
//!
//! One of [`SHARDS`] mutexes, picked by the key id, guards a map: two requests contend only when
//! they hit the same shard at the same instant. Nothing allocates but a key's first request (and
//! the map's growth); a sweep runs when a shard holds twice the entries it kept at its last sweep,
//! so its cost is amortised over the insertions that made it necessary and a shard never holds
//! more than twice its keys with a live window (or [`SWEEP_FLOOR`]).
use crate::usage::tracker::IdHasher;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::{Mutex, PoisonError};
use uuid::Uuid;

/// Shards per map: a few times the cores of a node, so contention stays rare.
const SHARDS: usize = 16;
/// Entries a shard may hold before its first sweep: sweeping a tiny map buys nothing.
const SWEEP_FLOOR: usize = 64;

/// State that belongs to a window and may be dropped once the window is over.
pub(super) trait Expiring {
    /// Whether the state may be dropped at `now_secs`.
    fn expired(&self, now_secs: u64) -> bool;
}

struct Shard<V> {
    entries: HashMap<Uuid, V, BuildHasherDefault<IdHasher>>,
    /// Entries kept by the last sweep.
    kept: usize,
}

impl<V: Expiring> Shard<V> {
    fn sweep_if_doubled(&mut self, now_secs: u64) {
        if self.entries.len() < (self.kept * 2).max(SWEEP_FLOOR) {
            return;
        }
        self.entries.retain(|_, v| !v.expired(now_secs));
        self.kept = self.entries.len();
        // A burst of keys that went quiet should not pin its peak capacity forever.
        if self.entries.capacity() > 4 * self.kept.max(SWEEP_FLOOR) {
            self.entries.shrink_to(2 * self.kept.max(SWEEP_FLOOR));
        }
    }
}

/// Key id → state, sharded.
pub(super) struct Shards<V> {
    shards: Box<[Mutex<Shard<V>>]>,
}

impl<V: Expiring> Shards<V> {
    /// Empty maps.
    pub fn new() -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        entries: HashMap::default(),
                        kept: 0,
                    })
                })
                .collect(),
        }
    }

    /// Runs `f` on the state of `key` under its shard's lock, made by `make` on the key's first
    /// request (when the shard may be swept first).
    pub fn with<R>(
        &self,
        key: Uuid,
        now_secs: u64,
        make: impl FnOnce() -> V,
        f: impl FnOnce(&mut V) -> R,
    ) -> R {
        // The low bits of a v4 id are random: as good a shard pick as any hash.
        let index = (key.as_u128() as usize) % SHARDS;
        let mut shard = self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(state) = shard.entries.get_mut(&key) {
            return f(state);
        }
        shard.sweep_if_doubled(now_secs);
        f(shard.entries.entry(key).or_insert_with(make))
    }

    /// Keys held in all shards.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                s.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entries
                    .len()
            })
            .sum()
    }
}
