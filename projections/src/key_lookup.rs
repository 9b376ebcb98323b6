//! Key hash → key entry: the table authentication reads on every request, kept compact so a million
//! keys fit in a few dozen bytes each.
//!
//! Every key ever folded has one fixed-size [`Slot`] in a slab (deleted keys keep theirs, dead, for
//! their version); three open-addressing tables of `u32` slab indexes find a slot by key hash (live
//! keys), by key id (every key) and by name digest (live keys, for the uniqueness pre-check). User
//! ids are interned: a slot holds a 4-byte index, not a `String`. A rotated key's previous secret,
//! while its grace runs, is found through a side table ([`graces`]) only such keys have an entry in;
//! so are a key's settings (scope, limit, networks, metadata), in [`policies`].
use chrono::{DateTime, Utc};
use domain::{KeyHash, KeyPolicy, UserId};
use hashbrown::HashTable;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use uuid::Uuid;

pub mod clock;
mod graces;
mod policies;

use clock::Clock;
use domain::api_key::Grace;
use graces::Graces;
use policies::Policies;

/// What authentication needs to know about a key, owned (store look-ups, loaders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupEntry {
    /// The key's id.
    pub api_key_id: Uuid,
    /// The user it acts as.
    pub user_id: UserId,
    /// Deactivated keys stay listed but do not authenticate.
    pub is_active: bool,
    /// Expiry, if any.
    pub expires_at: Option<DateTime<Utc>>,
    /// The key's settings, when it has any.
    pub policy: Option<Arc<KeyPolicy>>,
}

/// The same facts borrowed from the table: reading one allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef<'a> {
    /// The key's id.
    pub api_key_id: Uuid,
    /// The user it acts as.
    pub user_id: &'a UserId,
    /// Deactivated keys stay listed but do not authenticate.
    pub is_active: bool,
    /// Expiry, if any.
    pub expires_at: Option<DateTime<Utc>>,
    /// The key's settings, when it has any.
    pub policy: Option<&'a Arc<KeyPolicy>>,
}

impl LookupEntry {
    /// A borrowed view of this entry.
    pub fn as_ref(&self) -> KeyRef<'_> {
        KeyRef {
            api_key_id: self.api_key_id,
            user_id: &self.user_id,
            is_active: self.is_active,
            expires_at: self.expires_at,
            policy: self.policy.as_ref(),
        }
    }

    /// The settings as the lookup keeps them: shared, and none when empty.
    pub fn policy_of(policy: &KeyPolicy) -> Option<Arc<KeyPolicy>> {
        (!policy.is_empty()).then(|| Arc::new(policy.clone()))
    }
}

impl KeyRef<'_> {
    /// An owned copy.
    pub fn to_entry(&self) -> LookupEntry {
        LookupEntry {
            api_key_id: self.api_key_id,
            user_id: self.user_id.clone(),
            is_active: self.is_active,
            expires_at: self.expires_at,
            policy: self.policy.cloned(),
        }
    }
}

const LIVE: u8 = 1;
const ACTIVE: u8 = 2;
/// Changed by a fold and not yet known to be in the store's views: a bounded table never evicts
/// it, or a node could forget a revocation and then read the stale row back from the store.
const PINNED: u8 = 4;
/// Evicted: on the free list, in no index.
const FREE: u8 = 8;
/// `expires_secs` of a key that never expires.
const NEVER: i64 = i64::MIN;

/// One key, fixed size (80 bytes).
#[derive(Debug, Clone)]
struct Slot {
    hash: [u8; 32],
    id: Uuid,
    name: u64,
    expires_secs: i64,
    expires_nanos: u32,
    user: u32,
    version: u32,
    flags: u8,
}

impl Slot {
    fn live(&self) -> bool {
        self.flags & LIVE != 0
    }

    fn expires_at(&self) -> Option<DateTime<Utc>> {
        (self.expires_secs != NEVER)
            .then(|| DateTime::from_timestamp(self.expires_secs, self.expires_nanos))
            .flatten()
    }

