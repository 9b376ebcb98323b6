//! What callers ask of a role.
use crate::{Actor, Description, ImportSource, RoleName};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The fields a role create or update sets, as VAMS has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinition {
    /// The role's name (also its aggregate id).
    pub role_name: RoleName,
    /// What the role is for.
    pub description: Description,
    /// `INTERNAL_SYSTEM` or none.
    pub source: Option<String>,
    /// Free text identifying the source.
    pub source_identifier: Option<String>,
    /// Whether VAMS requires MFA for this role.
    pub mfa_required: bool,
}

/// Commands on one role.
#[derive(Debug, Clone, PartialEq)]
pub enum RoleCommand {
    /// Define a new role (or re-create a deleted one).
    Create {
        id: Uuid,
        definition: RoleDefinition,
        actor: Actor,
        at: DateTime<Utc>,
    },
    /// Overwrite the role's fields.
    Update {
        definition: RoleDefinition,
        actor: Actor,
        at: DateTime<Utc>,
    },
    /// Remove the role.
    Delete { actor: Actor, at: DateTime<Utc> },
    /// Copy a role from another system; on a live role, overwrite its fields with that system's.
    Import {
        id: Uuid,
        definition: RoleDefinition,
        created_at: DateTime<Utc>,
        source: ImportSource,
    },
}
