//! What this node observed since its last flush, and every key's persisted last use.
//!
//! Recording is the verification hot path: one of [`SHARDS`] mutexes, picked by the key id's low
//! bits, guards a small map of the keys used since the last flush, so two requests contend only
//! when they hit the same shard at the same instant; nothing allocates but a key's first use in a
//! flush interval, a new hour or a new client address. The common case — the same key from the
//! same client in the same hour — only bumps counters inside the map entry ([`Pending`]).
use super::{hour_of, LastUse, Usage};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};
use uuid::Uuid;

/// Shards of the pending map.
const SHARDS: usize = 64;

/// Key ids are random (v4): folding their bytes is hash enough, and far cheaper than SipHash.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(29) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type IdMap<V> = HashMap<Uuid, V, BuildHasherDefault<IdHasher>>;

/// One key's unflushed observations: the current run of uses (one hour, one client) as counters,
/// everything before it folded into `usage`.
#[derive(Debug, Clone)]
struct Pending {
    usage: Usage,
    run: Option<Run>,
}

/// Consecutive uses in one hour from one client.
#[derive(Debug, Clone, Copy)]
struct Run {
    hour: i64,
    from: Option<IpAddr>,
    count: u64,
    last: DateTime<Utc>,
}

impl Pending {
    fn new() -> Self {
        Self {
            usage: Usage::default(),
            run: None,
        }
    }

    fn record(&mut self, from: Option<IpAddr>, at: DateTime<Utc>) {
        let hour = hour_of(at);
        match &mut self.run {
            Some(run) if run.hour == hour && run.from == from => {
                run.count += 1;
                run.last = run.last.max(at);
            }
            _ => {
                self.fold();
                self.run = Some(Run {
                    hour,
                    from,
                    count: 1,
                    last: at,
                });
            }
        }
    }

    /// Moves the current run into `usage`.
    fn fold(&mut self) {
        if let Some(run) = self.run.take() {
            self.usage
                .record_many(run.from, run.last, run.hour, run.count);
        }
    }

    fn last(&self) -> Option<LastUse> {
        let run = self.run.map(|r| LastUse {
            at: r.last,
            from: r.from,
        });
        LastUse::latest(self.usage.last, run)
    }

    fn into_usage(mut self) -> Usage {
        self.fold();
        self.usage
    }
}

/// Observations not yet flushed, and the persisted last use of every key.
pub struct UsageTracker {
    enabled: bool,
    pending: Box<[Mutex<IdMap<Pending>>]>,
    persisted: RwLock<IdMap<LastUse>>,
    flushes: AtomicU64,
}

impl std::fmt::Debug for UsageTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageTracker")
            .field("enabled", &self.enabled)
            .field("pending_keys", &self.pending_keys())
            .finish_non_exhaustive()
    }
}

fn shard_of(id: &Uuid) -> usize {
    (id.as_u64_pair().1 as usize) % SHARDS
}

