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

pub fn recorded(aggregate_type: &str, id: String, event: DomainEvent) -> RecordedEvent {
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

/// Key `n` in the checksummed format apikeyd issues.
#[allow(dead_code)] // not every bench uses it
pub fn checksummed(n: usize) -> String {
    let mut random = [0u8; 32];
    random[..8].copy_from_slice(&(n as u64).to_le_bytes());
    random[8..16].copy_from_slice(&(n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
    domain::key_format::checksummed(&random)
}

/// A model with `keys` live keys spread over 1 000 users who all hold a role: the compact model
/// an embedded server keeps (listing rows in the persisted views).
pub fn model(keys: usize) -> ReadModel {
    model_of(keys, key)
}

/// [`model`] with keys made by `key_of`.
pub fn model_of(keys: usize, key_of: fn(usize) -> String) -> ReadModel {
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
                key_hash: KeyHash::of(&key_of(n)),
                expires_at: None,
                created_by: Actor::system(),
                created_at: at,
                policy: Default::default(),
            }),
        ));
    }
    model
}
