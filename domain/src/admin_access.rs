//! Whether a change would leave nobody able to administer apikeyd.
//!
//! An administrator is a caller authenticating with a live key (active, not expired) of a user who
//! holds an admin role (`APIKEYD_ADMIN_ROLES`) that the key's role scope, if it has one, includes. A command that takes the last such key away would lock
//! every administrator out until someone runs `apikeyd recover` on the host, so it is refused. The
//! decision is a pure function of a snapshot the aggregates get from the [`Directory`].
//!
//! [`Directory`]: crate::services::Directory
use crate::key_policy::KeyRoles;
use crate::{RoleName, UserId};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use uuid::Uuid;

/// The command would leave no live key of any admin user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "This would leave no active admin key: at least one unexpired, active key of a user holding an \
     admin role (APIKEYD_ADMIN_ROLES) must remain"
)]
pub struct LastAdminKey;

/// An active key of a user who holds an admin role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminKey {
    /// The key.
    pub api_key_id: Uuid,
    /// Its user (holds an admin role).
    pub user_id: UserId,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// The admin roles its user holds.
    pub held: BTreeSet<RoleName>,
    /// The key's role scope, if any: it administers only when the scope names a held admin role.
    pub scope: Option<KeyRoles>,
}

/// Whether a key of a user holding the admin roles `held`, scoped to `scope`, acts as an admin.
pub fn administers<'r>(
    mut held: impl Iterator<Item = &'r RoleName>,
    scope: Option<&KeyRoles>,
) -> bool {
    held.any(|r| scope.is_none_or(|s| s.holds(r.as_ref())))
}

/// Who can administer right now: the admin role names and every active key of their holders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminAccess {
    /// Role names that make a user an administrator.
    pub admin_roles: BTreeSet<RoleName>,
    /// Active keys of users holding at least one admin role (expired ones included; the decision
    /// judges expiry at the command's time).
    pub keys: Vec<AdminKey>,
}

/// A key's state after a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAfter {
    /// Whether it is still active.
    pub is_active: bool,
    /// Its expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Its role scope.
    pub scope: Option<KeyRoles>,
}

/// What a command does to admin access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessChange<'a> {
    /// A key changes (`Some`) or is deleted (`None`).
    Key {
        /// The key.
        api_key_id: Uuid,
        /// Its state afterwards.
        after: Option<KeyAfter>,
    },
    /// A user's roles become `roles`.
    UserRoles {
        /// The user.
        user_id: &'a UserId,
        /// Every role the user holds afterwards.
        roles: &'a BTreeSet<RoleName>,
    },
}

fn live(expires_at: Option<DateTime<Utc>>, at: DateTime<Utc>) -> bool {
    expires_at.is_none_or(|e| e > at)
}

impl AdminAccess {
    /// Whether `role` makes its holder an administrator.
    pub fn is_admin_role(&self, role: &RoleName) -> bool {
        self.admin_roles.contains(role)
    }

    /// Live admin keys at `at`, before any change.
    pub fn live_keys(&self, at: DateTime<Utc>) -> usize {
        self.keys
            .iter()
            .filter(|k| live(k.expires_at, at) && administers(k.held.iter(), k.scope.as_ref()))
            .count()
    }

    /// Live admin keys at `at` once `change` is made.
    pub fn live_keys_after(&self, change: &AccessChange<'_>, at: DateTime<Utc>) -> usize {
        self.keys
            .iter()
            .filter_map(|key| match change {
                AccessChange::Key { api_key_id, after } if *api_key_id == key.api_key_id => after
                    .as_ref()
                    .filter(|a| a.is_active && administers(key.held.iter(), a.scope.as_ref()))
                    .map(|a| a.expires_at),
                AccessChange::UserRoles { user_id, roles } if **user_id == key.user_id => {
                    let held = roles.iter().filter(|r| self.is_admin_role(r));
                    administers(held, key.scope.as_ref()).then_some(key.expires_at)
                }
                _ => administers(key.held.iter(), key.scope.as_ref()).then_some(key.expires_at),
            })
            .filter(|expires_at| live(*expires_at, at))
            .count()
    }

