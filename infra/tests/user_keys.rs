//! Each user's keys on DynamoDB (a `userkey#<user>#<id>` row of `Kind` `userkeys#<user>` per key,
//! in the views' index), read through `UserKeys::keys_of`: what the admin guard of a node with a
//! bounded key cache reads for the keys it does not hold. A user's created keys are there (a
//! deactivated one too, marked inactive), a deleted one is gone, saving the same changes again (a
//! second node) changes nothing, a late replay of a creation does not revive a deleted key, no key
//! is ever returned for another user, `keep` and `enough` hold across pages, and the index
//! backfill gives keys written before the rows theirs.
//!
//! Index reads are eventually consistent: what should appear (or leave the index) is polled for,
//! within a deadline.
//!
//! Needs `APIKEYD_EMULATORS` (DynamoDB Local); without it each test prints why it is skipped and
//! passes.
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use domain::api_key::{ApiKeyChanges, ApiKeyEvent, Change};
use domain::{Actor, ApiKeyName, Description, KeyHash, UserId};
use infra::DynamoStore;
use projections::key_listing::ApiKeyView;
use projections::key_views::UserKeys;
use projections::read_model::{key_change, version_key};
use projections::{DomainEvent, ReadModel, RecordedEvent, ViewChanges, ViewStore};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use uuid::Uuid;

fn emulators() -> bool {
    let on = std::env::var_os("APIKEYD_EMULATORS").is_some_and(|v| !v.is_empty());
    if !on {
        eprintln!("skipped: APIKEYD_EMULATORS is not set (run `eval \"$(bash scripts/emulators.sh start)\"` first)");
    }
    on
}

/// A store on fresh tables (with the index) under a prefix no other test uses.
async fn fresh() -> DynamoStore {
    let store = DynamoStore::connect(&format!("t{}", Uuid::new_v4().simple())).await;
    store.init_tables().await.unwrap();
    store
}

fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

/// One event of a key, folded into a model and turned into the changes a node saves after it.
struct Keys {
    model: ReadModel,
    cursor: u64,
}

impl Keys {
    fn new() -> Self {
        Self {
            model: ReadModel::default(),
            cursor: 0,
        }
    }

    /// Folds `event` (the key's `sequence`-th) and returns the changes of that one fold, with the
    /// cursor they are saved at.
    fn fold(&mut self, id: Uuid, sequence: u64, event: ApiKeyEvent) -> (ViewChanges, String) {
        self.cursor += 1;
        let cursor = format!("{:020}", self.cursor);
        let changes = ViewChanges {
            keys: vec![key_change(&event, sequence)],
            versions: vec![(version_key("ApiKey", &id.to_string()), sequence)],
            ..ViewChanges::default()
        };
        self.model.apply(&RecordedEvent {
            cursor: cursor.clone(),
            aggregate_type: "ApiKey".into(),
            aggregate_id: id.to_string(),
            sequence,
            event: DomainEvent::ApiKey(event),
            metadata: HashMap::new(),
            recorded_at: Utc::now(),
        });
        (changes, cursor)
    }

    /// A new key of `owner` named `name`.
    fn create(&mut self, owner: &str, name: &str) -> (Uuid, ViewChanges, String) {
        let id = Uuid::new_v4();
        let event = ApiKeyEvent::ApiKeyCreated {
            api_key_id: id,
            api_key_name: ApiKeyName::parse(name).unwrap(),
            user_id: user(owner),
            description: Description::parse("a key").unwrap(),
            key_hash: KeyHash::of(&format!("vams_{}", Uuid::new_v4().simple())),
            expires_at: None,
            created_by: Actor::system(),
            created_at: Utc::now(),
            policy: Default::default(),
        };
        let (changes, cursor) = self.fold(id, 1, event);
        (id, changes, cursor)
    }

    /// The model's row of `id` (it must be live).
    fn row(&self, id: Uuid) -> ApiKeyView {
        self.model.listing.get(&id).expect("a live key").clone()
    }

