//! Where an imported record came from: the migration tools record it on every import event, so the
//! audit trail says which foreign table a key, role or user role was copied from, by whom and when.
use crate::Actor;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The system and table an import read, who ran it and when the record entered apikeyd.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportSource {
    /// The system imported from (`vams`).
    pub system: String,
    /// The table the record was read from (e.g. `vams-ApiKeyStorageTable1A2B3C`).
    pub table: String,
    /// Who ran the import (the operator's CLI acts as the system).
    pub imported_by: Actor,
    /// When the record was written into apikeyd (the event's time).
    pub imported_at: DateTime<Utc>,
}