    /// Refuses a change that takes the last live admin key away. A change made while no admin key
    /// is live (only the host's `apikeyd recover` can act then) takes nothing away and is allowed.
    pub fn check(&self, change: &AccessChange<'_>, at: DateTime<Utc>) -> Result<(), LastAdminKey> {
        if self.live_keys(at) > 0 && self.live_keys_after(change, at) == 0 {
            return Err(LastAdminKey);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    fn user(name: &str) -> UserId {
        UserId::parse(name).unwrap()
    }

    fn roles(names: &[&str]) -> BTreeSet<RoleName> {
        names.iter().map(|n| RoleName::parse(n).unwrap()).collect()
    }

    fn key(id: u128, owner: &str, expires_at: Option<DateTime<Utc>>) -> AdminKey {
        AdminKey {
            api_key_id: Uuid::from_u128(id),
            user_id: user(owner),
            expires_at,
            held: roles(&["admin"]),
            scope: None,
        }
    }

    fn scoped(id: u128, scope: &[&str]) -> AdminKey {
        AdminKey {
            scope: Some(KeyRoles::parse(scope).unwrap()),
            ..key(id, "alice", None)
        }
    }

    fn access(keys: Vec<AdminKey>) -> AdminAccess {
        AdminAccess {
            admin_roles: roles(&["admin", "ops"]),
            keys,
        }
    }

    fn gone(id: u128) -> AccessChange<'static> {
        AccessChange::Key {
            api_key_id: Uuid::from_u128(id),
            after: None,
        }
    }

    #[test]
    fn removing_a_key_is_refused_only_when_it_is_the_last_live_one() {
        let expired = Some(at() - Duration::seconds(1));
        let cases = [
            ("last key", vec![key(1, "alice", None)], Err(LastAdminKey)),
            (
                "another live key remains",
                vec![key(1, "alice", None), key(2, "bob", None)],
                Ok(()),
            ),
            (
                "the other key is expired",
                vec![key(1, "alice", None), key(2, "bob", expired)],
                Err(LastAdminKey),
            ),
            (
                "no live admin key before either",
                vec![key(1, "alice", expired)],
                Ok(()),
            ),
            ("not an admin key", vec![key(2, "bob", None)], Ok(())),
        ];
        for (case, keys, expected) in cases {
            assert_eq!(access(keys).check(&gone(1), at()), expected, "{case}");
        }
    }

    #[test]
    fn deactivating_or_expiring_counts_as_removal() {
        let one = access(vec![key(1, "alice", None)]);
        let deactivated = AccessChange::Key {
            api_key_id: Uuid::from_u128(1),
            after: Some(KeyAfter {
                is_active: false,
                expires_at: None,
                scope: None,
            }),
        };
        assert_eq!(one.check(&deactivated, at()), Err(LastAdminKey));
        let expiring_later = AccessChange::Key {
            api_key_id: Uuid::from_u128(1),
            after: Some(KeyAfter {
                is_active: true,
                expires_at: Some(at() + Duration::days(1)),
                scope: None,
            }),
        };
        assert_eq!(one.check(&expiring_later, at()), Ok(()));
    }

    #[test]
    fn a_user_stays_admin_while_holding_any_admin_role() {
        let two = access(vec![key(1, "alice", None), key(2, "alice", None)]);
        let alice = user("alice");
        let cases = [
            (roles(&["ops"]), Ok(())),
            (roles(&["reader", "admin"]), Ok(())),
            (roles(&["reader"]), Err(LastAdminKey)),
            (roles(&[]), Err(LastAdminKey)),
        ];
        for (after, expected) in cases {
            let change = AccessChange::UserRoles {
                user_id: &alice,
                roles: &after,
            };
            assert_eq!(two.check(&change, at()), expected, "roles {after:?}");
        }
        let other = AccessChange::UserRoles {
            user_id: &alice,
            roles: &roles(&[]),
        };
        let shared = access(vec![key(1, "alice", None), key(2, "bob", None)]);
        assert_eq!(shared.check(&other, at()), Ok(()));
    }

    #[test]
    fn a_key_administers_only_when_its_scope_names_a_held_admin_role() {
        let rescoped = |scope: &[&str]| AccessChange::Key {
            api_key_id: Uuid::from_u128(1),
            after: Some(KeyAfter {
                is_active: true,
                expires_at: None,
                scope: Some(KeyRoles::parse(scope).unwrap()),
            }),
        };
        let one = access(vec![key(1, "alice", None)]);
        assert_eq!(one.check(&rescoped(&["reader"]), at()), Err(LastAdminKey));
        assert_eq!(one.check(&rescoped(&["admin", "reader"]), at()), Ok(()));
        // A scoped key without the admin role is no admin key, so it cannot be the last one...
        let with_reader = access(vec![key(1, "alice", None), scoped(2, &["reader"])]);
        assert_eq!(with_reader.live_keys(at()), 1);
        assert_eq!(with_reader.check(&gone(1), at()), Err(LastAdminKey));
        // ...and a user losing a role outside a key's scope keeps that key an admin key.
        let admin_scoped = access(vec![scoped(1, &["admin"])]);
        let alice = user("alice");
        let keeps_admin = roles(&["admin"]);
        let change = AccessChange::UserRoles {
            user_id: &alice,
            roles: &keeps_admin,
        };
        assert_eq!(admin_scoped.check(&change, at()), Ok(()));
    }
}
