//! Imports of roles: a new name is imported with its id and creation time; a live role whose fields
//! differ is overwritten with the other system's; an identical one records nothing.
use super::{RoleDefinition, RoleEvent};
use crate::ImportSource;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The event an import of `definition` records on a role currently `current` (`None`: none).
pub(super) fn event(
    current: Option<&RoleDefinition>,
    id: Uuid,
    definition: RoleDefinition,
    created_at: DateTime<Utc>,
    source: ImportSource,
) -> Option<RoleEvent> {
    match current {
        None => Some(RoleEvent::RoleImported {
            id,
            definition,
            created_at,
            source,
        }),
        Some(current) if *current == definition => None,
        Some(_) => Some(RoleEvent::RoleImportUpdated { definition, source }),
    }
}
