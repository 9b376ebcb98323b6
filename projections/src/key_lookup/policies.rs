//! Keys' settings: a side table only keys with settings have an entry in, so a million keys without
//! any keep their fixed-size slots and pay nothing.
use domain::KeyPolicy;
use hashbrown::HashTable;
use std::sync::Arc;

/// Slot → settings (shared: a look-up hands out a reference, a store entry a cheap clone). Keyed
/// by slot index with a multiplicative hash: the look-up sits on the verify hot path, where
/// SipHash over a `u32` would cost more than the rest of the side table.
#[derive(Debug, Default, Clone)]
pub(super) struct Policies {
    by_slot: HashTable<(u32, Arc<KeyPolicy>)>,
}

fn bucket(n: u32) -> u64 {
    let mixed = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    mixed ^ (mixed >> 32)
}

impl Policies {
    /// Gives slot `n` these settings (`None`, or empty ones: it has none).
    pub(super) fn set(&mut self, n: u32, policy: Option<Arc<KeyPolicy>>) {
        if let Ok(entry) = self.by_slot.find_entry(bucket(n), |(m, _)| *m == n) {
            entry.remove();
        }
        if let Some(policy) = policy.filter(|p| !p.is_empty()) {
            self.by_slot
                .insert_unique(bucket(n), (n, policy), |(m, _)| bucket(*m));
        }
    }

    /// Slot `n`'s settings.
    pub(super) fn of(&self, n: u32) -> Option<&Arc<KeyPolicy>> {
        if self.by_slot.is_empty() {
            return None;
        }
        self.by_slot
            .find(bucket(n), |(m, _)| *m == n)
            .map(|(_, policy)| policy)
    }

    /// Number of keys with settings.
    pub(super) fn len(&self) -> usize {
        self.by_slot.len()
    }
}