    fn set_state(&mut self, is_active: bool, expires_at: Option<DateTime<Utc>>) {
        self.flags = (self.flags & (LIVE | PINNED)) | if is_active { ACTIVE } else { 0 };
        (self.expires_secs, self.expires_nanos) = expires_at.map_or((NEVER, 0), |at| {
            (at.timestamp(), at.timestamp_subsec_nanos())
        });
    }
}

/// SHA-256 output is already uniformly random, so its first 8 bytes are a perfect hash.
fn hash_bucket(hash: &[u8; 32]) -> u64 {
    u64::from_le_bytes(hash[..8].try_into().unwrap_or_default())
}

/// Key ids are random (v4); folding both halves, multiplying and folding the product's high half
/// into its low half keeps sequential ids (tests, benches, imports) spread as well: the table picks
/// a bucket by the low bits, which the multiplication alone leaves zero for ids below 2^35.
fn id_bucket(id: &Uuid) -> u64 {
    let (high, low) = id.as_u64_pair();
    let mixed = (high ^ low.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    mixed ^ (mixed >> 32)
}

/// A 64-bit digest of a key name. Two live names sharing one would make the second create refused
/// as a duplicate (odds about 1 in 10^13 at a million keys); the store's unique claim stays the
/// authority either way.
fn name_digest(name: &str) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    name.hash(&mut hasher);
    hasher.finish()
}

/// User ids, each stored once and counted by the live slots acting as it, so a bounded table
/// forgets a user with its last cached key.
#[derive(Debug, Default, Clone)]
struct Users {
    ids: Vec<UserId>,
    refs: Vec<u32>,
    index: HashMap<UserId, u32>,
    free: Vec<u32>,
}

impl Users {
    fn intern(&mut self, user: &UserId) -> u32 {
        if let Some(&n) = self.index.get(user) {
            self.refs[n as usize] += 1;
            return n;
        }
        let n = match self.free.pop() {
            Some(n) => {
                self.ids[n as usize] = user.clone();
                self.refs[n as usize] = 1;
                n
            }
            None => {
                self.ids.push(user.clone());
                self.refs.push(1);
                (self.ids.len() - 1) as u32
            }
        };
        self.index.insert(user.clone(), n);
        n
    }

    fn release(&mut self, n: u32) {
        let refs = &mut self.refs[n as usize];
        *refs = refs.saturating_sub(1);
        if *refs == 0 {
            self.index.remove(&self.ids[n as usize]);
            self.free.push(n);
        }
    }

    fn len(&self) -> usize {
        self.index.len()
    }
}

/// Every key by hash (live ones), id and name digest; deleted keys keep their version only.
#[derive(Debug, Default, Clone)]
pub struct KeyLookup {
    slots: Vec<Slot>,
    by_hash: HashTable<u32>,
    by_id: HashTable<u32>,
    by_name: HashTable<u32>,
    users: Users,
    live: usize,
    graces: Graces,
    policies: Policies,
    clock: Clock,
    ghosts: Ghosts,
}

/// Keys evicted lately and the version each had: a feed re-read (or a late delivery) of their
/// events is then recognised as folded already instead of making the key a new one. The most
/// recent [`GHOSTS`] evictions are kept; an older one's events are folded again from its history.
#[derive(Debug, Default, Clone)]
struct Ghosts {
    versions: HashMap<Uuid, u32>,
    order: std::collections::VecDeque<Uuid>,
}

/// Evictions remembered.
const GHOSTS: usize = 65_536;

impl Ghosts {
    fn remember(&mut self, id: Uuid, version: u32) {
        if version == 0 {
            return;
        }
        if self.versions.insert(id, version).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > GHOSTS {
            if let Some(old) = self.order.pop_front() {
                self.versions.remove(&old);
            }
        }
    }

    fn forget(&mut self, id: &Uuid) {
        if !self.versions.is_empty() {
            self.versions.remove(id);
        }
    }
}

impl KeyLookup {
    /// A table of at most `capacity` keys (live, deleted and cached ones together), the least
    /// recently used evicted first (CLOCK); keys changed and not yet settled are never evicted (see
    /// [`KeyLookup::settle`]).
    pub fn bounded(capacity: usize) -> Self {
        let mut lookup = Self::default();
        lookup.clock.capacity = Some(capacity.max(1));
        lookup
    }

