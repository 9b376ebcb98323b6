//! The DynamoDB views read through the `Kind-ViewId` index: the directory (roles, users and their
//! versions) without a scan, and nodes setting up the tables (and the index) at once all succeed.
//!
//! Needs `APIKEYD_EMULATORS` (DynamoDB Local); without it each test prints why it is skipped and
//! passes.
use chrono::{DateTime, Duration, Utc};
use domain::api_key::ApiKeyEvent;
use domain::role::{RoleDefinition, RoleEvent};
use domain::user_roles::UserRolesEvent;
use domain::{Actor, ApiKeyName, Description, Expiration, KeyHash, RoleName, UserId};
use infra::DynamoStore;
use projections::read_model::{key_change, version_key};
use projections::{DomainEvent, ReadModel, RecordedEvent, ViewChanges, ViewStore};
use std::collections::HashMap;
use uuid::Uuid;

fn emulators() -> bool {
    let on = std::env::var_os("APIKEYD_EMULATORS").is_some_and(|v| !v.is_empty());
    if !on {
        eprintln!("skipped: APIKEYD_EMULATORS is not set (run `eval \"$(bash scripts/emulators.sh start)\"` first)");
    }
    on
}

fn prefix() -> String {
    format!("t{}", Uuid::new_v4().simple())
}

const USERS: [&str; 4] = ["alice", "bob", "carol", "dave"];

/// Folds `event` of aggregate `(kind, id)` at `sequence` into `model`.
fn fold(model: &mut ReadModel, kind: &str, id: &str, sequence: u64, event: DomainEvent) {
    model.apply(&RecordedEvent {
        cursor: format!("{sequence:020}"),
        aggregate_type: kind.into(),
        aggregate_id: id.into(),
        sequence,
        event,
        metadata: HashMap::new(),
        recorded_at: Utc::now(),
    });
}

/// The creation of key `n`: four users, some searchable descriptions, varied expiries and times.
fn created(n: usize, now: DateTime<Utc>) -> (Uuid, ApiKeyEvent) {
    let id = Uuid::new_v4();
    let expires_at = match n % 4 {
        0 => None,
        1 => Some(now + Duration::days(n as i64)),
        2 => Some(now - Duration::days(1)),
        _ => Some(now + Duration::days(30)),
    };
    let event = ApiKeyEvent::ApiKeyCreated {
        api_key_id: id,
        api_key_name: ApiKeyName::parse(&format!("key-{:02}", (n * 37) % 61)).unwrap(),
        user_id: UserId::parse(USERS[n % USERS.len()]).unwrap(),
        description: Description::parse(if n.is_multiple_of(3) {
            "Billing job"
        } else {
            "other"
        })
        .unwrap(),
        key_hash: KeyHash::of(&format!("vams_{n:064}")),
        expires_at: expires_at.map(Expiration::from_utc),
        created_by: Actor::system(),
        created_at: now - Duration::minutes((n % 7) as i64),
        policy: Default::default(),
    };
    (id, event)
}

/// A store on fresh tables under `prefix`, with the index.
async fn fresh(prefix: &str) -> DynamoStore {
    let store = DynamoStore::connect(prefix).await;
    store.init_tables().await.unwrap();
    store
}

/// Three roles (one deleted again) and two users holding them, folded and saved.
async fn directory(store: &DynamoStore, model: &mut ReadModel) {
    let now = Utc::now();
    for name in ["readers", "writers", "gone"] {
        let definition = RoleDefinition {
            role_name: RoleName::parse(name).unwrap(),
            description: Description::parse("a role").unwrap(),
            source: None,
            source_identifier: None,
            mfa_required: false,
        };
        let event = RoleEvent::RoleCreated {
            id: Uuid::new_v4(),
            definition,
            created_by: Actor::system(),
            created_at: now,
        };
        fold(model, "Role", name, 1, DomainEvent::Role(event));
    }
    for (user, roles) in [
        ("alice", vec!["readers"]),
        ("bob", vec!["readers", "writers"]),
    ] {
        let event = UserRolesEvent::RolesAssigned {
            user_id: UserId::parse(user).unwrap(),
            roles: roles.iter().map(|r| RoleName::parse(r).unwrap()).collect(),
            assigned_by: Actor::system(),
            assigned_at: now,
        };
        fold(model, "UserRoles", user, 1, DomainEvent::UserRoles(event));
    }
    store
        .save(&ViewChanges::everything(model), "00000000000000000001")
        .await
        .unwrap();
    let deleted = RoleEvent::RoleDeleted {
        role_name: RoleName::parse("gone").unwrap(),
        deleted_by: Actor::system(),
        deleted_at: now,
    };
    fold(model, "Role", "gone", 2, DomainEvent::Role(deleted));
    let changes = ViewChanges {
        roles: vec![(RoleName::parse("gone").unwrap(), None)],
        versions: vec![(version_key("Role", "gone"), 2)],
        ..ViewChanges::default()
    };
    store.save(&changes, "00000000000000000002").await.unwrap();
}

