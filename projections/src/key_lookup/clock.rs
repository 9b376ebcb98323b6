//! What a bounded lookup (the AWS backend's per-node cache, `APIKEYD_CACHE_KEYS`) adds to the
//! table: a capacity, one "used since the hand last passed" bit per slot, the clock hand, and the
//! slots freed by eviction for reuse. CLOCK approximates least-recently-used with one relaxed
//! atomic store on a hit (and none when the bit is already set), so the verify path stays a read.
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// How long a key changed by a fold is kept at least: longer than any feed's re-read window (5 s
/// on DynamoDB, ADR 002), so a re-read of its events finds them folded instead of folding a
/// forgotten key's history again (and writing its rows again).
pub const REREAD_HOLD_SECS: u32 = 10;

/// The eviction state of a bounded lookup.
#[derive(Debug, Default)]
pub(super) struct Clock {
    /// Slots at most (live, dead and cached ones together); `None`: unbounded.
    pub(super) capacity: Option<usize>,
    used: Vec<AtomicBool>,
    hand: usize,
    /// Slots evicted and free for reuse.
    pub(super) free: Vec<u32>,
    /// Per slot, the second (since `epoch`) before which it is not evicted.
    hold: Vec<u32>,
    epoch: Option<Instant>,
}

impl Clone for Clock {
    fn clone(&self) -> Self {
        Self {
            capacity: self.capacity,
            used: self
                .used
                .iter()
                .map(|u| AtomicBool::new(u.load(Ordering::Relaxed)))
                .collect(),
            hand: self.hand,
            free: self.free.clone(),
            hold: self.hold.clone(),
            epoch: self.epoch,
        }
    }
}

impl Clock {
    /// Whether the table has a capacity.
    pub(super) fn bounded(&self) -> bool {
        self.capacity.is_some()
    }

    /// Marks slot `n` used (a hit, or a fold that changed it).
    pub(super) fn touch(&self, n: u32) {
        if let Some(bit) = self.used.get(n as usize) {
            if !bit.load(Ordering::Relaxed) {
                bit.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Keeps one bit per slot of a table that now has `slots` slots; a new slot starts unused (a
    /// key earns its second chance by a hit).
    pub(super) fn track(&mut self, slots: usize) {
        if self.bounded() {
            self.used.resize_with(slots, || AtomicBool::new(false));
            self.hold.resize(slots, 0);
        }
    }

    fn now(&mut self) -> u32 {
        let epoch = *self.epoch.get_or_insert_with(Instant::now);
        u32::try_from(epoch.elapsed().as_secs()).unwrap_or(u32::MAX)
    }

    /// Slot `n` was changed by a fold: keep it for [`REREAD_HOLD_SECS`].
    pub(super) fn hold(&mut self, n: u32) {
        let until = self.now().saturating_add(REREAD_HOLD_SECS);
        if let Some(hold) = self.hold.get_mut(n as usize) {
            *hold = until;
        }
    }

    /// Ends every hold now (tests, which cannot wait out the clock).
    #[cfg(test)]
    pub(super) fn end_holds(&mut self) {
        self.hold.iter_mut().for_each(|h| *h = 0);
    }

    /// Whether slot `n`'s hold has run out.
    pub(super) fn released(&mut self, n: u32) -> bool {
        let now = self.now();
        self.hold.get(n as usize).is_none_or(|until| *until <= now)
    }

    /// Slot `n` holds a new key: unused so far, not held.
    pub(super) fn reset(&mut self, n: u32) {
        if let Some(bit) = self.used.get(n as usize) {
            bit.store(false, Ordering::Relaxed);
        }
        if let Some(hold) = self.hold.get_mut(n as usize) {
            *hold = 0;
        }
    }

    /// Whether another slot would pass the capacity with `in_use` slots taken.
    pub(super) fn full(&self, in_use: usize) -> bool {
        self.capacity.is_some_and(|cap| in_use >= cap)
    }

    /// The next victim among `slots` slots: the first one, from the hand on, that is not used since
    /// the hand last passed, not held, and that `evictable` allows; used bits are cleared on the way. `None`
    /// when two full turns find none (every slot pinned or held): the table then grows past its capacity
    /// rather than forget a change the store does not hold yet.
    pub(super) fn victim(&mut self, slots: usize, evictable: impl Fn(u32) -> bool) -> Option<u32> {
        for _ in 0..slots.saturating_mul(2) {
            let n = self.hand % slots.max(1);
            self.hand = n + 1;
            let n32 = n as u32;
            if !evictable(n32) || !self.released(n32) {
                continue;
            }
            if self.used[n].swap(false, Ordering::Relaxed) {
                continue;
            }
            return Some(n32);
        }
        None
    }
}
