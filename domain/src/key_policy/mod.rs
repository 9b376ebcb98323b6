//! What one key may do beyond "act as its user": a role scope, a rate limit, allowed networks and
//! free metadata. Every setting is optional; a key with none behaves exactly as a VAMS key.
//!
//! # Layout
//! - [`KeyRoles`]: the roles a key may act with (intersected with its user's at the time of use).
//! - [`RateLimit`]: admissions per fixed window.
//! - [`AllowedCidrs`]: the networks a key may be used from.
//! - [`KeyMeta`]: a small JSON object returned by verification.
mod allowed_cidrs;
mod meta;
mod rate_limit;
mod roles;

pub use allowed_cidrs::{AllowedCidrs, MAX_ALLOWED_CIDRS};
pub use meta::{KeyMeta, MAX_META_BYTES};
pub use rate_limit::{RateLimit, MAX_LIMIT, MAX_PERIOD_SECONDS};
pub use roles::{KeyRoles, MAX_KEY_ROLES};

use crate::ParseError;
use serde::{Deserialize, Serialize};

/// `items` sorted and de-duplicated, refused when that leaves none (`empty`) or more than `max`
/// (`too_many`): the one rule of the list-valued settings.
fn distinct_list<T: Ord>(
    mut items: Vec<T>,
    max: usize,
    empty: &str,
    too_many: impl FnOnce() -> String,
) -> Result<Vec<T>, ParseError> {
    items.sort();
    items.dedup();
    if items.is_empty() {
        return Err(ParseError::new(empty));
    }
    if items.len() > max {
        return Err(ParseError::new(too_many()));
    }
    Ok(items)
}

/// A key's settings; `None` is "not set" (the VAMS behaviour).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyPolicy {
    /// Acts with at most these roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<KeyRoles>,
    /// Admits at most this many requests per window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// Authenticates only from these networks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_cidrs: Option<AllowedCidrs>,
    /// Returned by verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<KeyMeta>,
}

impl KeyPolicy {
    /// True when nothing is set.
    pub fn is_empty(&self) -> bool {
        self.roles.is_none()
            && self.rate_limit.is_none()
            && self.allowed_cidrs.is_none()
            && self.meta.is_none()
    }

    /// Whether a request from `ip` may use the key (`None`: the address is unknown, as in a
    /// forensic replay, and the allowlist is not consulted).
    pub fn allows_ip(&self, ip: Option<std::net::IpAddr>) -> bool {
        match (&self.allowed_cidrs, ip) {
            (Some(cidrs), Some(ip)) => cidrs.contains(ip),
            _ => true,
        }
    }

    /// `user_roles` narrowed to the scope (all of them when unscoped), in the user's order; in
    /// place, so the verify path allocates nothing for it.
    pub fn effective_roles<R: AsRef<str>>(&self, mut user_roles: Vec<R>) -> Vec<R> {
        if let Some(scope) = &self.roles {
            user_roles.retain(|r| scope.holds(r.as_ref()));
        }
        user_roles
    }

    /// This policy with `update` applied.
    pub fn updated(&self, update: &PolicyUpdate) -> KeyPolicy {
        fn pick<T: Clone>(old: &Option<T>, new: &Option<Option<T>>) -> Option<T> {
            new.clone().unwrap_or_else(|| old.clone())
        }
        KeyPolicy {
            roles: pick(&self.roles, &update.roles),
            rate_limit: pick(&self.rate_limit, &update.rate_limit),
            allowed_cidrs: pick(&self.allowed_cidrs, &update.allowed_cidrs),
            meta: pick(&self.meta, &update.meta),
        }
    }
}

/// Settings to change: `None` leaves one as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyUpdate {
    /// New role scope.
    pub roles: Option<Option<KeyRoles>>,
    /// New rate limit.
    pub rate_limit: Option<Option<RateLimit>>,
    /// New allowed networks.
    pub allowed_cidrs: Option<Option<AllowedCidrs>>,
    /// New metadata.
    pub meta: Option<Option<KeyMeta>>,
}

