//! Keys' settings: a side table only keys with settings have an entry in, so a million keys without
//! any keep their fixed-size slots and pay nothing.
use domain::KeyPolicy;
use std::collections::HashMap;
use std::sync::Arc;

/// Slot → settings (shared: a look-up hands out a reference, a store entry a cheap clone).
#[derive(Debug, Default, Clone)]
pub(super) struct Policies {
    by_slot: HashMap<u32, Arc<KeyPolicy>>,
}

impl Policies {
    /// Gives slot `n` these settings (`None`, or empty ones: it has none).
    pub(super) fn set(&mut self, n: u32, policy: Option<Arc<KeyPolicy>>) {
        match policy.filter(|p| !p.is_empty()) {
            Some(policy) => {
                self.by_slot.insert(n, policy);
            }
            None => {
                self.by_slot.remove(&n);
            }
        }
    }

    /// Slot `n`'s settings.
    pub(super) fn of(&self, n: u32) -> Option<&Arc<KeyPolicy>> {
        if self.by_slot.is_empty() {
            return None;
        }
        self.by_slot.get(&n)
    }

    /// Number of keys with settings.
    pub(super) fn len(&self) -> usize {
        self.by_slot.len()
    }
}
