//! Previous secrets in grace: a side table only keys in the middle of a rotation have an entry in,
//! so the slab's fixed-size slots stay as they are for the million keys that are not.
use chrono::{DateTime, Utc};
use domain::api_key::Grace;
use domain::KeyHash;
use std::collections::HashMap;

/// Grace hash → (slot, until), and slot → grace hash, for removal.
#[derive(Debug, Default, Clone)]
pub(super) struct Graces {
    by_hash: HashMap<[u8; 32], (u32, DateTime<Utc>)>,
    by_slot: HashMap<u32, [u8; 32]>,
}

impl Graces {
    /// Gives slot `n` this grace (`None`: ends any).
    pub(super) fn set(&mut self, n: u32, grace: Option<Grace>) {
        self.remove(n);
        if let Some(grace) = grace {
            let hash = *grace.key_hash.bytes();
            self.by_hash.insert(hash, (n, grace.until));
            self.by_slot.insert(n, hash);
        }
    }

    /// Ends slot `n`'s grace.
    pub(super) fn remove(&mut self, n: u32) {
        if let Some(hash) = self.by_slot.remove(&n) {
            self.by_hash.remove(&hash);
        }
    }

    /// The slot and end of the grace of a previous secret.
    pub(super) fn find(&self, hash: &[u8; 32]) -> Option<(u32, DateTime<Utc>)> {
        self.by_hash.get(hash).copied()
    }

    /// Slot `n`'s grace.
    pub(super) fn of(&self, n: u32) -> Option<Grace> {
        let hash = self.by_slot.get(&n)?;
        let (_, until) = self.by_hash.get(hash)?;
        Some(Grace {
            key_hash: KeyHash::from_bytes(*hash),
            until: *until,
        })
    }

    /// Every grace with its slot.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u32, Grace)> + '_ {
        self.by_hash.iter().map(|(hash, (n, until))| {
            (
                *n,
                Grace {
                    key_hash: KeyHash::from_bytes(*hash),
                    until: *until,
                },
            )
        })
    }

    /// Number of keys in grace.
    pub(super) fn len(&self) -> usize {
        self.by_hash.len()
    }
}
