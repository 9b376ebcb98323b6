//! Key id → the key as the listing routes show it.
use chrono::{DateTime, Utc};
use domain::{KeyHash, UserId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use uuid::Uuid;

/// A key as listed. Holds the hash (needed to rebuild the lookup) but never a plaintext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub api_key_id: Uuid,
    pub api_key_name: String,
    pub user_id: UserId,
    pub description: String,
    pub key_hash: KeyHash,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub is_active: bool,
    /// Sequence of the last event folded in.
    pub version: u64,
}

impl ApiKeyView {
    /// Case-insensitive substring match on name, user id and description. `needle` is lowercase.
    pub fn matches(&self, needle: &str) -> bool {
        [&self.api_key_name, self.user_id.as_ref(), &self.description]
            .iter()
            .any(|field| field.to_lowercase().contains(needle))
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<'a> {
    /// The keys on this page, ordered by key id.
    pub items: Vec<&'a ApiKeyView>,
    /// Where the next page starts, when there is one.
    pub next_token: Option<String>,
}

/// Live keys by id, plus a name index for uniqueness checks.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct KeyListing {
    by_id: BTreeMap<Uuid, ApiKeyView>,
    by_name: HashMap<String, Uuid>,
}

impl KeyListing {
    /// A key by id.
    pub fn get(&self, id: &Uuid) -> Option<&ApiKeyView> {
        self.by_id.get(id)
    }

    /// Whether a live key has exactly this name.
    pub fn name_in_use(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Adds or replaces a key.
    pub fn upsert(&mut self, view: ApiKeyView) {
        self.by_name
            .insert(view.api_key_name.clone(), view.api_key_id);
        self.by_id.insert(view.api_key_id, view);
    }

    /// Removes a key, freeing its name.
    pub fn remove(&mut self, id: &Uuid) -> Option<ApiKeyView> {
        let view = self.by_id.remove(id)?;
        if self.by_name.get(&view.api_key_name) == Some(id) {
            self.by_name.remove(&view.api_key_name);
        }
        Some(view)
    }

    /// Mutable access for folding updates.
    pub fn get_mut(&mut self, id: &Uuid) -> Option<&mut ApiKeyView> {
        self.by_id.get_mut(id)
    }

    /// Every live key, by id.
    pub fn iter(&self) -> impl Iterator<Item = &ApiKeyView> {
        self.by_id.values()
    }

    /// Number of live keys.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Keys matching `filter`, starting after `start_after` (a key id), at most `max_items`.
    /// Ids are stable, so a token stays valid while keys come and go.
    pub fn page(
        &self,
        filter: Option<&str>,
        start_after: Option<Uuid>,
        max_items: Option<usize>,
    ) -> Page<'_> {
        let needle = filter.map(str::to_lowercase).filter(|f| !f.is_empty());
        let lower = start_after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut matching = self
            .by_id
            .range((lower, Bound::Unbounded))
            .map(|(_, v)| v)
            .filter(|v| needle.as_deref().is_none_or(|n| v.matches(n)));
        let limit = max_items.unwrap_or(usize::MAX);
        let items: Vec<&ApiKeyView> = matching.by_ref().take(limit).collect();
        let next_token = match (items.last(), matching.next()) {
            (Some(last), Some(_)) => Some(last.api_key_id.to_string()),
            _ => None,
        };
        Page { items, next_token }
    }
}
