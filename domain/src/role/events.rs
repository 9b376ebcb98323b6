//! What happened to a role.
use super::RoleDefinition;
use crate::{Actor, ImportSource, RoleName};
use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Events of the role aggregate; each carries the resulting definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RoleEvent {
    /// A role was defined.
    RoleCreated {
        id: Uuid,
        definition: RoleDefinition,
        created_by: Actor,
        created_at: DateTime<Utc>,
    },
    /// A role's fields were overwritten.
    RoleUpdated {
        definition: RoleDefinition,
        updated_by: Actor,
        updated_at: DateTime<Utc>,
    },
    /// A role was removed.
    RoleDeleted {
        role_name: RoleName,
        deleted_by: Actor,
        deleted_at: DateTime<Utc>,
    },
    /// A role was copied from another system (a VAMS migration), with its id and creation time there.
    RoleImported {
        id: Uuid,
        definition: RoleDefinition,
        created_at: DateTime<Utc>,
        source: ImportSource,
    },
    /// A later import overwrote the role's fields with the other system's.
    RoleImportUpdated {
        definition: RoleDefinition,
        source: ImportSource,
    },
}

impl DomainEvent for RoleEvent {
    fn event_type(&self) -> String {
        match self {
            Self::RoleCreated { .. } => "RoleCreated",
            Self::RoleUpdated { .. } => "RoleUpdated",
            Self::RoleDeleted { .. } => "RoleDeleted",
            Self::RoleImported { .. } => "RoleImported",
            Self::RoleImportUpdated { .. } => "RoleImportUpdated",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
