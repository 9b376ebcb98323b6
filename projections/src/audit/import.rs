//! Audit records of imports (`apiKeyImport`, `apiKeyImportUpdate`, `roleImport`, `roleImportUpdate`,
//! `userRolesImport`): the actor is whoever ran the import, and `changes.source` names the system and
//! table the record was copied from.
use super::{key_subject, Subject};
use chrono::{DateTime, Utc};
use domain::api_key::ApiKeyEvent;
use domain::role::RoleDefinition;
use domain::ImportSource;
use serde_json::{json, Value};
use uuid::Uuid;

/// `changes` plus `source: {system, table}` (an object; anything else is wrapped as `value`).
pub(super) fn with_source(changes: Value, source: &ImportSource) -> Value {
    let mut out = match changes {
        Value::Object(map) => map,
        other => serde_json::Map::from_iter([("value".to_owned(), other)]),
    };
    out.insert(
        "source".into(),
        json!({ "system": source.system, "table": source.table }),
    );
    Value::Object(out)
}

/// An imported key: every value it was imported with, times and creator as the other system had them.
pub(super) fn key(event: &ApiKeyEvent) -> Subject {
    let ApiKeyEvent::ApiKeyImported {
        api_key_id,
        api_key_name,
        user_id,
        description,
        expires_at,
        is_active,
        created_by,
        created_at,
        updated_at,
        source,
        ..
    } = event
    else {
        unreachable!("audit::subject passes only ApiKeyImported here")
    };
    let changes = json!({
        "description": description,
        "expiresAt": expires_at,
        "isActive": is_active,
        "createdBy": created_by,
        "createdAt": created_at,
        "updatedAt": updated_at,
    });
    Subject {
        changes: with_source(changes, source),
        ..key_subject(
            "apiKeyImport",
            source.imported_by.as_ref(),
            api_key_id,
            api_key_name.as_ref(),
            user_id.as_ref(),
        )
    }
}

/// An imported role: its definition, its id and creation time there.
pub(super) fn role_changes(
    id: &Uuid,
    definition: &RoleDefinition,
    created_at: &DateTime<Utc>,
) -> Value {
    let mut out = json!(definition);
    if let Value::Object(map) = &mut out {
        map.insert("id".into(), json!(id));
        map.insert("createdOn".into(), json!(created_at));
    }
    out
}
