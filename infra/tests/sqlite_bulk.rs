//! The SQLite view store's bulk paths (a rebuild's `replace_all`, a start's `load_for_serving`, the
//! full `load`): what a rebuild writes loads back as the same model, the listing's sort indexes are
//! back after it, rows an older rebuild wrote without names and versions are completed on open, and
//! an undecodable row is reported as corrupt with its table and key.
use chrono::{TimeZone, Utc};
use domain::api_key::{ApiKeyChanges, ApiKeyEvent, Change};
use domain::{Actor, ApiKeyName, Description, KeyHash, UserId};
use infra::sqlite::DirectError;
use infra::SqliteStore;
use projections::{DomainEvent, ReadModel, RecordedEvent, StoreError, ViewStore};
use std::collections::HashMap;
use uuid::Uuid;

fn key_event(position: usize, sequence: u64, id: Uuid, event: ApiKeyEvent) -> RecordedEvent {
    RecordedEvent {
        cursor: format!("{position:020}"),
        aggregate_type: "ApiKey".into(),
        aggregate_id: id.to_string(),
        sequence,
        event: DomainEvent::ApiKey(event),
        metadata: HashMap::new(),
        recorded_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
    }
}

/// A stand-in secret per key, built so that no key-shaped literal sits in the source.
fn secret(n: usize) -> String {
    format!("vams_{n:0>64}")
}

/// `keys` keys; every third is then deactivated, every seventh deleted.
fn model(keys: usize) -> (ReadModel, String, Vec<(Uuid, usize)>) {
    let mut model = ReadModel::default();
    let mut position = 0;
    let mut ids = Vec::new();
    for n in 0..keys {
        let id = Uuid::new_v4();
        let name = ApiKeyName::parse(&format!("key-{n}")).unwrap();
        let user = UserId::parse(&format!("user-{}", n % 5)).unwrap();
        position += 1;
        model.apply(&key_event(
            position,
            1,
            id,
            ApiKeyEvent::ApiKeyCreated {
                api_key_id: id,
                api_key_name: name.clone(),
                user_id: user.clone(),
                description: Description::parse("bulk").unwrap(),
                key_hash: KeyHash::of(&secret(n)),
                expires_at: None,
                created_by: Actor::system(),
                created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
                policy: Default::default(),
            },
        ));
        if n % 3 == 0 {
            position += 1;
            model.apply(&key_event(
                position,
                2,
                id,
                ApiKeyEvent::ApiKeyUpdated {
                    api_key_id: id,
                    api_key_name: name.clone(),
                    user_id: user.clone(),
                    changes: ApiKeyChanges {
                        is_active: Some(Change {
                            old: true,
                            new: false,
                        }),
                        ..ApiKeyChanges::default()
                    },
                    updated_by: Actor::system(),
                    updated_at: Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap(),
                },
            ));
        }
        if n % 7 == 0 {
            position += 1;
            let sequence = if n % 3 == 0 { 3 } else { 2 };
            model.apply(&key_event(
                position,
                sequence,
                id,
                ApiKeyEvent::ApiKeyDeleted {
                    api_key_id: id,
                    api_key_name: name.clone(),
                    user_id: user.clone(),
                    deleted_by: Actor::system(),
                    deleted_at: Utc.with_ymd_and_hms(2026, 1, 3, 0, 0, 0).unwrap(),
                },
            ));
        }
        ids.push((id, n));
    }
    (model, format!("{position:020}"), ids)
}

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("apikeyd.db"))
        .await
        .unwrap();
    (dir, store)
}

async fn sort_indexes(store: &SqliteStore) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'api_key_view_key_%'
         ORDER BY name",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_rebuild_loads_back_as_the_model_it_wrote_with_its_sort_indexes() {
    let (_dir, store) = store().await;
    let before = sort_indexes(&store).await;
    assert_eq!(before.len(), 5, "sort indexes after open: {before:?}");
    let (model, cursor, ids) = model(3_000);
    store.replace_all(&model, &cursor).await.unwrap();

    let (loaded, loaded_cursor) = store.load().await.unwrap();
    assert_eq!(loaded_cursor, cursor);
    assert_eq!(loaded.differences(&model), Vec::<String>::new());
    assert_eq!(
        sort_indexes(&store).await,
        before,
        "a rebuild lost a sort index"
    );

    let (serving, serving_cursor) = store.load_for_serving().await.unwrap();
    assert_eq!(serving_cursor, cursor);
    for (id, n) in ids {
        let live = n % 7 != 0;
        let entry = serving.lookup.get(&KeyHash::of(&secret(n)));
        assert_eq!(entry.is_some(), live, "key {n}");
        if let Some(entry) = entry {
            assert_eq!(entry.api_key_id, id);
            assert_eq!(entry.is_active, n % 3 != 0, "key {n}");
            assert_eq!(serving.lookup.version(&id), model.lookup.version(&id));
        }
        assert_eq!(serving.name_in_use(&format!("key-{n}")), live, "key {n}");
    }

    // A second rebuild over the first replaces every row.
    let (smaller, cursor, _) = self::model(10);
    store.replace_all(&smaller, &cursor).await.unwrap();
    let (loaded, _) = store.load().await.unwrap();
    assert_eq!(loaded.differences(&smaller), Vec::<String>::new());
}

#[tokio::test]
async fn lookup_rows_without_names_or_versions_are_completed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("apikeyd.db");
    let (model, cursor, ids) = model(50);
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.replace_all(&model, &cursor).await.unwrap();
        // What a rebuild of an earlier version left.
        sqlx::query("UPDATE api_key_lookup SET api_key_name = NULL, version = NULL")
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query("PRAGMA user_version = 0")
            .execute(store.pool())
            .await
            .unwrap();
    }
    let store = SqliteStore::open(&path).await.unwrap();
    let missing: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM api_key_lookup WHERE api_key_name IS NULL OR version IS NULL",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(missing, 0);
    let (serving, _) = store.load_for_serving().await.unwrap();
    for (id, n) in ids.into_iter().filter(|(_, n)| n % 7 != 0) {
        assert!(serving.name_in_use(&format!("key-{n}")));
        assert_eq!(serving.lookup.version(&id), model.lookup.version(&id));
    }
}

#[tokio::test]
async fn an_undecodable_lookup_row_is_reported_with_its_key() {
    let (_dir, store) = store().await;
    let (model, cursor, ids) = model(5);
    store.replace_all(&model, &cursor).await.unwrap();
    let (id, _) = ids[1];
    sqlx::query("UPDATE api_key_lookup SET key_hash = 'not hex' WHERE api_key_id = ?")
        .bind(id.to_string())
        .execute(store.pool())
        .await
        .unwrap();
    match store.load_for_serving().await {
        Err(error @ StoreError::Corrupt(_)) => {
            // The adapter's own error, typed, under the port's.
            match error.cause().and_then(|c| c.downcast_ref::<DirectError>()) {
                Some(DirectError::Row { table, row, .. }) => {
                    assert_eq!(*table, "api_key_lookup");
                    assert_eq!(*row, id.to_string());
                }
                other => panic!("expected an undecodable lookup row, got {other:?}"),
            }
            let message = error.to_string();
            assert!(message.contains("api_key_lookup"), "{message}");
            assert!(message.contains(&id.to_string()), "{message}");
        }
        Err(other) => panic!("expected a corrupt row, got {other}"),
        Ok(_) => panic!("an undecodable row loaded"),
    }
}