/// `count` keys folded into `model` and saved; every fifth deleted again afterwards.
async fn keys(store: &DynamoStore, model: &mut ReadModel, count: usize) -> Vec<Uuid> {
    let now = Utc::now();
    let mut deleted = Vec::new();
    for n in 0..count {
        let (id, event) = created(n, now);
        fold(
            model,
            "ApiKey",
            &id.to_string(),
            1,
            DomainEvent::ApiKey(event),
        );
        if n % 3 == 1 {
            let view = model.listing.get_mut(&id).unwrap();
            view.is_active = false;
            view.updated_at = now + Duration::seconds(n as i64);
        }
    }
    store
        .save(&ViewChanges::everything(model), "00000000000000000003")
        .await
        .unwrap();
    let ids: Vec<Uuid> = model.listing.iter().map(|v| v.api_key_id).collect();
    let mut changes = ViewChanges::default();
    for id in ids.iter().step_by(5) {
        let view = model.listing.get(id).unwrap().clone();
        let event = ApiKeyEvent::ApiKeyDeleted {
            api_key_id: *id,
            api_key_name: ApiKeyName::parse(&view.api_key_name).unwrap(),
            user_id: view.user_id.clone(),
            deleted_by: Actor::system(),
            deleted_at: now,
        };
        changes.keys.push(key_change(&event, 2));
        changes
            .versions
            .push((version_key("ApiKey", &id.to_string()), 2));
        fold(
            model,
            "ApiKey",
            &id.to_string(),
            2,
            DomainEvent::ApiKey(event),
        );
        deleted.push(*id);
    }
    store.save(&changes, "00000000000000000004").await.unwrap();
    deleted
}

/// The directory `load_directory` reads, checked against the fold.
async fn assert_directory(store: &DynamoStore, expected: &ReadModel) {
    let mut loaded = ReadModel::compact();
    store.load_directory(&mut loaded).await.unwrap();
    assert_eq!(loaded.directory, expected.directory);
    for name in ["readers", "writers"] {
        let key = version_key("Role", name);
        assert_eq!(loaded.version(&key), 1, "{key}");
    }
    for user in ["alice", "bob"] {
        let key = version_key("UserRoles", user);
        assert_eq!(loaded.version(&key), 1, "{key}");
    }
    assert_eq!(loaded.listing.len(), 0, "no key row is read");
}

#[tokio::test]
async fn load_directory_reads_roles_and_users_with_their_versions() {
    if !emulators() {
        return;
    }
    let prefix = prefix();
    let store = fresh(&prefix).await;
    let mut model = ReadModel::default();
    directory(&store, &mut model).await;
    keys(&store, &mut model, 10).await;
    assert_eq!(model.directory.roles.len(), 2);
    assert_eq!(model.directory.users.len(), 2);
    assert_directory(&store, &model).await;
}

#[tokio::test]
async fn nodes_setting_up_new_tables_at_once_all_succeed() {
    if !emulators() {
        return;
    }
    let prefix = prefix();
    let (a, b) = (
        DynamoStore::connect(&prefix).await,
        DynamoStore::connect(&prefix).await,
    );
    let (x, y) = tokio::join!(a.init_tables(), b.init_tables());
    x.unwrap();
    y.unwrap();
    let (x, y) = tokio::join!(a.ensure_view_index(), b.ensure_view_index());
    x.unwrap();
    y.unwrap();
    let mut model = ReadModel::default();
    directory(&a, &mut model).await;
    assert_directory(&b, &model).await;
}