    /// Deactivates `id` as its `sequence`-th event.
    fn deactivate(&mut self, id: Uuid, sequence: u64) -> (ViewChanges, String) {
        let row = self.row(id);
        let event = ApiKeyEvent::ApiKeyUpdated {
            api_key_id: id,
            api_key_name: ApiKeyName::parse(&row.api_key_name).unwrap(),
            user_id: row.user_id.clone(),
            changes: ApiKeyChanges {
                is_active: Some(Change {
                    old: true,
                    new: false,
                }),
                ..ApiKeyChanges::default()
            },
            updated_by: Actor::system(),
            updated_at: Utc::now(),
        };
        self.fold(id, sequence, event)
    }

    /// Deletes `id` as its `sequence`-th event.
    fn delete(&mut self, id: Uuid, sequence: u64) -> (ViewChanges, String) {
        let row = self.row(id);
        let event = ApiKeyEvent::ApiKeyDeleted {
            api_key_id: id,
            api_key_name: ApiKeyName::parse(&row.api_key_name).unwrap(),
            user_id: row.user_id.clone(),
            deleted_by: Actor::system(),
            deleted_at: Utc::now(),
        };
        self.fold(id, sequence, event)
    }
}

/// How long a row may take to reach (or leave) the index.
const INDEX_DEADLINE: Duration = Duration::from_secs(10);

/// The views' index, and the `Kind` of a user's key rows in it.
const INDEX: &str = "Kind-ViewId";

fn user_kind(owner: &str) -> String {
    format!("userkeys#{owner}")
}

/// `keys_of(owner)` of the keys `keep` accepts, at most `enough`: (id, active) of each, by id.
/// Asserts every one is `owner`'s and accepted.
async fn kept(
    store: &DynamoStore,
    owner: &str,
    keep: &(dyn for<'v> Fn(&'v ApiKeyView) -> bool + Send + Sync),
    enough: usize,
) -> Vec<(Uuid, bool)> {
    let owner = user(owner);
    let views = store.keys_of(&owner, keep, enough).await.unwrap();
    assert!(
        views.len() <= enough,
        "{} keys, enough {enough}",
        views.len()
    );
    for view in &views {
        assert_eq!(
            view.user_id, owner,
            "keys_of({owner}) returned a key of {}",
            view.user_id
        );
        assert!(keep(view), "keys_of({owner}) returned a key keep refuses");
    }
    let mut keys: Vec<(Uuid, bool)> = views.iter().map(|v| (v.api_key_id, v.is_active)).collect();
    keys.sort();
    keys
}

/// Every key of `owner`: (id, active), by id.
async fn listed(store: &DynamoStore, owner: &str) -> Vec<(Uuid, bool)> {
    kept(store, owner, &|_| true, usize::MAX).await
}

