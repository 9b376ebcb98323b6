//! Keys memory does not know: ask the store, boundedly.
//!
//! A node's bounded key cache (AWS backend) holds only recently used keys, and its read model
//! trails other nodes' commits by one poll; every other key is one consistent read of the store's
//! lookup table. What bounds that read is the client, never a budget shared by all clients: a
//! flood of unknown keys is charged to the flooding clients' failure limiter (checked before a
//! miss gets here), so a valid key presented by anyone else is always looked up. On top of that,
//! a confirmed miss is remembered for a short while, and at most [`IN_FLIGHT`] look-ups run at
//! once (further ones wait their turn rather than being refused).
use crate::key_lookup::LookupEntry;
use crate::projector::StoreError;
use async_trait::async_trait;
use domain::KeyHash;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Store look-ups of one node in flight at most.
const IN_FLIGHT: usize = 64;
/// How long a confirmed miss is answered from memory.
const NEGATIVE_TTL: Duration = Duration::from_secs(2);
/// Remembered misses at most; beyond it the expired ones, then all, are dropped.
const NEGATIVE_MAX: usize = 100_000;

/// A key found in the store's lookup table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// What authentication needs (for a previous secret, expiring when its grace ends).
    pub entry: LookupEntry,
    /// The key's version when the row was written.
    pub version: u64,
    /// The row is a rotated key's previous secret, valid while its grace runs.
    pub grace: bool,
}

/// A direct look-up of a key hash in the store.
#[async_trait]
pub trait LookupFallback: Send + Sync {
    /// The live row for `hash`, if the store has one.
    async fn lookup(&self, hash: &KeyHash) -> Result<Option<StoredKey>, StoreError>;
}

/// The negative cache and concurrency bound in front of a [`LookupFallback`].
pub struct MissGuard {
    fallback: Arc<dyn LookupFallback>,
    negative: Mutex<HashMap<[u8; 32], Instant>>,
    in_flight: Semaphore,
    lookups: AtomicU64,
}

impl MissGuard {
    /// Guards `fallback`.
    pub fn new(fallback: Arc<dyn LookupFallback>) -> Self {
        Self {
            fallback,
            negative: Mutex::new(HashMap::new()),
            in_flight: Semaphore::new(IN_FLIGHT),
            lookups: AtomicU64::new(0),
        }
    }

    fn negative(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Instant>> {
        self.negative.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Look-ups sent to the store since this guard was made.
    pub fn lookups(&self) -> u64 {
        self.lookups.load(Ordering::Relaxed)
    }

    /// Whether this miss may go to the store now: not a miss confirmed a moment ago.
    pub fn admit(&self, hash: &KeyHash) -> bool {
        self.negative()
            .get(hash.bytes())
            .is_none_or(|until| *until <= Instant::now())
    }

    /// Remembers that the store does not know `hash` (after a catch-up did not find it either).
    pub fn remember_miss(&self, hash: &KeyHash) {
        let mut negative = self.negative();
        let now = Instant::now();
        if negative.len() >= NEGATIVE_MAX {
            negative.retain(|_, until| *until > now);
            if negative.len() >= NEGATIVE_MAX {
                negative.clear();
            }
        }
        negative.insert(*hash.bytes(), now + NEGATIVE_TTL);
    }

    /// The store's row for a miss already [admitted](Self::admit); `None` when it has none or
    /// cannot be read (authentication then fails closed).
    pub async fn look_up(&self, hash: &KeyHash) -> Option<StoredKey> {
        let _turn = self.in_flight.acquire().await.ok()?;
        self.lookups.fetch_add(1, Ordering::Relaxed);
        match self.fallback.lookup(hash).await {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, hash_prefix = %hash.prefix(), "key look-up failed; refusing");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A store that knows one key.
    struct OneKey(KeyHash, AtomicUsize);

    #[async_trait]
    impl LookupFallback for OneKey {
        async fn lookup(&self, hash: &KeyHash) -> Result<Option<StoredKey>, StoreError> {
            self.1.fetch_add(1, Ordering::SeqCst);
            Ok((*hash == self.0).then(|| StoredKey {
                entry: LookupEntry {
                    api_key_id: uuid::Uuid::from_u128(7),
                    user_id: domain::UserId::from_stored("u"),
                    is_active: true,
                    expires_at: None,
                    policy: None,
                },
                version: 3,
                grace: false,
            }))
        }
    }

    /// What the authentication path does with a miss: admit, look up, remember a miss.
    async fn resolve(guard: &MissGuard, hash: &KeyHash) -> Option<StoredKey> {
        if !guard.admit(hash) {
            return None;
        }
        let found = guard.look_up(hash).await;
        if found.is_none() {
            guard.remember_miss(hash);
        }
        found
    }

    #[tokio::test]
    async fn a_miss_is_remembered_and_a_flood_never_refuses_a_known_key() {
        let valid = KeyHash::of("vams_valid");
        let store = Arc::new(OneKey(valid, AtomicUsize::new(0)));
        let guard = MissGuard::new(store.clone());
        let same = KeyHash::of("vams_same");
        for _ in 0..50 {
            assert!(resolve(&guard, &same).await.is_none());
        }
        assert_eq!(store.1.load(Ordering::SeqCst), 1, "a miss is remembered");
        for n in 0..5_000 {
            resolve(&guard, &KeyHash::of(&format!("vams_{n}"))).await;
        }
        let found = resolve(&guard, &valid)
            .await
            .expect("the valid key is looked up");
        assert_eq!(found.version, 3);
        assert!(guard.admit(&valid), "a hit is not remembered as a miss");
        assert_eq!(guard.lookups(), store.1.load(Ordering::SeqCst) as u64);
    }
}
