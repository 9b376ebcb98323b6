//! Roles, and the roles each user holds.
use chrono::{DateTime, Utc};
use domain::role::RoleDefinition;
use domain::{RoleName, UserId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// A role as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleView {
    pub id: Uuid,
    pub definition: RoleDefinition,
    pub created_on: DateTime<Utc>,
    pub version: u64,
}

/// A user's roles as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRolesView {
    pub user_id: UserId,
    pub roles: BTreeSet<RoleName>,
    /// When the user first got a role.
    pub created_on: DateTime<Utc>,
    pub version: u64,
}

/// All roles and every user holding at least one.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RoleDirectory {
    pub roles: BTreeMap<RoleName, RoleView>,
    pub users: BTreeMap<UserId, UserRolesView>,
}

impl RoleDirectory {
    /// The roles `user` holds now (empty when none).
    pub fn roles_of(&self, user: &UserId) -> Vec<RoleName> {
        self.users
            .get(user)
            .map(|u| u.roles.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Users holding `role`.
    pub fn holders_of(&self, role: &RoleName) -> Vec<UserId> {
        self.users
            .values()
            .filter(|u| u.roles.contains(role))
            .map(|u| u.user_id.clone())
            .collect()
    }
}