impl UsageTracker {
    /// A tracker that records (`enabled`) or ignores every verification.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            pending: (0..SHARDS).map(|_| Mutex::new(IdMap::default())).collect(),
            persisted: RwLock::new(IdMap::default()),
            flushes: AtomicU64::new(0),
        }
    }

    /// Whether verifications are recorded.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Runs `f` on the pending entry of `id` (created when missing) under its shard's lock.
    fn entry(&self, id: Uuid, f: impl FnOnce(&mut Pending)) {
        let mut shard = self.pending[shard_of(&id)]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        f(shard.entry(id).or_insert_with(Pending::new));
    }

    /// Records one successful verification of `id` from `from` at `at`.
    pub fn record(&self, id: Uuid, from: Option<IpAddr>, at: DateTime<Utc>) {
        if !self.enabled {
            return;
        }
        self.entry(id, |pending| pending.record(from, at));
    }

    /// The latest use of `id` this node knows: its own unflushed observations and what the store
    /// held at the last refresh.
    pub fn last_use(&self, id: &Uuid) -> Option<LastUse> {
        let pending = self.pending[shard_of(id)]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .and_then(Pending::last);
        let persisted = self
            .persisted
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .copied();
        LastUse::latest(pending, persisted)
    }

    /// This node's unflushed observations of `id`.
    pub fn pending(&self, id: &Uuid) -> Option<Usage> {
        self.pending[shard_of(id)]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
            .map(Pending::into_usage)
    }

    /// Takes every unflushed observation; their last uses count as persisted at once, so a
    /// listing never shows an older use while the flush is under way.
    pub fn take(&self) -> Vec<(Uuid, Usage)> {
        let mut taken = Vec::new();
        for shard in self.pending.iter() {
            let drained =
                std::mem::take(&mut *shard.lock().unwrap_or_else(PoisonError::into_inner));
            taken.extend(drained.into_iter().map(|(id, p)| (id, p.into_usage())));
        }
        self.remember(taken.iter().filter_map(|(id, u)| u.last.map(|l| (*id, l))));
        taken
    }

    /// Puts observations a flush could not write back, merged with what arrived since.
    pub fn restore(&self, taken: Vec<(Uuid, Usage)>, now: DateTime<Utc>) {
        for (id, usage) in taken {
            self.entry(id, |pending| pending.usage.merge(&usage, now));
        }
    }

    /// Folds persisted last uses in (the later one wins per key).
    pub fn remember(&self, uses: impl IntoIterator<Item = (Uuid, LastUse)>) {
        let mut persisted = self
            .persisted
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        for (id, last) in uses {
            persisted
                .entry(id)
                .and_modify(|known| *known = known.later(last))
                .or_insert(last);
        }
    }

    /// Keys with unflushed observations.
    pub fn pending_keys(&self) -> usize {
        self.pending
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    /// Flushes written so far.
    pub fn flushes(&self) -> u64 {
        self.flushes.load(Ordering::Relaxed)
    }

    pub(super) fn flushed(&self) {
        self.flushes.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_and_persisted_uses_join_and_flush_takes_everything() {
        let tracker = UsageTracker::new(true);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let t0: DateTime<Utc> = "2026-12-01T20:00:00Z".parse().unwrap();
        let t1 = t0 + chrono::TimeDelta::minutes(5);
        tracker.remember([(a, LastUse { at: t1, from: None })]);
        tracker.record(a, None, t0);
        tracker.record(b, "10.0.0.1".parse().ok(), t1);
        assert_eq!(
            tracker.last_use(&a).map(|l| l.at),
            Some(t1),
            "the later one wins"
        );
        assert_eq!(tracker.pending_keys(), 2);
        let taken = tracker.take();
        assert_eq!(taken.len(), 2);
        assert_eq!(tracker.pending_keys(), 0);
        assert_eq!(
            tracker.last_use(&b).map(|l| l.at),
            Some(t1),
            "still shown while flushing"
        );
        tracker.restore(taken, t1);
        assert_eq!(tracker.pending_keys(), 2);
    }

    #[test]
    fn runs_of_one_client_fold_into_the_same_counts() {
        let tracker = UsageTracker::new(true);
        let id = Uuid::new_v4();
        let t0: DateTime<Utc> = "2026-12-01T20:59:58Z".parse().unwrap();
        let (one, two) = ("10.0.0.1".parse().ok(), "10.0.0.2".parse().ok());
        tracker.record(id, one, t0);
        tracker.record(id, one, t0);
        tracker.record(id, two, t0);
        tracker.record(id, one, t0 + chrono::TimeDelta::seconds(1));
        tracker.record(id, one, t0 + chrono::TimeDelta::seconds(3)); // the next hour
        let mut expected = Usage::default();
        for (from, s) in [(one, 0), (one, 0), (two, 0), (one, 1), (one, 3)] {
            expected.record(from, t0 + chrono::TimeDelta::seconds(s));
        }
        assert_eq!(tracker.pending(&id).unwrap().last, expected.last);
        let (_, usage) = tracker.take().pop().unwrap();
        assert_eq!(usage.hours, expected.hours);
        assert_eq!(usage.top_ips(), expected.top_ips());
    }

    #[test]
    fn a_disabled_tracker_records_nothing() {
        let tracker = UsageTracker::new(false);
        tracker.record(Uuid::new_v4(), None, Utc::now());
        assert_eq!(tracker.pending_keys(), 0);
    }
}
