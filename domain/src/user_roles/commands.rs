//! What callers ask of a user's roles.
use crate::{Actor, ImportSource, RoleName, UserId};
use chrono::{DateTime, Utc};

/// Commands on one user's role set.
#[derive(Debug, Clone, PartialEq)]
pub enum UserRolesCommand {
    /// Add roles; refused if any is already held (`POST /user-roles`).
    Assign {
        user_id: UserId,
        roles: Vec<RoleName>,
        actor: Actor,
        at: DateTime<Utc>,
    },
    /// Make the set exactly `roles` (`PUT /user-roles`).
    Replace {
        user_id: UserId,
        roles: Vec<RoleName>,
        actor: Actor,
        at: DateTime<Utc>,
    },
    /// Remove every role (`DELETE /user-roles`); fine when there are none.
    RemoveAll {
        user_id: UserId,
        actor: Actor,
        at: DateTime<Utc>,
    },
    /// Remove one role if held (cascade of a role deletion).
    Revoke {
        user_id: UserId,
        role: RoleName,
        actor: Actor,
        at: DateTime<Utc>,
    },
    /// Add the roles the user holds in another system and not yet here (an import); every role
    /// must exist.
    Import {
        user_id: UserId,
        roles: Vec<RoleName>,
        assigned_at: DateTime<Utc>,
        source: ImportSource,
    },
}

impl UserRolesCommand {
    /// Whether the command can take a role away (and so admin access; an import only adds): such
    /// commands are
    /// serialized against each other by the store's admin guard.
    pub fn can_reduce_admin_access(&self) -> bool {
        !matches!(self, Self::Assign { .. } | Self::Import { .. })
    }
}