/// Polls [`listed`] until it is `expected` (sorted like it), for at most [`INDEX_DEADLINE`].
async fn listed_soon(store: &DynamoStore, owner: &str, expected: &[(Uuid, bool)], what: &str) {
    let mut expected = expected.to_vec();
    expected.sort();
    let deadline = Instant::now() + INDEX_DEADLINE;
    loop {
        let seen = listed(store, owner).await;
        if seen == expected {
            return;
        }
        if Instant::now() >= deadline {
            let missing: Vec<_> = expected.iter().filter(|k| !seen.contains(k)).collect();
            let unexpected: Vec<_> = seen.iter().filter(|k| !expected.contains(k)).collect();
            panic!(
                "{what}: keys_of({owner}) not as expected within {INDEX_DEADLINE:?}: \
                 {} keys, {} expected; missing {missing:?}; unexpected {unexpected:?}",
                seen.len(),
                expected.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `ids` as live keys, sorted like [`listed`].
fn active(ids: &[Uuid]) -> Vec<(Uuid, bool)> {
    let mut keys: Vec<(Uuid, bool)> = ids.iter().map(|id| (*id, true)).collect();
    keys.sort();
    keys
}

/// Saves `changes` at `cursor`, as every node does after its fold.
async fn save(store: &DynamoStore, (changes, cursor): &(ViewChanges, String)) {
    store.save(changes, cursor).await.unwrap();
}

/// The `ApiKeyId`s of the rows of `Kind` `userkeys#<owner>` in the index, as the index has them now.
async fn index_rows(store: &DynamoStore, owner: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut start = None;
    loop {
        let page = store
            .client()
            .query()
            .table_name(&store.tables().views)
            .index_name(INDEX)
            .key_condition_expression("#k = :k")
            .expression_attribute_names("#k", "Kind")
            .expression_attribute_values(":k", AttributeValue::S(user_kind(owner)))
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        ids.extend(
            page.items()
                .iter()
                .filter_map(|i| i.get("ApiKeyId")?.as_s().ok().cloned()),
        );
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            ids.sort();
            return ids;
        }
    }
}

#[tokio::test]
async fn a_users_keys_are_theirs_alone_and_a_deleted_one_leaves() {
    if !emulators() {
        return;
    }
    let store = fresh().await;
    let mut keys = Keys::new();
    assert_eq!(listed(&store, "alice").await, vec![], "no key yet");

    // Given two keys of alice and one of alice2 (a user whose name extends hers), each saved.
    let mut saved = Vec::new();
    for (owner, name) in [("alice", "a-one"), ("alice", "a-two"), ("alice2", "b-one")] {
        let (id, changes, cursor) = keys.create(owner, name);
        save(&store, &(changes.clone(), cursor.clone())).await;
        saved.push((id, changes, cursor));
    }
    let (a1, a2, b1) = (saved[0].0, saved[1].0, saved[2].0);

    // Then each user's keys are exactly theirs.
    listed_soon(&store, "alice", &active(&[a1, a2]), "alice's keys").await;
    listed_soon(&store, "alice2", &active(&[b1]), "alice2's key").await;
    assert_eq!(listed(&store, "carol").await, vec![], "a user without keys");

    // When a second node saves the same creations again, then nothing changes.
    for (_, changes, cursor) in &saved {
        save(&store, &(changes.clone(), cursor.clone())).await;
    }
    assert_eq!(listed(&store, "alice").await, active(&[a1, a2]));
    assert_eq!(listed(&store, "alice2").await, active(&[b1]));
    assert_eq!(
        index_rows(&store, "alice").await.len(),
        2,
        "one row per key"
    );

    // When one of alice's keys is deactivated, then it is still hers, marked inactive.
    save(&store, &keys.deactivate(a2, 2)).await;
    listed_soon(&store, "alice", &[(a1, true), (a2, false)], "deactivated").await;

    // When the other one is deleted (saved by two nodes), then it is gone, the rest stays.
    let deleted = keys.delete(a1, 2);
    save(&store, &deleted).await;
    save(&store, &deleted).await;
    assert_eq!(listed(&store, "alice").await, vec![(a2, false)]);
    assert_eq!(listed(&store, "alice2").await, active(&[b1]));

    // When a late node saves the deleted key's creation again, then it does not come back.
    let (_, created, cursor) = &saved[0];
    save(&store, &(created.clone(), cursor.clone())).await;
    assert_eq!(listed(&store, "alice").await, vec![(a2, false)]);

    // When the deactivated key is deleted too, then alice has none and alice2 still has hers.
    save(&store, &keys.delete(a2, 3)).await;
    assert_eq!(listed(&store, "alice").await, vec![]);
    assert_eq!(listed(&store, "alice2").await, active(&[b1]));
}

#[tokio::test]
async fn a_key_row_under_another_user_is_not_returned_for_them() {
    if !emulators() {
        return;
    }
    let store = fresh().await;
    let mut keys = Keys::new();
    let (theirs, changes, cursor) = keys.create("xavier", "x-key");
    save(&store, &(changes, cursor)).await;
    let (mine, changes, cursor) = keys.create("yvonne", "y-key");
    save(&store, &(changes, cursor)).await;

    // Given rows in yvonne's part of the index for xavier's key and for an id of no key, as a stray
    // or raced write could leave them.
    let ghost = Uuid::new_v4();
    for id in [theirs, ghost] {
        store
            .client()
            .put_item()
            .table_name(&store.tables().views)
            .item("ViewId", AttributeValue::S(format!("userkey#yvonne#{id}")))
            .item("Kind", AttributeValue::S(user_kind("yvonne")))
            .item("ApiKeyId", AttributeValue::S(id.to_string()))
            .send()
            .await
            .unwrap();
    }
    let mut all = vec![theirs.to_string(), mine.to_string(), ghost.to_string()];
    all.sort();
    let deadline = Instant::now() + INDEX_DEADLINE;
    while index_rows(&store, "yvonne").await != all {
        assert!(
            Instant::now() < deadline,
            "the stray rows never reached the index"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Then yvonne's keys are her own only, and xavier's are unchanged.
    assert_eq!(listed(&store, "yvonne").await, active(&[mine]));
    listed_soon(&store, "xavier", &active(&[theirs]), "xavier's key").await;
}

#[tokio::test]
async fn keep_and_enough_hold_across_pages_of_many_keys() {
    if !emulators() {
        return;
    }
    let store = fresh().await;
    let mut keys = Keys::new();
    // Given 40 keys of paula (more than one page of the index query) saved at once.
    let mut changes = ViewChanges::default();
    let mut ids = Vec::new();
    for n in 0..40 {
        let (id, one, _) = keys.create("paula", &format!("p-{n:02}"));
        changes.keys.extend(one.keys);
        changes.versions.extend(one.versions);
        ids.push(id);
    }
    store.save(&changes, "00000000000000000100").await.unwrap();
    ids.sort();
    listed_soon(&store, "paula", &active(&ids), "every key of paula").await;

    // When the three keys last in the index's order are deactivated.
    let last = ids[ids.len() - 3..].to_vec();
    for id in &last {
        save(&store, &keys.deactivate(*id, 2)).await;
    }
    let mut expected: Vec<(Uuid, bool)> = ids.iter().map(|id| (*id, !last.contains(id))).collect();
    expected.sort();
    listed_soon(&store, "paula", &expected, "three deactivated").await;

    // Then `enough` caps the answer, and `keep` finds the inactive ones past the first pages.
    assert_eq!(kept(&store, "paula", &|_| true, 16).await.len(), 16);
    assert_eq!(kept(&store, "paula", &|_| true, 1).await.len(), 1);
    let inactive = |v: &ApiKeyView| !v.is_active;
    let found: Vec<Uuid> = kept(&store, "paula", &inactive, 16)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(found, last);
    assert_eq!(kept(&store, "paula", &inactive, 2).await.len(), 2);
    assert_eq!(kept(&store, "paula", &|v| v.is_active, 100).await.len(), 37);
}

#[tokio::test]
async fn the_index_backfill_gives_keys_written_before_the_rows_theirs() {
    if !emulators() {
        return;
    }
    let store = fresh().await;
    let mut keys = Keys::new();
    let mut ids = Vec::new();
    for name in ["old-1", "old-2"] {
        let (id, changes, cursor) = keys.create("olga", name);
        save(&store, &(changes, cursor)).await;
        ids.push(id);
    }
    let (gone, changes, cursor) = keys.create("olga", "old-gone");
    save(&store, &(changes, cursor)).await;
    save(&store, &keys.delete(gone, 2)).await;
    listed_soon(&store, "olga", &active(&ids), "olga's live keys").await;

    // Given a views table as an older version left it: key rows, no user key row, no backfill marker.
    let rows = ids
        .iter()
        .chain([&gone])
        .map(|id| format!("userkey#olga#{id}"))
        .chain(["meta#kind-index".to_owned()]);
    for row in rows {
        store
            .client()
            .delete_item()
            .table_name(&store.tables().views)
            .key("ViewId", AttributeValue::S(row))
            .send()
            .await
            .unwrap();
    }
    listed_soon(&store, "olga", &[], "the user key rows are gone").await;

    // When the index is ensured (every start does), then the live keys are olga's again.
    store.ensure_view_index().await.unwrap();
    listed_soon(&store, "olga", &active(&ids), "backfilled").await;
}
