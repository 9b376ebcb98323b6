//! What the benches share: a compact read model with N live keys spread over 1 000 users who all
//! hold a role, and the key text of key number n.
use chrono::{TimeZone, Utc};
use domain::api_key::ApiKeyEvent;
use domain::role::{RoleDefinition, RoleEvent};
use domain::user_roles::UserRolesEvent;
use domain::{Actor, ApiKeyName, Description, KeyHash, RoleName, UserId};
use projections::{DomainEvent, ReadModel, RecordedEvent};
use std::collections::HashMap;
use uuid::Uuid;

fn recorded(aggregate_type: &str, id: String, event: DomainEvent) -> RecordedEvent {
    RecordedEvent {
        cursor: String::new(),
        aggregate_type: aggregate_type.into(),
        aggregate_id: id,
        sequence: 1,
        event,
        metadata: HashMap::new(),
        recorded_at: Utc::now(),
    }
}

pub fn key(n: usize) -> String {
    format!("vams_{n:0>64}")
}

/// A model with `keys` live keys spread over 1 000 users who all hold a role: the compact model
/// an embedded server keeps (listing rows in the persisted views).
pub fn model(keys: usize) -> ReadModel {
    let at = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    let role = RoleName::parse("reader").unwrap();
    let mut model = ReadModel::compact();
    model.apply(&recorded(
        "Role",
        "reader".into(),
        DomainEvent::Role(RoleEvent::RoleCreated {
            id: Uuid::nil(),
            definition: RoleDefinition {
                role_name: role.clone(),
                description: Description::parse("r").unwrap(),
                source: None,
                source_identifier: None,
                mfa_required: false,
            },
            created_by: Actor::system(),
            created_at: at,
        }),
    ));
    for u in 0..1000 {
        let user = UserId::parse(&format!("user-{u}")).unwrap();
        model.apply(&recorded(
            "UserRoles",
            user.to_string(),
            DomainEvent::UserRoles(UserRolesEvent::RolesAssigned {
                user_id: user,
                roles: vec![role.clone()],
                assigned_by: Actor::system(),
                assigned_at: at,
            }),
        ));
    }
    for n in 0..keys {
        let id = Uuid::from_u128(n as u128 + 1);
        model.apply(&recorded(
            "ApiKey",
            id.to_string(),
            DomainEvent::ApiKey(ApiKeyEvent::ApiKeyCreated {
                api_key_id: id,
                api_key_name: ApiKeyName::parse(&format!("key-{n}")).unwrap(),
                user_id: UserId::parse(&format!("user-{}", n % 1000)).unwrap(),
                description: Description::parse("benchmark key").unwrap(),
                key_hash: KeyHash::of(&key(n)),
                expires_at: None,
                created_by: Actor::system(),
                created_at: at,
            }),
        ));
    }
    model
}
