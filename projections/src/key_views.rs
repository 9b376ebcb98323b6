//! The port the key routes read through (list, console pages, get), and the read-your-writes
//! wrapper over a store that answers from its persisted views.
use crate::key_listing::ApiKeyView;
use crate::projector::{Projector, StoreError};
use crate::usage::UsageTracker;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::UserId;
use std::cmp::Ordering;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// A column the console sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    ApiKeyName,
    ApiKeyId,
    Description,
    UserId,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    ExpiresAt,
    IsActive,
}

impl SortBy {
    /// Every wire name, as [`SortBy::parse`] reads them.
    pub const NAMES: &'static [&'static str] = &[
        "apiKeyName",
        "apiKeyId",
        "description",
        "userId",
        "createdBy",
        "createdAt",
        "updatedAt",
        "expiresAt",
        "isActive",
    ];

    /// Parses the wire name of a column (one of [`SortBy::NAMES`]).
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "apiKeyName" => Self::ApiKeyName,
            "apiKeyId" => Self::ApiKeyId,
            "description" => Self::Description,
            "userId" => Self::UserId,
            "createdBy" => Self::CreatedBy,
            "createdAt" => Self::CreatedAt,
            "updatedAt" => Self::UpdatedAt,
            "expiresAt" => Self::ExpiresAt,
            "isActive" => Self::IsActive,
            _ => return None,
        })
    }

    /// Orders two rows by this column, then by id so pages never overlap. Keys that never expire
    /// sort after every expiry.
    pub fn compare(self, a: &ApiKeyView, b: &ApiKeyView) -> Ordering {
        let by_column = match self {
            Self::ApiKeyName => a.api_key_name.cmp(&b.api_key_name),
            Self::ApiKeyId => Ordering::Equal,
            Self::Description => a.description.cmp(&b.description),
            Self::UserId => a.user_id.cmp(&b.user_id),
            Self::CreatedBy => a.created_by.cmp(&b.created_by),
            Self::IsActive => a.is_active.cmp(&b.is_active),
            Self::CreatedAt => a.created_at.cmp(&b.created_at),
            Self::UpdatedAt => a.updated_at.cmp(&b.updated_at),
            Self::ExpiresAt => match (a.expires_at, b.expires_at) {
                (Some(x), Some(y)) => x.cmp(&y),
                (x, y) => x.is_none().cmp(&y.is_none()),
            },
        };
        by_column.then(a.api_key_id.cmp(&b.api_key_id))
    }
}

/// Conditions of a listing beyond its text filter: last use and expiry. Empty: every key.
#[derive(Clone, Default)]
pub struct Conditions {
    /// Keeps keys never used, or last used before this instant (`unusedForDays`).
    pub unused_since: Option<DateTime<Utc>>,
    /// Keeps keys with an expiry at or before this instant, already expired ones included
    /// (`expiringWithinDays`).
    pub expiring_by: Option<DateTime<Utc>>,
    /// Where last uses are read (none: every key counts as never used).
    pub last_use: Option<Arc<UsageTracker>>,
}

impl Conditions {
    /// True when no condition is set.
    pub fn is_empty(&self) -> bool {
        self.unused_since.is_none() && self.expiring_by.is_none()
    }

    /// Whether the key `id` expiring at `expires_at` meets every condition.
    pub fn hold(&self, id: &Uuid, expires_at: Option<DateTime<Utc>>) -> bool {
        if let Some(by) = self.expiring_by {
            if expires_at.is_none_or(|at| at > by) {
                return false;
            }
        }
        if let Some(since) = self.unused_since {
            let last = self.last_use.as_ref().and_then(|t| t.last_use(id));
            if last.is_some_and(|l| l.at >= since) {
                return false;
            }
        }
        true
    }
}

impl std::fmt::Debug for Conditions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conditions")
            .field("unused_since", &self.unused_since)
            .field("expiring_by", &self.expiring_by)
            .finish_non_exhaustive()
    }
}

/// Conditions compare by what they ask, not by where last uses are read.
impl PartialEq for Conditions {
    fn eq(&self, other: &Self) -> bool {
        (self.unused_since, self.expiring_by) == (other.unused_since, other.expiring_by)
    }
}

impl Eq for Conditions {}

/// One console page: rows matching `search`, sorted, `page_size` rows from `offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleQuery {
    /// Case-insensitive substring of name, user id or description (lowercase; `None`: every key).
    pub search: Option<String>,
    /// Last-use and expiry conditions.
    pub only: Conditions,
    pub sort_by: SortBy,
    pub descending: bool,
    pub offset: usize,
    pub page_size: usize,
}

