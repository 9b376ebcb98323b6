//! Keys memory does not know yet: ask the store, but boundedly.
//!
//! A node's read model trails other nodes' commits by one poll. A key created on another node a
//! moment ago is found by asking the store directly. Unknown keys would make every such ask a store
//! read, so misses are (1) remembered for a short while and (2) drawn from a token bucket; beyond the
//! budget the answer is "not found", i.e. authentication fails closed.
use crate::key_lookup::LookupEntry;
use crate::projector::StoreError;
use async_trait::async_trait;
use domain::{KeyHash, RoleName};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Store reads per second a node may spend on unknown keys, on average.
const MISS_RATE: f64 = 50.0;
/// Store reads a burst of misses may spend at once.
const MISS_BURST: f64 = 100.0;
/// How long a confirmed miss is answered from memory.
const NEGATIVE_TTL: Duration = Duration::from_secs(2);
/// Remembered misses at most; beyond it the oldest half is dropped.
const NEGATIVE_MAX: usize = 100_000;

/// A direct look-up of a key hash in the store.
#[async_trait]
pub trait LookupFallback: Send + Sync {
    /// The live entry for `hash` and its user's roles, if the store has one.
    async fn lookup(
        &self,
        hash: &KeyHash,
    ) -> Result<Option<(LookupEntry, Vec<RoleName>)>, StoreError>;
}

struct State {
    tokens: f64,
    refilled: Instant,
    negative: HashMap<[u8; 32], Instant>,
}

/// The rate limiter and negative cache in front of a [`LookupFallback`].
pub struct MissGuard {
    fallback: Arc<dyn LookupFallback>,
    state: Mutex<State>,
}

impl MissGuard {
    /// Guards `fallback`.
    pub fn new(fallback: Arc<dyn LookupFallback>) -> Self {
        Self {
            fallback,
            state: Mutex::new(State {
                tokens: MISS_BURST,
                refilled: Instant::now(),
                negative: HashMap::new(),
            }),
        }
    }

    /// Whether this miss may go to the store now: not a recent miss, and within the budget. Each
    /// admitted miss may spend a feed catch-up and one look-up.
    pub fn admit(&self, hash: &KeyHash) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if state
            .negative
            .get(hash.bytes())
            .is_some_and(|until| *until > now)
        {
            return false;
        }
        let elapsed = now.duration_since(state.refilled).as_secs_f64();
        state.tokens = (state.tokens + elapsed * MISS_RATE).min(MISS_BURST);
        state.refilled = now;
        if state.tokens < 1.0 {
            return false;
        }
        state.tokens -= 1.0;
        true
    }

    fn remember_miss(&self, hash: &KeyHash) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if state.negative.len() >= NEGATIVE_MAX {
            state.negative.retain(|_, until| *until > now);
            if state.negative.len() >= NEGATIVE_MAX {
                state.negative.clear();
            }
        }
        state.negative.insert(*hash.bytes(), now + NEGATIVE_TTL);
    }

    /// The store's answer for a miss already [admitted](Self::admit); a miss is remembered.
    pub async fn look_up(&self, hash: &KeyHash) -> Option<(LookupEntry, Vec<RoleName>)> {
        match self.fallback.lookup(hash).await {
            Ok(Some(found)) => Some(found),
            Ok(None) => {
                self.remember_miss(hash);
                None
            }
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
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(AtomicUsize);

    #[async_trait]
    impl LookupFallback for Counting {
        async fn lookup(
            &self,
            _: &KeyHash,
        ) -> Result<Option<(LookupEntry, Vec<RoleName>)>, StoreError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(None)
        }
    }

    /// What the authentication path does with a miss: admit, then look up.
    async fn resolve(guard: &MissGuard, hash: &KeyHash) -> Option<(LookupEntry, Vec<RoleName>)> {
        match guard.admit(hash) {
            true => guard.look_up(hash).await,
            false => None,
        }
    }

    #[tokio::test]
    async fn repeated_and_flooding_misses_are_bounded() {
        let store = Arc::new(Counting(AtomicUsize::new(0)));
        let started = Instant::now();
        let guard = MissGuard::new(store.clone());
        let same = KeyHash::of("vams_same");
        for _ in 0..50 {
            assert!(resolve(&guard, &same).await.is_none());
        }
        assert_eq!(store.0.load(Ordering::SeqCst), 1, "a miss is remembered");
        for n in 0..10_000 {
            resolve(&guard, &KeyHash::of(&format!("vams_{n}"))).await;
        }
        let reads = store.0.load(Ordering::SeqCst);
        // The bucket's own bound, however slowly a busy machine ran the loop: the burst plus what
        // refilled meanwhile.
        let bound = MISS_BURST + started.elapsed().as_secs_f64() * MISS_RATE + 1.0;
        assert!(
            (reads as f64) <= bound,
            "flood bounded by the bucket: {reads} reads, bound {bound}"
        );
        assert!(reads < 10_000, "most of the flood never reached the store");
    }
}
