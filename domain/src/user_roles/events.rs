//! What happened to a user's roles.
use crate::{Actor, RoleName, UserId};
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
}

impl DomainEvent for UserRolesEvent {
    fn event_type(&self) -> String {
        match self {
            Self::RolesAssigned { .. } => "RolesAssigned",
            Self::RolesRevoked { .. } => "RolesRevoked",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
