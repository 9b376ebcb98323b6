//! Key id → the key as the listing routes show it.
use crate::secret_state::{SecretPatch, SecretState};
use chrono::{DateTime, Utc};
use domain::{KeyHash, KeyPolicy, PolicyUpdate, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
    /// Rotation and exposure facts (absent from the stored body while empty, so older rows load).
    #[serde(default, skip_serializing_if = "SecretState::is_empty")]
    pub secret: SecretState,
    /// Role scope, rate limit, networks and metadata (absent from the stored body while empty).
    #[serde(default, skip_serializing_if = "KeyPolicy::is_empty")]
    pub policy: KeyPolicy,
}

/// Whether any of a key's name, user id and description contains `needle` (lowercase), ignoring
/// case: the one definition of a listing `filter` and a console `search`, wherever the rows live.
pub fn matches(fields: [&str; 3], needle: &str) -> bool {
    fields
        .iter()
        .any(|field| field.to_lowercase().contains(needle))
}

impl ApiKeyView {
    /// Case-insensitive substring match on name, user id and description. `needle` is lowercase.
    pub fn matches(&self, needle: &str) -> bool {
        matches(
            [&self.api_key_name, self.user_id.as_ref(), &self.description],
            needle,
        )
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

/// What one event did to a key's listing row: what the persisted views apply, and what a
/// memory listing folds.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyChange {
    /// The whole row (a create).
    Put(ApiKeyView),
    /// The fields an update changed.
    Patch(KeyPatch),
    /// The key is gone.
    Delete,
}

/// The fields of a row an update sets; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyPatch {
    pub description: Option<String>,
    /// `Some(None)` clears the expiry.
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub is_active: Option<bool>,
    /// A rotation, a report, or a deactivation's end of grace.
    pub secret: SecretPatch,
    /// Settings set or cleared.
    pub policy: PolicyUpdate,
    pub updated_at: DateTime<Utc>,
    /// Sequence of the event.
    pub version: u64,
}

impl KeyPatch {
    /// Writes the patched fields into `view`.
    pub fn apply_to(&self, view: &mut ApiKeyView) {
        if let Some(description) = &self.description {
            view.description.clone_from(description);
        }
        if let Some(expires_at) = self.expires_at {
            view.expires_at = expires_at;
        }
        if let Some(is_active) = self.is_active {
            view.is_active = is_active;
        }
        self.secret.apply_to(view);
        if !self.policy.is_empty() {
            view.policy = view.policy.updated(&self.policy);
        }
        view.updated_at = self.updated_at;
        view.version = self.version;
    }

    fn then(mut self, later: KeyPatch) -> KeyPatch {
        self.description = later.description.or(self.description);
        self.expires_at = later.expires_at.or(self.expires_at);
        self.is_active = later.is_active.or(self.is_active);
        self.secret = self.secret.then(later.secret);
        self.policy = self.policy.then(later.policy);
        self.updated_at = later.updated_at;
        self.version = later.version;
        self
    }
}

impl KeyChange {
    /// This change followed by `later`, as one change: what a row pending a write accumulates.
    pub fn then(self, later: KeyChange) -> KeyChange {
        match (self, later) {
            (Self::Put(mut view), Self::Patch(patch)) => {
                patch.apply_to(&mut view);
                Self::Put(view)
            }
            (Self::Patch(first), Self::Patch(second)) => Self::Patch(first.then(second)),
            (Self::Delete, Self::Patch(_)) => Self::Delete,
            (_, later) => later,
        }
    }
}

/// Live keys by id.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct KeyListing {
    by_id: BTreeMap<Uuid, ApiKeyView>,
}

impl KeyListing {
    /// A key by id.
    pub fn get(&self, id: &Uuid) -> Option<&ApiKeyView> {
        self.by_id.get(id)
    }

    /// Adds or replaces a key.
    pub fn upsert(&mut self, view: ApiKeyView) {
        self.by_id.insert(view.api_key_id, view);
    }

    /// Removes a key.
    pub fn remove(&mut self, id: &Uuid) -> Option<ApiKeyView> {
        self.by_id.remove(id)
    }

    /// Folds one change to the row of `id`.
    pub fn apply(&mut self, id: &Uuid, change: &KeyChange) {
        match change {
            KeyChange::Put(view) => self.upsert(view.clone()),
            KeyChange::Patch(patch) => {
                if let Some(view) = self.by_id.get_mut(id) {
                    patch.apply_to(view);
                }
            }
            KeyChange::Delete => {
                self.by_id.remove(id);
            }
        }
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
        self.page_where(filter, |_| true, start_after, max_items)
    }

    /// [`Self::page`] of the keys `keep` also accepts.
    pub fn page_where(
        &self,
        filter: Option<&str>,
        keep: impl Fn(&ApiKeyView) -> bool,
        start_after: Option<Uuid>,
        max_items: Option<usize>,
    ) -> Page<'_> {
        let needle = filter.map(str::to_lowercase).filter(|f| !f.is_empty());
        let lower = start_after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut matching = self
            .by_id
            .range((lower, Bound::Unbounded))
            .map(|(_, v)| v)
            .filter(|v| needle.as_deref().is_none_or(|n| v.matches(n)))
            .filter(|v| keep(v));
        let limit = max_items.unwrap_or(usize::MAX);
        let items: Vec<&ApiKeyView> = matching.by_ref().take(limit).collect();
        let next_token = match (items.last(), matching.next()) {
            (Some(last), Some(_)) => Some(last.api_key_id.to_string()),
            _ => None,
        };
        Page { items, next_token }
    }
}
