//! Key hash → key entry: the table authentication reads on every request.
use chrono::{DateTime, Utc};
use domain::{KeyHash, UserId};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use uuid::Uuid;

/// What authentication needs to know about a key.
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
}

/// SHA-256 output is already uniformly random, so its first 8 bytes are a perfect hash; hashing it
/// again with SipHash would only cost time on the hot path.
#[derive(Default)]
pub struct DigestPrefixHasher(u64);

impl Hasher for DigestPrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // `[u8; 32]` hashes as its bytes; fold whatever arrives so any key type still works.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(word);
        }
    }
}

type DigestMap<V> = HashMap<[u8; 32], V, BuildHasherDefault<DigestPrefixHasher>>;

/// Live keys by hash; deleted keys are absent.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct KeyLookup {
    by_hash: DigestMap<LookupEntry>,
}

impl KeyLookup {
    /// The entry for a presented key's hash.
    pub fn get(&self, hash: &KeyHash) -> Option<&LookupEntry> {
        self.by_hash.get(hash.bytes())
    }

    /// Adds or replaces an entry.
    pub fn insert(&mut self, hash: KeyHash, entry: LookupEntry) {
        self.by_hash.insert(*hash.bytes(), entry);
    }

    /// Forgets a key.
    pub fn remove(&mut self, hash: &KeyHash) {
        self.by_hash.remove(hash.bytes());
    }

    /// Number of live keys.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// True when no key is live.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Every entry with its hash, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (KeyHash, &LookupEntry)> {
        self.by_hash
            .iter()
            .map(|(h, e)| (KeyHash::from_bytes(*h), e))
    }
}
