//! What happened to a user's roles.
use crate::{Actor, ImportSource, RoleName, UserId};
use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

/// Events of the user-roles aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum UserRolesEvent {
    /// Roles were added to a user.
    RolesAssigned {
        user_id: UserId,
        roles: Vec<RoleName>,
        assigned_by: Actor,
        assigned_at: DateTime<Utc>,
    },
    /// Roles were taken from a user.
    RolesRevoked {
        user_id: UserId,
        roles: Vec<RoleName>,
        revoked_by: Actor,
        revoked_at: DateTime<Utc>,
    },
    /// Roles a user held in another system were copied (a VAMS migration); `assigned_at` is the
    /// earliest `createdOn` there.
    UserRolesImported {
        user_id: UserId,
        roles: Vec<RoleName>,
        assigned_at: DateTime<Utc>,
        source: ImportSource,
    },
}

impl DomainEvent for UserRolesEvent {
    fn event_type(&self) -> String {
        match self {
            Self::RolesAssigned { .. } => "RolesAssigned",
            Self::RolesRevoked { .. } => "RolesRevoked",
            Self::UserRolesImported { .. } => "UserRolesImported",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