    /// The capacity of a bounded table.
    pub fn capacity(&self) -> Option<usize> {
        self.clock.capacity
    }

    /// Slots held (live, deleted and cached keys): at most the capacity, beyond it only while
    /// changes are pinned.
    pub fn slots(&self) -> usize {
        self.slots.len() - self.clock.free.len()
    }

    /// Distinct users of the live keys.
    pub fn users(&self) -> usize {
        self.users.len()
    }

    fn slot_of_hash(&self, hash: &[u8; 32]) -> Option<u32> {
        let slots = &self.slots;
        self.by_hash
            .find(hash_bucket(hash), |&n| slots[n as usize].hash == *hash)
            .copied()
    }

    fn slot_of_id(&self, id: &Uuid) -> Option<u32> {
        let slots = &self.slots;
        self.by_id
            .find(id_bucket(id), |&n| slots[n as usize].id == *id)
            .copied()
    }

    fn view(&self, n: u32) -> KeyRef<'_> {
        let slot = &self.slots[n as usize];
        KeyRef {
            api_key_id: slot.id,
            user_id: &self.users.ids[slot.user as usize],
            is_active: slot.flags & ACTIVE != 0,
            expires_at: slot.expires_at(),
            policy: self.policies.of(n),
        }
    }

    /// The entry for a key's current secret.
    pub fn get(&self, hash: &KeyHash) -> Option<KeyRef<'_>> {
        self.slot_of_hash(hash.bytes()).map(|n| self.view(n))
    }

    /// The entry for a presented secret at `now`: a key's current one, or its previous one while
    /// the grace runs (then the entry expires when the grace ends, or earlier with the key).
    pub fn get_at(&self, hash: &KeyHash, now: DateTime<Utc>) -> Option<KeyRef<'_>> {
        if let Some(n) = self.slot_of_hash(hash.bytes()) {
            if self.clock.bounded() {
                self.clock.touch(n);
            }
            return Some(self.view(n));
        }
        let (n, until) = self.graces.find(hash.bytes()).filter(|(_, u)| *u > now)?;
        if self.clock.bounded() {
            self.clock.touch(n);
        }
        let mut view = self.view(n);
        view.expires_at = Some(view.expires_at.map_or(until, |e| e.min(until)));
        Some(view)
    }

    /// A live key's previous secret and the end of its grace, while it has one.
    pub fn grace(&self, id: &Uuid) -> Option<Grace> {
        self.slot_of_id(id)
            .filter(|&n| self.slots[n as usize].live())
            .and_then(|n| self.graces.of(n))
    }

    /// Gives a live key a previous secret in grace (`None` ends it); false when the key is not live.
    pub fn set_grace(&mut self, id: &Uuid, grace: Option<Grace>) -> bool {
        match self.slot_of_id(id) {
            Some(n) if self.slots[n as usize].live() => {
                self.graces.set(n, grace);
                self.pin(n);
                true
            }
            _ => false,
        }
    }

    /// Replaces a live key's current secret; false when the key is not live.
    pub fn rehash(&mut self, id: &Uuid, hash: KeyHash) -> bool {
        let Some(n) = self
            .slot_of_id(id)
            .filter(|&n| self.slots[n as usize].live())
        else {
            return false;
        };
        let old = hash_bucket(&self.slots[n as usize].hash);
        if let Ok(entry) = self.by_hash.find_entry(old, |&m| m == n) {
            entry.remove();
        }
        self.slots[n as usize].hash = *hash.bytes();
        self.pin(n);
        let slots = &self.slots;
        self.by_hash
            .insert_unique(hash_bucket(hash.bytes()), n, |&m| {
                hash_bucket(&slots[m as usize].hash)
            });
        true
    }

    /// Gives a live key its settings (`None`: none); false when the key is not live.
    pub fn set_policy(&mut self, id: &Uuid, policy: Option<Arc<KeyPolicy>>) -> bool {
        match self.slot_of_id(id) {
            Some(n) if self.slots[n as usize].live() => {
                self.policies.set(n, policy);
                self.pin(n);
                true
            }
            _ => false,
        }
    }

    /// Number of keys with settings.
    pub fn policies(&self) -> usize {
        self.policies.len()
    }

    /// Number of keys with a previous secret in grace.
    pub fn graces(&self) -> usize {
        self.graces.len()
    }

    /// The live key with this id.
    pub fn by_id(&self, id: &Uuid) -> Option<KeyRef<'_>> {
        self.slot_of_id(id)
            .filter(|&n| self.slots[n as usize].live())
            .map(|n| self.view(n))
    }

    /// Whether `id` may name a live key: it does in memory, or, in a bounded table, memory does not
    /// hold it at all (evicted or never cached) and so cannot say it was deleted.
    pub fn may_be_live(&self, id: &Uuid) -> bool {
        match self.slot_of_id(id) {
            Some(n) => self.slots[n as usize].live(),
            None => self.clock.bounded(),
        }
    }

    /// Whether a live key has exactly this name (see [`name_digest`] on collisions).
    pub fn name_in_use(&self, name: &str) -> bool {
        let digest = name_digest(name);
        let slots = &self.slots;
        self.by_name
            .find(digest, |&n| slots[n as usize].name == digest)
            .is_some()
    }

    /// Last sequence folded for a key, deleted ones included (0 when unknown).
    pub fn version(&self, id: &Uuid) -> u64 {
        self.slot_of_id(id)
            .map_or(0, |n| u64::from(self.slots[n as usize].version))
    }

    /// Records a key's version (a deleted key's, read back from a store, keeps a dead slot).
    pub fn set_version(&mut self, id: Uuid, version: u64) {
        let n = self.slot_for(id);
        self.slots[n as usize].version = u32::try_from(version).unwrap_or(u32::MAX);
        self.pin(n);
    }

    /// Keeps slot `n` from eviction until [`KeyLookup::settle`] and for [`clock::REREAD_HOLD_SECS`],
    /// and counts it as used.
    fn pin(&mut self, n: u32) {
        if self.clock.bounded() {
            self.slots[n as usize].flags |= PINNED;
            self.clock.touch(n);
            self.clock.hold(n);
        }
    }

    /// Whether the table holds more slots than its capacity (keys pinned or held a while ago).
    pub fn over_capacity(&self) -> bool {
        self.clock.capacity.is_some_and(|cap| self.slots() > cap)
    }

    /// The store's views now hold every change of this key folded so far: a bounded table may
    /// evict it again.
    pub fn settle(&mut self, id: &Uuid) {
        if let Some(n) = self.slot_of_id(id) {
            self.slots[n as usize].flags &= !PINNED;
        }
    }

    /// Caches a key read from the store (a cold look-up) at the version its row had, unless this
    /// table already holds that version or a newer one of it (then the store's row is older than
    /// what the feed brought). Not pinned: the store holds it. False when not cached.
    pub fn cache(&mut self, hash: KeyHash, entry: LookupEntry, version: u64) -> bool {
        if self.slot_of_id(&entry.api_key_id).is_some()
            && self.version(&entry.api_key_id) >= version
        {
            return false;
        }
        let n = self.insert_slot(hash, entry, "");
        let slot = &mut self.slots[n as usize];
        slot.version = u32::try_from(version).unwrap_or(u32::MAX);
        slot.flags &= !PINNED;
        self.clock.reset(n);
        true
    }

    /// Frees least recently used unpinned slots until one more fits in the capacity (as many as it
    /// takes after pinned keys were settled).
    fn make_room(&mut self) {
        self.evict_while(|lookup| lookup.clock.full(lookup.slots()));
    }

    /// Evicts down to the capacity: what a table that grew while keys were pinned does once they
    /// are settled.
    pub fn trim(&mut self) {
        self.evict_while(|lookup| lookup.clock.full(lookup.slots() - 1));
    }

    fn evict_while(&mut self, over: impl Fn(&Self) -> bool) {
        while !self.slots.is_empty() && over(self) {
            let slots = &self.slots;
            let evictable = |n: u32| slots[n as usize].flags & (PINNED | FREE) == 0;
            match self.clock.victim(self.slots.len(), evictable) {
                Some(n) => self.evict(n),
                None => return,
            }
        }
    }

    /// The version a key had when it was evicted lately (see [`Ghosts`]).
    pub fn evicted_version(&self, id: &Uuid) -> Option<u64> {
        self.ghosts.versions.get(id).map(|v| u64::from(*v))
    }

    /// Stops recognising an evicted key's events as folded: its whole history is about to be
    /// folded again.
    pub fn forget_evicted(&mut self, id: &Uuid) {
        self.ghosts.forget(id);
    }

    /// Forgets slot `n` (remembering its version a while) and puts it on the free list.
    fn evict(&mut self, n: u32) {
        self.unlink(n);
        let id = self.slots[n as usize].id;
        self.ghosts.remember(id, self.slots[n as usize].version);
        if let Ok(entry) = self.by_id.find_entry(id_bucket(&id), |&m| m == n) {
            entry.remove();
        }
        let slot = &mut self.slots[n as usize];
        slot.version = 0;
        slot.flags = FREE;
        self.clock.free.push(n);
    }

    /// The slot of `id`, a new dead one when the id is unknown (evicting one first when bounded
    /// and full).
    fn slot_for(&mut self, id: Uuid) -> u32 {
        if let Some(n) = self.slot_of_id(&id) {
            return n;
        }
        self.make_room();
        self.ghosts.forget(&id);
        let fresh = Slot {
            hash: [0; 32],
            id,
            name: 0,
            expires_secs: NEVER,
            expires_nanos: 0,
            user: 0,
            version: 0,
            flags: 0,
        };
        let n = match self.clock.free.pop() {
            Some(n) => {
                self.slots[n as usize] = fresh;
                self.clock.reset(n);
                n
            }
            None => {
                self.slots.push(fresh);
                self.clock.track(self.slots.len());
                (self.slots.len() - 1) as u32
            }
        };
        let slots = &self.slots;
        self.by_id
            .insert_unique(id_bucket(&id), n, |&m| id_bucket(&slots[m as usize].id));
        n
    }

    /// Room for `additional` more keys without growing any table (a loader that knows the count).
    pub fn reserve(&mut self, additional: usize) {
        self.slots.reserve(additional);
        let slots = &self.slots;
        self.by_hash
            .reserve(additional, |&m| hash_bucket(&slots[m as usize].hash));
        self.by_id
            .reserve(additional, |&m| id_bucket(&slots[m as usize].id));
        self.by_name
            .reserve(additional, |&m| slots[m as usize].name);
    }

    /// Adds or replaces a live key named `name`.
    pub fn insert(&mut self, hash: KeyHash, entry: LookupEntry, name: &str) {
        self.insert_slot(hash, entry, name);
    }

    /// [`KeyLookup::insert`] and [`KeyLookup::set_version`] in one (loaders).
    pub fn insert_at_version(
        &mut self,
        hash: KeyHash,
        entry: LookupEntry,
        name: &str,
        version: u64,
    ) {
        let n = self.insert_slot(hash, entry, name);
        self.slots[n as usize].version = u32::try_from(version).unwrap_or(u32::MAX);
    }

    fn insert_slot(&mut self, hash: KeyHash, entry: LookupEntry, name: &str) -> u32 {
        let n = self.slot_for(entry.api_key_id);
        self.unlink(n);
        let user = self.users.intern(&entry.user_id);
        let slot = &mut self.slots[n as usize];
        slot.hash = *hash.bytes();
        slot.name = name_digest(name);
        slot.user = user;
        slot.flags = LIVE | (slot.flags & PINNED);
        slot.set_state(entry.is_active, entry.expires_at);
        let (hash, name) = (slot.hash, slot.name);
        self.policies.set(n, entry.policy);
        let slots = &self.slots;
        self.by_hash.insert_unique(hash_bucket(&hash), n, |&m| {
            hash_bucket(&slots[m as usize].hash)
        });
        self.by_name
            .insert_unique(name, n, |&m| slots[m as usize].name);
        self.live += 1;
        self.pin(n);
        n
    }

    /// Changes a live key's state; false when the key is not live.
    pub fn update(
        &mut self,
        id: &Uuid,
        is_active: bool,
        expires_at: Option<DateTime<Utc>>,
    ) -> bool {
        match self.slot_of_id(id) {
            Some(n) if self.slots[n as usize].live() => {
                self.slots[n as usize].set_state(is_active, expires_at);
                self.pin(n);
                true
            }
            _ => false,
        }
    }

    /// Forgets a key (its version stays).
    pub fn remove(&mut self, id: &Uuid) {
        if let Some(n) = self.slot_of_id(id) {
            self.unlink(n);
            self.pin(n);
        }
    }

    /// Takes a live slot out of the hash and name tables and marks it dead.
    fn unlink(&mut self, n: u32) {
        let slot = &self.slots[n as usize];
        if !slot.live() {
            return;
        }
        let (hash, name) = (hash_bucket(&slot.hash), slot.name);
        if let Ok(entry) = self.by_hash.find_entry(hash, |&m| m == n) {
            entry.remove();
        }
        if let Ok(entry) = self.by_name.find_entry(name, |&m| m == n) {
            entry.remove();
        }
        self.graces.remove(n);
        self.policies.set(n, None);
        self.users.release(self.slots[n as usize].user);
        self.slots[n as usize].flags &= PINNED;
        self.live -= 1;
    }

    /// Number of live keys.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True when no key is live.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Every live entry with its hash, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (KeyHash, KeyRef<'_>)> {
        (0..self.slots.len() as u32)
            .filter(|&n| self.slots[n as usize].live())
            .map(|n| {
                (
                    KeyHash::from_bytes(self.slots[n as usize].hash),
                    self.view(n),
                )
            })
    }

    /// Every key's version, deleted ones included.
    pub fn versions(&self) -> impl Iterator<Item = (Uuid, u64)> + '_ {
        self.slots
            .iter()
            .filter(|s| s.version > 0)
            .map(|s| (s.id, u64::from(s.version)))
    }
}