/// Keys returned by a query.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyPage {
    /// The rows, in the query's order.
    pub items: Vec<ApiKeyView>,
    /// VAMS paging: where the next page starts, when there is one.
    pub next_token: Option<String>,
    /// Console paging: how many keys match in all.
    pub total_count: usize,
}

/// Reads of the key listing, wherever its rows live.
#[async_trait]
pub trait KeyViews: Send + Sync {
    /// Keys matching `filter` (see [`ApiKeyView::matches`]) and `only` by id, after
    /// `start_after`, at most `max_items` (no limit: every key).
    async fn page(
        &self,
        filter: Option<&str>,
        only: &Conditions,
        start_after: Option<Uuid>,
        max_items: Option<usize>,
    ) -> Result<KeyPage, StoreError>;
    /// One sorted console page with the total count.
    async fn console(&self, query: &ConsoleQuery) -> Result<KeyPage, StoreError>;
    /// One live key.
    async fn get(&self, id: &Uuid) -> Result<Option<ApiKeyView>, StoreError>;
}

/// A user's live keys in a store's persisted views: what the admin guard reads on a node whose key
/// lookup is a bounded cache, where keys the cache does not hold are not in memory.
#[async_trait]
pub trait UserKeys: Send + Sync {
    /// Up to `enough` of the user's live keys as last persisted that `keep` accepts (the guard
    /// needs to know that some remain, not how many: a user with many keys costs no more).
    async fn keys_of(
        &self,
        user: &UserId,
        keep: &(dyn for<'v> Fn(&'v ApiKeyView) -> bool + Send + Sync),
        enough: usize,
    ) -> Result<Vec<ApiKeyView>, StoreError>;
}

/// A store's persisted views, read only once they hold every write this node has folded: a create
/// followed by a list on the same node always sees the key. Views that cannot catch up within the
/// deadline make the read fail (503), never answer stale.
pub struct PersistedKeyViews {
    projector: Arc<Projector>,
    store: Arc<dyn KeyViews>,
    deadline: Duration,
}

impl PersistedKeyViews {
    /// Reads `store` after the views reach memory, waiting at most `deadline` for them.
    pub fn new(projector: Arc<Projector>, store: Arc<dyn KeyViews>, deadline: Duration) -> Self {
        Self {
            projector,
            store,
            deadline,
        }
    }

    async fn current(&self) -> Result<(), StoreError> {
        self.projector.views_reach_memory(self.deadline).await
    }
}

#[async_trait]
impl KeyViews for PersistedKeyViews {
    async fn page(
        &self,
        filter: Option<&str>,
        only: &Conditions,
        start_after: Option<Uuid>,
        max_items: Option<usize>,
    ) -> Result<KeyPage, StoreError> {
        self.current().await?;
        self.store.page(filter, only, start_after, max_items).await
    }

    async fn console(&self, query: &ConsoleQuery) -> Result<KeyPage, StoreError> {
        self.current().await?;
        self.store.console(query).await
    }

    async fn get(&self, id: &Uuid) -> Result<Option<ApiKeyView>, StoreError> {
        self.current().await?;
        self.store.get(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn conditions_keep_unused_and_expiring_keys() {
        let now = Utc::now();
        let tracker = Arc::new(UsageTracker::new(true));
        let (recent, old, never) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        tracker.record(recent, None, now - TimeDelta::hours(1));
        tracker.record(old, None, now - TimeDelta::days(40));
        let unused = Conditions {
            unused_since: Some(now - TimeDelta::days(30)),
            last_use: Some(tracker.clone()),
            ..Conditions::default()
        };
        assert!(!unused.hold(&recent, None));
        assert!(unused.hold(&old, None));
        assert!(unused.hold(&never, None));
        let expiring = Conditions {
            expiring_by: Some(now + TimeDelta::days(7)),
            ..Conditions::default()
        };
        assert!(expiring.hold(&never, Some(now + TimeDelta::days(6))));
        assert!(
            expiring.hold(&never, Some(now - TimeDelta::days(1))),
            "already expired"
        );
        assert!(!expiring.hold(&never, Some(now + TimeDelta::days(8))));
        assert!(!expiring.hold(&never, None), "never expires");
        assert!(Conditions::default().hold(&never, None));
    }
}
