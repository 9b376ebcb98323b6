//! The sharded change feed on DynamoDB Local: with 4 shards, commits of many aggregates spread over
//! every shard partition and each aggregate stays in one; reading in small pages returns exactly the
//! cursors of one full read, in order; the shard count is recorded once (the same count again is
//! fine, another is refused); tables without the count read as one shard, the unsharded layout.
//!
//! Needs `APIKEYD_EMULATORS` (set by `eval "$(bash scripts/emulators.sh start)"`, always set in
//! CI); without it every case prints why it is skipped and passes.
use aws_sdk_dynamodb::types::{AttributeValue, Select};
use chrono::Utc;
use cqrs_es::persist::SerializedEvent;
use domain::user_roles::UserRolesEvent;
use domain::{Actor, RoleName, UserId};
use infra::bulk::StreamCommit;
use infra::dynamo::{FeedShards, FeedShardsError, TableSetupError};
use infra::DynamoStore;
use projections::EventFeed;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

fn emulators() -> bool {
    let set = std::env::var_os("APIKEYD_EMULATORS").is_some_and(|v| !v.is_empty());
    if !set {
        eprintln!("skipped: APIKEYD_EMULATORS is not set (run `eval \"$(bash scripts/emulators.sh start)\"` first)");
    }
    set
}

fn fresh_prefix() -> String {
    format!("t{}", Uuid::new_v4().simple())
}

fn four() -> FeedShards {
    FeedShards::new(4).unwrap()
}

/// Event `sequence` of user `user`'s roles: a role assigned.
fn assigned(user: &str, sequence: usize) -> SerializedEvent {
    let event = UserRolesEvent::RolesAssigned {
        user_id: UserId::parse(user).unwrap(),
        roles: vec![RoleName::parse(&format!("role-{sequence}")).unwrap()],
        assigned_by: Actor::system(),
        assigned_at: Utc::now(),
    };
    SerializedEvent {
        aggregate_id: user.to_owned(),
        sequence,
        aggregate_type: "UserRoles".to_owned(),
        event_type: "RolesAssigned".to_owned(),
        event_version: "1".to_owned(),
        payload: serde_json::to_value(event).unwrap(),
        metadata: serde_json::json!({}),
    }
}

/// Commits `events_each` events to each of `users` aggregates, one commit per event.
async fn commit(store: &DynamoStore, users: &[String], events_each: usize) {
    for sequence in 1..=events_each {
        for user in users {
            store
                .commit_streams(&[&[assigned(user, sequence)]])
                .await
                .unwrap();
        }
    }
}

/// The feed items in `partition`, as (aggregate id, cursor).
async fn partition_items(store: &DynamoStore, partition: &str) -> Vec<(String, String)> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = store
            .client()
            .query()
            .table_name(&store.tables().feed)
            .key_condition_expression("FeedPartition = :p")
            .expression_attribute_values(":p", AttributeValue::S(partition.to_owned()))
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for item in page.items() {
            let text = |name: &str| item[name].as_s().unwrap().clone();
            items.push((text("AggregateId"), text("Cursor")));
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return items;
        }
    }
}

/// How many items `partition` holds, counted by DynamoDB.
async fn partition_count(store: &DynamoStore, partition: &str) -> i32 {
    store
        .client()
        .query()
        .table_name(&store.tables().feed)
        .key_condition_expression("FeedPartition = :p")
        .expression_attribute_values(":p", AttributeValue::S(partition.to_owned()))
        .select(Select::Count)
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .count()
}

/// Every cursor after "" read `limit` at a time.
async fn paged_cursors(store: &DynamoStore, limit: usize) -> Vec<String> {
    let mut cursors = Vec::new();
    let mut after = String::new();
    loop {
        let page = store.events_after(&after, limit).await.unwrap();
        assert!(page.len() <= limit, "a page of {limit} held {}", page.len());
        let Some(last) = page.last() else {
            return cursors;
        };
        after = last.cursor.clone();
        cursors.extend(page.into_iter().map(|e| e.cursor));
    }
}