impl PolicyUpdate {
    /// This update followed by `later`, as one: a setting `later` names wins.
    pub fn then(self, later: PolicyUpdate) -> PolicyUpdate {
        PolicyUpdate {
            roles: later.roles.or(self.roles),
            rate_limit: later.rate_limit.or(self.rate_limit),
            allowed_cidrs: later.allowed_cidrs.or(self.allowed_cidrs),
            meta: later.meta.or(self.meta),
        }
    }

    /// True when the update names no setting.
    pub fn is_empty(&self) -> bool {
        self.roles.is_none()
            && self.rate_limit.is_none()
            && self.allowed_cidrs.is_none()
            && self.meta.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RoleName;

    fn role(r: &str) -> RoleName {
        RoleName::parse(r).unwrap()
    }

    #[test]
    fn an_empty_policy_serializes_to_nothing_and_reads_back() {
        let policy = KeyPolicy::default();
        assert!(policy.is_empty());
        assert_eq!(serde_json::to_string(&policy).unwrap(), "{}");
        let read: KeyPolicy = serde_json::from_str("{}").unwrap();
        assert_eq!(read, policy);
    }

    #[test]
    fn a_full_policy_round_trips_in_camel_case() {
        let policy = KeyPolicy {
            roles: Some(KeyRoles::parse(["b", "a"]).unwrap()),
            rate_limit: Some(RateLimit::new(100, 60).unwrap()),
            allowed_cidrs: Some(AllowedCidrs::parse(["10.1.2.3/8"]).unwrap()),
            meta: Some(KeyMeta::parse(serde_json::json!({"team": "ci"})).unwrap()),
        };
        let text = serde_json::to_string(&policy).unwrap();
        assert_eq!(
            text,
            r#"{"roles":["a","b"],"rateLimit":{"limit":100,"periodSeconds":60},"allowedCidrs":["10.0.0.0/8"],"meta":{"team":"ci"}}"#
        );
        assert_eq!(serde_json::from_str::<KeyPolicy>(&text).unwrap(), policy);
    }

    #[test]
    fn effective_roles_are_the_intersection_in_the_users_order() {
        let user = vec![role("admin"), role("ci"), role("viewer")];
        assert_eq!(KeyPolicy::default().effective_roles(user.clone()), user);
        let scoped = KeyPolicy {
            roles: Some(KeyRoles::parse(["viewer", "ci", "gone"]).unwrap()),
            ..KeyPolicy::default()
        };
        assert_eq!(
            scoped.effective_roles(user),
            vec![role("ci"), role("viewer")]
        );
        assert!(scoped.effective_roles(vec![role("admin")]).is_empty());
    }

    #[test]
    fn the_allowlist_is_consulted_only_for_a_known_address() {
        let pinned = KeyPolicy {
            allowed_cidrs: Some(AllowedCidrs::parse(["10.0.0.0/8"]).unwrap()),
            ..KeyPolicy::default()
        };
        assert!(pinned.allows_ip(Some("10.2.3.4".parse().unwrap())));
        assert!(!pinned.allows_ip(Some("127.0.0.1".parse().unwrap())));
        assert!(pinned.allows_ip(None));
        assert!(KeyPolicy::default().allows_ip(Some("127.0.0.1".parse().unwrap())));
    }

    #[test]
    fn an_update_sets_clears_and_leaves_settings() {
        let before = KeyPolicy {
            rate_limit: Some(RateLimit::new(5, 1).unwrap()),
            meta: Some(KeyMeta::parse(serde_json::json!({"a": 1})).unwrap()),
            ..KeyPolicy::default()
        };
        let update = PolicyUpdate {
            roles: Some(Some(KeyRoles::parse(["ci"]).unwrap())),
            meta: Some(None),
            ..PolicyUpdate::default()
        };
        let after = before.updated(&update);
        assert_eq!(after.roles, Some(KeyRoles::parse(["ci"]).unwrap()));
        assert_eq!(after.rate_limit, before.rate_limit);
        assert_eq!(after.meta, None);
        assert!(PolicyUpdate::default().is_empty() && !update.is_empty());
    }
}
