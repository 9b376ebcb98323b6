//! One audit record per event: who did what to which key, role or user, and what changed.
use crate::event::{DomainEvent, RecordedEvent};
use chrono::{DateTime, Utc};
use domain::api_key::{ApiKeyChanges, ApiKeyEvent};
use domain::role::RoleEvent;
use domain::user_roles::UserRolesEvent;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

mod import;
pub mod secrets;

/// Metadata keys the API records with each command.
pub mod meta {
    /// Roles the actor held when acting (comma-separated).
    pub const ACTOR_ROLES: &str = "actorRoles";
    /// `apiKey`, `system`, …
    pub const AUTH_METHOD: &str = "authMethod";
    /// The HTTP request id.
    pub const REQUEST_ID: &str = "requestId";
    /// The caller's address.
    pub const SOURCE_IP: &str = "sourceIp";
    /// The HTTP method of the request that caused the event.
    pub const METHOD: &str = "method";
    /// The request path (no query string: it is never recorded).
    pub const PATH: &str = "path";
    /// What the request asked for, in VAMS's audit vocabulary (`userRoleUpdate`, `roleDelete`, …):
    /// one request can cause several events (a role delete first revokes it from its holders).
    pub const OPERATION: &str = "operation";
    /// A JSON object of request facts the events do not keep: `expiresAt` as sent, the names of the
    /// fields an update sent, the `roleName` list as sent. Never a key or a header.
    pub const REQUEST_FIELDS: &str = "requestFields";
}

/// The request behind a record, without headers or body: method, path, and what it asked for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestFacts {
    pub method: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// See [`meta::REQUEST_FIELDS`].
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub fields: Value,
}

impl RequestFacts {
    /// The facts recorded in an event's metadata, when it came from an HTTP request.
    fn from_metadata(metadata: &std::collections::HashMap<String, String>) -> Option<Self> {
        Some(Self {
            method: metadata.get(meta::METHOD)?.clone(),
            path: metadata.get(meta::PATH)?.clone(),
            operation: metadata.get(meta::OPERATION).cloned(),
            fields: metadata
                .get(meta::REQUEST_FIELDS)
                .and_then(|f| serde_json::from_str(f).ok())
                .unwrap_or(Value::Null),
        })
    }
}

/// An audit line. Never holds a plaintext key (events never do).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    pub event_id: String,
    pub time: DateTime<Utc>,
    pub action: String,
    pub actor: String,
    #[serde(default)]
    pub actor_roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    #[serde(default)]
    pub changed_fields: Vec<String>,
    /// Field → `{"old": …, "new": …}` for updates; the created values for creates.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub changes: Value,
    /// The request that caused it (absent for system actions and older events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestFacts>,
}

/// The subject-specific part of a record.
struct Subject {
    action: &'static str,
    actor: String,
    api_key_id: Option<String>,
    api_key_name: Option<String>,
    user_id: Option<String>,
    role_name: Option<String>,
    changed_fields: Vec<String>,
    changes: Value,
}