#[tokio::test]
async fn four_shards_spread_aggregates_and_read_back_in_cursor_order() {
    if !emulators() {
        return;
    }
    let store = DynamoStore::connect(&fresh_prefix()).await;
    store.init_tables_sharded(four()).await.unwrap();
    assert_eq!(store.feed_shards().await.unwrap(), four());
    let users: Vec<String> = (0..44).map(|i| format!("shard-user-{i}")).collect();
    commit(&store, &users, 2).await;

    assert_eq!(
        partition_count(&store, "feed").await,
        0,
        "nothing in the unsharded partition"
    );
    let mut shard_of: HashMap<String, String> = HashMap::new();
    let mut total = 0;
    for partition in four().partitions() {
        let counted = partition_count(&store, &partition).await;
        assert!(counted > 0, "{partition} holds no event");
        let items = partition_items(&store, &partition).await;
        assert_eq!(items.len(), counted as usize);
        total += items.len();
        for (user, _) in items {
            if let Some(other) = shard_of.insert(user.clone(), partition.clone()) {
                assert_eq!(other, partition, "{user}'s events are in two shards");
            }
        }
    }
    assert_eq!(total, users.len() * 2, "every event once in some shard");
    assert_eq!(shard_of.len(), users.len());

    let full = store.events_after("", 10_000).await.unwrap();
    let full: Vec<String> = full.into_iter().map(|e| e.cursor).collect();
    assert_eq!(full.len(), users.len() * 2);
    assert!(full.windows(2).all(|w| w[0] < w[1]), "cursor order");
    for limit in [1, 3, 7, 50] {
        assert_eq!(paged_cursors(&store, limit).await, full, "pages of {limit}");
    }
    // From the middle: exactly the cursors after it.
    let middle = &full[full.len() / 2];
    let after: Vec<String> = store
        .events_after(middle, 5)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.cursor)
        .collect();
    assert_eq!(after, full[full.len() / 2 + 1..full.len() / 2 + 6]);

    // Another store on the same tables learns the count from the config item, which no reader
    // of the log mistakes for an event.
    let other = DynamoStore::connect(&store.tables().events.replace("-events", "")).await;
    assert_eq!(other.feed_shards().await.unwrap(), four());
    let mirrored = infra::chain::ChainedLog::mirrored_events(&other)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mirrored.len(), users.len() * 2);
}

#[tokio::test]
async fn the_shard_count_is_recorded_once() {
    if !emulators() {
        return;
    }
    let prefix = fresh_prefix();
    let first = DynamoStore::connect(&prefix).await;
    first.init_tables_sharded(four()).await.unwrap();
    let again = DynamoStore::connect(&prefix).await;
    again.init_tables_sharded(four()).await.unwrap();
    assert_eq!(again.feed_shards().await.unwrap(), four());

    let refused = DynamoStore::connect(&prefix)
        .await
        .init_tables_sharded(FeedShards::new(8).unwrap())
        .await;
    match refused {
        Err(TableSetupError::FeedShards(FeedShardsError::Mismatch { stored, requested })) => {
            assert_eq!((stored, requested), (four(), FeedShards::new(8).unwrap()));
        }
        other => panic!("another count must be refused, got {other:?}"),
    }
    let unsharded = DynamoStore::connect(&prefix).await.init_tables().await;
    assert!(
        matches!(
            unsharded,
            Err(TableSetupError::FeedShards(
                FeedShardsError::Mismatch { .. }
            ))
        ),
        "one shard on a 4-shard feed must be refused too, got {unsharded:?}"
    );

    // Nodes initialising a new table set at once agree on one count.
    let racing = fresh_prefix();
    let (a, b) = (
        DynamoStore::connect(&racing).await,
        DynamoStore::connect(&racing).await,
    );
    let (ra, rb) = tokio::join!(a.init_tables_sharded(four()), b.init_tables_sharded(four()));
    ra.unwrap();
    rb.unwrap();
}

#[tokio::test]
async fn tables_without_the_count_are_one_unsharded_partition() {
    if !emulators() {
        return;
    }
    let prefix = fresh_prefix();
    let setup = DynamoStore::connect(&prefix).await;
    setup.init_tables().await.unwrap();
    // Tables made before sharding have no config item.
    setup
        .client()
        .delete_item()
        .table_name(&setup.tables().feed)
        .key("FeedPartition", AttributeValue::S("config".into()))
        .key("Cursor", AttributeValue::S("shards".into()))
        .send()
        .await
        .unwrap();

    let store = DynamoStore::connect(&prefix).await;
    assert_eq!(store.feed_shards().await.unwrap(), FeedShards::ONE);
    let users: Vec<String> = (0..6).map(|i| format!("old-user-{i}")).collect();
    commit(&store, &users, 1).await;
    let items = partition_items(&store, "feed").await;
    let owners: HashSet<String> = items.into_iter().map(|(user, _)| user).collect();
    assert_eq!(owners.len(), users.len(), "every event in partition feed");
    assert_eq!(
        store.events_after("", 100).await.unwrap().len(),
        users.len()
    );

    // Those events would be lost to readers of 4 shards: initialising so is refused.
    let refused = DynamoStore::connect(&prefix)
        .await
        .init_tables_sharded(four())
        .await;
    assert!(
        matches!(
            refused,
            Err(TableSetupError::FeedShards(FeedShardsError::Mismatch { stored, .. }))
                if stored == FeedShards::ONE
        ),
        "got {refused:?}"
    );
    DynamoStore::connect(&prefix)
        .await
        .init_tables()
        .await
        .expect("the same (one) count again is fine");
}
