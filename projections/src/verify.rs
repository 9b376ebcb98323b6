//! Does a presented key authenticate, and as whom? The decision behind bearer auth, `/auth/verify`
//! and `/auth/check`.
use crate::key_lookup::KeyRef;
use crate::read_model::ReadModel;
use chrono::{DateTime, Utc};
use domain::{HashPrefix, KeyHash, KeyPolicy, RoleName, UserId};
use serde::Serialize;
use std::net::IpAddr;
use std::sync::Arc;
use uuid::Uuid;

use domain::key_format::KeyShape;
/// Every key apikeyd issues starts with this.
pub use domain::key_format::KEY_PREFIX;

/// Longest presented key worth hashing; anything longer is malformed.
const MAX_KEY_CHARS: usize = 512;

/// Outcome of a verification, as `/auth/verify` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerifyCode {
    /// The key authenticates.
    Valid,
    /// No live key has this hash (never issued, or deleted).
    NotFound,
    /// The key is deactivated.
    Disabled,
    /// The key's expiry has passed.
    Expired,
    /// The key's user holds no role (none of its scope's, for a scoped key).
    NoRoles,
    /// The request comes from outside the key's allowed networks.
    IpNotAllowed,
    /// The key is over its rate limit for the current window.
    RateLimited,
    /// Not shaped like a key at all.
    Malformed,
}

impl VerifyCode {
    /// Short reason for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "VALID",
            Self::NotFound => "NOT_FOUND",
            Self::Disabled => "DISABLED",
            Self::Expired => "EXPIRED",
            Self::NoRoles => "NO_ROLES",
            Self::IpNotAllowed => "IP_NOT_ALLOWED",
            Self::RateLimited => "RATE_LIMITED",
            Self::Malformed => "MALFORMED",
        }
    }
}

/// Who a valid key acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user_id: UserId,
    /// The key used.
    pub api_key_id: Uuid,
    /// The roles it acts with now: its user's, narrowed to the key's scope.
    pub roles: Vec<RoleName>,
    /// The key's settings (rate limit, metadata), when it has any.
    pub policy: Option<Arc<KeyPolicy>>,
}

/// A verification: the code, the key hash prefix when the key was well-formed, and the principal when
/// valid (or the known key id when refused for a reason other than not-found).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Outcome.
    pub code: VerifyCode,
    /// Set when the key was found.
    pub api_key_id: Option<Uuid>,
    /// First hex characters of the hash, for logs.
    pub hash_prefix: Option<HashPrefix>,
    /// Set when valid.
    pub principal: Option<Principal>,
    /// For [`VerifyCode::RateLimited`]: seconds until the key's window ends.
    pub retry_after_secs: Option<u32>,
}

/// True when `presented` could be a key apikeyd issued: prefix plus URL-safe characters, and a
/// correct checksum when it has the checksummed format's shape (a mistyped key is refused here,
/// before any look-up in memory or in a store).
pub fn well_formed(presented: &str) -> bool {
    presented.len() <= MAX_KEY_CHARS
        && presented.len() > KEY_PREFIX.len()
        && presented.starts_with(KEY_PREFIX)
        && presented[KEY_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && KeyShape::of_secret(&presented[KEY_PREFIX.len()..]) != KeyShape::BadChecksum
}

impl ReadModel {
    /// Verifies a presented key at `now` for a request from `client` (`None`: unknown, the
    /// allowlist is not consulted).
    pub fn verify(
        &self,
        presented: &str,
        now: DateTime<Utc>,
        client: Option<IpAddr>,
    ) -> Verification {
        if !well_formed(presented) {
            return refused(VerifyCode::Malformed, None, None);
        }
        let hash = KeyHash::of(presented);
        let prefix = Some(hash.short());
        let Some(entry) = self.lookup.get_at(&hash, now) else {
            return refused(VerifyCode::NotFound, None, prefix);
        };
        let roles = self.directory.roles_of(entry.user_id);
        decide(entry, roles, prefix, now, client)
    }
}

/// The decision for a known key: active, not expired, used from an allowed network (when `client`
/// is known), and acting with at least one role (its user's `roles`, narrowed to its scope). The
/// rate limit, which needs a counter, is the caller's last step.
pub fn decide(
    entry: KeyRef<'_>,
    roles: Vec<RoleName>,
    hash_prefix: Option<HashPrefix>,
    now: DateTime<Utc>,
    client: Option<IpAddr>,
) -> Verification {
    let id = Some(entry.api_key_id);
    if !entry.is_active {
        return refused(VerifyCode::Disabled, id, hash_prefix);
    }
    if entry.expires_at.is_some_and(|at| now >= at) {
        return refused(VerifyCode::Expired, id, hash_prefix);
    }
    let roles = match entry.policy {
        None => roles,
        Some(policy) => {
            if !policy.allows_ip(client) {
                return refused(VerifyCode::IpNotAllowed, id, hash_prefix);
            }
            policy.effective_roles(roles)
        }
    };
    if roles.is_empty() {
        return refused(VerifyCode::NoRoles, id, hash_prefix);
    }
    Verification {
        code: VerifyCode::Valid,
        api_key_id: id,
        hash_prefix,
        principal: Some(Principal {
            user_id: entry.user_id.clone(),
            api_key_id: entry.api_key_id,
            roles,
            policy: entry.policy.cloned(),
        }),
        retry_after_secs: None,
    }
}

/// `verification` refused as over its rate limit, `retry_after_secs` before the window ends.
pub fn rate_limited(verification: Verification, retry_after_secs: u32) -> Verification {
    Verification {
        code: VerifyCode::RateLimited,
        principal: None,
        retry_after_secs: Some(retry_after_secs.max(1)),
        ..verification
    }
}

fn refused(
    code: VerifyCode,
    api_key_id: Option<Uuid>,
    hash_prefix: Option<HashPrefix>,
) -> Verification {
    Verification {
        code,
        api_key_id,
        hash_prefix,
        principal: None,
        retry_after_secs: None,
    }
}