impl AuditRecord {
    /// Derives the record of one event.
    pub fn from_event(recorded: &RecordedEvent) -> Self {
        let subject = subject(&recorded.event);
        let meta = |k: &str| recorded.metadata.get(k).cloned();
        Self {
            event_id: recorded.event_id(),
            time: event_time(&recorded.event),
            action: subject.action.to_owned(),
            actor: subject.actor,
            actor_roles: meta(meta::ACTOR_ROLES)
                .map(|r| {
                    r.split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            auth_method: meta(meta::AUTH_METHOD),
            request_id: meta(meta::REQUEST_ID),
            source_ip: meta(meta::SOURCE_IP),
            aggregate_type: recorded.aggregate_type.clone(),
            aggregate_id: recorded.aggregate_id.clone(),
            sequence: recorded.sequence,
            api_key_id: subject.api_key_id,
            api_key_name: subject.api_key_name,
            user_id: subject.user_id,
            role_name: subject.role_name,
            changed_fields: subject.changed_fields,
            changes: subject.changes,
            request: RequestFacts::from_metadata(&recorded.metadata),
        }
    }
}

/// When the event happened (the command's clock).
pub fn event_time(event: &DomainEvent) -> DateTime<Utc> {
    match event {
        DomainEvent::ApiKey(ApiKeyEvent::ApiKeyCreated { created_at, .. }) => *created_at,
        DomainEvent::ApiKey(ApiKeyEvent::ApiKeyUpdated { updated_at, .. }) => *updated_at,
        DomainEvent::ApiKey(ApiKeyEvent::ApiKeyDeleted { deleted_at, .. }) => *deleted_at,
        DomainEvent::ApiKey(ApiKeyEvent::ApiKeyRotated { rotated_at, .. }) => *rotated_at,
        DomainEvent::ApiKey(ApiKeyEvent::ApiKeyExposed { exposed_at, .. }) => *exposed_at,
        DomainEvent::Role(RoleEvent::RoleCreated { created_at, .. }) => *created_at,
        DomainEvent::Role(RoleEvent::RoleUpdated { updated_at, .. }) => *updated_at,
        DomainEvent::Role(RoleEvent::RoleDeleted { deleted_at, .. }) => *deleted_at,
        DomainEvent::UserRoles(UserRolesEvent::RolesAssigned { assigned_at, .. }) => *assigned_at,
        DomainEvent::UserRoles(UserRolesEvent::RolesRevoked { revoked_at, .. }) => *revoked_at,
        DomainEvent::ApiKey(ApiKeyEvent::ApiKeyImported { source, .. })
        | DomainEvent::ApiKey(ApiKeyEvent::ApiKeyImportUpdated { source, .. })
        | DomainEvent::Role(RoleEvent::RoleImported { source, .. })
        | DomainEvent::Role(RoleEvent::RoleImportUpdated { source, .. })
        | DomainEvent::UserRoles(UserRolesEvent::UserRolesImported { source, .. }) => {
            source.imported_at
        }
    }
}

fn key_subject(
    action: &'static str,
    actor: &str,
    id: &uuid::Uuid,
    name: &str,
    user: &str,
) -> Subject {
    Subject {
        action,
        actor: actor.to_owned(),
        api_key_id: Some(id.to_string()),
        api_key_name: Some(name.to_owned()),
        user_id: Some(user.to_owned()),
        role_name: None,
        changed_fields: vec![],
        changes: Value::Null,
    }
}

/// A change to a key's mutable fields: which ones, and their old and new values.
fn key_change_subject(
    action: &'static str,
    actor: &str,
    id: &uuid::Uuid,
    name: &str,
    user: &str,
    changes: &domain::api_key::ApiKeyChanges,
) -> Subject {
    Subject {
        changed_fields: changes
            .field_names()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        changes: key_changes(changes),
        ..key_subject(action, actor, id, name, user)
    }
}

fn role_subject(action: &'static str, actor: &str, role: &str, changes: Value) -> Subject {
    Subject {
        action,
        actor: actor.to_owned(),
        api_key_id: None,
        api_key_name: None,
        user_id: None,
        role_name: Some(role.to_owned()),
        changed_fields: vec![],
        changes,
    }
}

fn subject(event: &DomainEvent) -> Subject {
    match event {
        DomainEvent::ApiKey(ApiKeyEvent::ApiKeyCreated {
            api_key_id,
            api_key_name,
            user_id,
            description,
            expires_at,
            created_by,
            policy,
            ..
        }) => Subject {
            changes: created_changes(description, expires_at, policy),
            ..key_subject(
                "apiKeyCreate",
                created_by.as_ref(),
                api_key_id,
                api_key_name.as_ref(),
                user_id.as_ref(),
            )
        },
        DomainEvent::ApiKey(ApiKeyEvent::ApiKeyUpdated {
            api_key_id,
            api_key_name,
            user_id,
            changes,
            updated_by,
            ..
        }) => key_change_subject(
            "apiKeyUpdate",
            updated_by.as_ref(),
            api_key_id,
            api_key_name.as_ref(),
            user_id.as_ref(),
            changes,
        ),
        DomainEvent::ApiKey(ApiKeyEvent::ApiKeyDeleted {
            api_key_id,
            api_key_name,
            user_id,
            deleted_by,
            ..
        }) => key_subject(
            "apiKeyDelete",
            deleted_by.as_ref(),
            api_key_id,
            api_key_name.as_ref(),
            user_id.as_ref(),
        ),
        DomainEvent::Role(RoleEvent::RoleCreated {
            definition,
            created_by,
            ..
        }) => role_subject(
            "roleCreate",
            created_by.as_ref(),
            definition.role_name.as_ref(),
            json!(definition),
        ),
        DomainEvent::Role(RoleEvent::RoleUpdated {
            definition,
            updated_by,
            ..
        }) => role_subject(
            "roleUpdate",
            updated_by.as_ref(),
            definition.role_name.as_ref(),
            json!(definition),
        ),
        DomainEvent::Role(RoleEvent::RoleDeleted {
            role_name,
            deleted_by,
            ..
        }) => role_subject(
            "roleDelete",
            deleted_by.as_ref(),
            role_name.as_ref(),
            Value::Null,
        ),
        DomainEvent::UserRoles(UserRolesEvent::RolesAssigned {
            user_id,
            roles,
            assigned_by,
            ..
        }) => user_subject(
            "userRolesAssign",
            assigned_by.as_ref(),
            user_id.as_ref(),
            roles,
        ),
        DomainEvent::UserRoles(UserRolesEvent::RolesRevoked {
            user_id,
            roles,
            revoked_by,
            ..
        }) => user_subject(
            "userRolesRevoke",
            revoked_by.as_ref(),
            user_id.as_ref(),
            roles,
        ),
        DomainEvent::ApiKey(event @ ApiKeyEvent::ApiKeyImported { .. }) => import::key(event),
        DomainEvent::ApiKey(event @ ApiKeyEvent::ApiKeyRotated { .. }) => secrets::rotated(event),
        DomainEvent::ApiKey(event @ ApiKeyEvent::ApiKeyExposed { .. }) => secrets::exposed(event),
        DomainEvent::ApiKey(ApiKeyEvent::ApiKeyImportUpdated {
            api_key_id,
            api_key_name,
            user_id,
            changes,
            source,
            ..
        }) => {
            let subject = key_change_subject(
                "apiKeyImportUpdate",
                source.imported_by.as_ref(),
                api_key_id,
                api_key_name.as_ref(),
                user_id.as_ref(),
                changes,
            );
            Subject {
                changes: import::with_source(subject.changes.clone(), source),
                ..subject
            }
        }
        DomainEvent::Role(RoleEvent::RoleImported {
            id,
            definition,
            created_at,
            source,
        }) => role_subject(
            "roleImport",
            source.imported_by.as_ref(),
            definition.role_name.as_ref(),
            import::with_source(import::role_changes(id, definition, created_at), source),
        ),
        DomainEvent::Role(RoleEvent::RoleImportUpdated { definition, source }) => role_subject(
            "roleImportUpdate",
            source.imported_by.as_ref(),
            definition.role_name.as_ref(),
            import::with_source(json!(definition), source),
        ),
        DomainEvent::UserRoles(UserRolesEvent::UserRolesImported {
            user_id,
            roles,
            source,
            ..
        }) => Subject {
            changes: import::with_source(json!({ "roleName": roles }), source),
            ..user_subject(
                "userRolesImport",
                source.imported_by.as_ref(),
                user_id.as_ref(),
                roles,
            )
        },
    }
}

fn user_subject(
    action: &'static str,
    actor: &str,
    user: &str,
    roles: &[domain::RoleName],
) -> Subject {
    Subject {
        action,
        actor: actor.to_owned(),
        api_key_id: None,
        api_key_name: None,
        user_id: Some(user.to_owned()),
        role_name: None,
        changed_fields: vec!["roleName".to_owned()],
        changes: json!({ "roleName": roles }),
    }
}

fn key_changes(changes: &ApiKeyChanges) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(c) = &changes.description {
        out.insert("description".into(), json!({"old": c.old, "new": c.new}));
    }
    if let Some(c) = &changes.expires_at {
        out.insert("expiresAt".into(), json!({"old": c.old, "new": c.new}));
    }
    if let Some(c) = &changes.is_active {
        out.insert("isActive".into(), json!({"old": c.old, "new": c.new}));
    }
    if let Some(c) = &changes.roles {
        out.insert("roles".into(), json!({"old": c.old, "new": c.new}));
    }
    if let Some(c) = &changes.rate_limit {
        out.insert("rateLimit".into(), json!({"old": c.old, "new": c.new}));
    }
    if let Some(c) = &changes.allowed_cidrs {
        out.insert("allowedCidrs".into(), json!({"old": c.old, "new": c.new}));
    }
    if let Some(c) = &changes.meta {
        out.insert("meta".into(), json!({"old": c.old, "new": c.new}));
    }
    Value::Object(out)
}

/// A create's recorded values: what VAMS records, and the key's settings when it has any.
fn created_changes(
    description: &domain::Description,
    expires_at: &Option<domain::Expiration>,
    policy: &domain::KeyPolicy,
) -> Value {
    let mut changes =
        json!({"description": description, "expiresAt": expires_at, "isActive": true});
    if let (Value::Object(out), Ok(Value::Object(settings))) =
        (&mut changes, serde_json::to_value(policy))
    {
        out.extend(settings);
    }
    changes
}