/// Tables compare by their live entries and graces, not by slab layout.
impl PartialEq for KeyLookup {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(hash, entry)| other.get(&hash) == Some(entry))
            && self.graces.len() == other.graces.len()
            && self
                .graces
                .iter()
                .all(|(n, grace)| other.grace(&self.slots[n as usize].id) == Some(grace))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u128, user: &str) -> (KeyHash, LookupEntry) {
        let entry = LookupEntry {
            api_key_id: Uuid::from_u128(n),
            user_id: UserId::from_stored(user),
            is_active: true,
            expires_at: None,
            policy: None,
        };
        (KeyHash::of(&format!("vams_key_{n}")), entry)
    }

    #[test]
    fn a_bounded_table_keeps_its_capacity_and_the_keys_in_use() {
        let mut lookup = KeyLookup::bounded(100);
        let (hot_hash, hot) = entry(0, "hot-user");
        assert!(lookup.cache(hot_hash, hot, 1));
        for n in 1..=1_000 {
            let (hash, e) = entry(n, &format!("user-{}", n % 7));
            assert!(lookup.cache(hash, e, 1));
            assert!(
                lookup.get_at(&hot_hash, Utc::now()).is_some(),
                "the hot key stays ({n})"
            );
            assert!(lookup.slots() <= 100, "{} slots", lookup.slots());
        }
        assert_eq!(lookup.len(), 100);
        // The first keys cached and never used again are gone, their users with them when no
        // other cached key acts as them.
        assert!(lookup.get(&entry(1, "user-1").0).is_none());
        assert!(lookup.by_id(&Uuid::from_u128(1)).is_none());
        assert_eq!(lookup.version(&Uuid::from_u128(1)), 0);
        assert_eq!(lookup.users(), 8, "7 users of the rotation and the hot one");
    }

    #[test]
    fn changed_keys_stay_until_settled_then_make_room() {
        let mut lookup = KeyLookup::bounded(10);
        for n in 0..15 {
            let (hash, e) = entry(n, "u");
            lookup.insert_at_version(hash, e, &format!("k{n}"), 1);
        }
        assert_eq!(lookup.len(), 15, "pinned keys are never evicted");
        lookup.remove(&Uuid::from_u128(3));
        assert_eq!(
            lookup.version(&Uuid::from_u128(3)),
            1,
            "a deletion keeps its version"
        );
        for n in 0..15 {
            lookup.settle(&Uuid::from_u128(n));
        }
        let (hash, e) = entry(99, "u");
        lookup.cache(hash, e, 1);
        assert_eq!(
            lookup.slots(),
            16,
            "settled keys are still held a while: a feed re-read finds them folded"
        );
        assert_eq!(lookup.version(&Uuid::from_u128(3)), 1);
        lookup.clock.end_holds();
        for n in 100..120 {
            let (hash, e) = entry(n, "u");
            lookup.cache(hash, e, 1);
        }
        assert!(lookup.slots() <= 10, "{} slots", lookup.slots());
        assert_eq!(lookup.users(), 1);
        for n in 200..215 {
            let (hash, e) = entry(n, "u");
            lookup.insert_at_version(hash, e, &format!("k{n}"), 1);
        }
        assert_eq!(
            lookup.slots(),
            15,
            "the settled keys made room, then it grew while pinned"
        );
        for n in 200..215 {
            lookup.settle(&Uuid::from_u128(n));
        }
        lookup.clock.end_holds();
        assert!(lookup.over_capacity());
        lookup.trim();
        assert_eq!(lookup.slots(), 10, "trimmed back once settled");
    }

    #[test]
    fn an_evicted_key_is_remembered_with_its_version() {
        let mut lookup = KeyLookup::bounded(2);
        for n in 0..3 {
            let (hash, e) = entry(n, "u");
            lookup.cache(hash, e, 4);
        }
        let evicted: Vec<u64> = (0..3)
            .filter_map(|n| lookup.evicted_version(&Uuid::from_u128(n)))
            .collect();
        assert_eq!(evicted, vec![4]);
        let id = (0..3)
            .map(Uuid::from_u128)
            .find(|id| lookup.evicted_version(id).is_some());
        let id = id.expect("one evicted");
        lookup.forget_evicted(&id);
        assert_eq!(lookup.evicted_version(&id), None);
    }

    #[test]
    fn a_cold_read_never_replaces_a_newer_version() {
        let mut lookup = KeyLookup::bounded(10);
        let (hash, mut e) = entry(1, "u");
        e.is_active = false;
        lookup.insert_at_version(hash, e.clone(), "k", 5);
        e.is_active = true;
        assert!(!lookup.cache(hash, e.clone(), 4), "an older row");
        assert!(!lookup.cache(hash, e.clone(), 5), "the same version");
        assert!(!lookup.get(&hash).unwrap().is_active);
        lookup.remove(&e.api_key_id);
        assert!(
            !lookup.cache(hash, e.clone(), 5),
            "a deleted key's stale row"
        );
        assert!(lookup.get(&hash).is_none());
        assert!(lookup.cache(hash, e, 6));
        assert!(lookup.get(&hash).unwrap().is_active);
    }

    #[test]
    fn an_unbounded_table_never_evicts_and_knows_what_it_never_saw() {
        let mut lookup = KeyLookup::default();
        for n in 0..50 {
            let (hash, e) = entry(n, "u");
            lookup.cache(hash, e, 1);
        }
        assert_eq!(lookup.len(), 50);
        assert!(!lookup.may_be_live(&Uuid::from_u128(999)));
        assert!(KeyLookup::bounded(5).may_be_live(&Uuid::from_u128(999)));
    }

    #[test]
    fn sequential_ids_spread_over_the_low_bits_the_table_indexes_by() {
        let low_bits: std::collections::HashSet<u64> = (1..=60_000u128)
            .map(|n| id_bucket(&Uuid::from_u128(n)) & 0xFFFF)
            .collect();
        // Random buckets would fill about 39 000 of 65 536; the unmixed product filled one.
        assert!(low_bits.len() > 30_000, "{} distinct", low_bits.len());
    }
}
