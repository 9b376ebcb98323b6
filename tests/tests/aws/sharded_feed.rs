//! Three `apikeyd serve` processes on one table set initialised with `aws init --feed-shards 4`:
//! keys created on A work on B and C, a deactivation and a deletion through B are refused by A and C
//! within a second, and the feed's items lie in more than one partition.
use crate::env::{fresh_group, fresh_prefix, Emulators};
use crate::multi_node::refused_on;
use crate::node::{Node, NodeConfig};
use aws_sdk_dynamodb::types::{AttributeValue, Select};
use tests::binary::describe;

/// The shard count under test.
const SHARDS: u16 = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_on_four_feed_shards_share_keys_and_revocations() {
    let Some(_emulators) = Emulators::or_skip("sharded_feed") else {
        return;
    };
    let logs = tempfile::tempdir().expect("a logs dir");
    let prefix = fresh_prefix();
    // The nodes create missing tables at start too: with the same count, which init recorded.
    let config = NodeConfig::new(&prefix, &fresh_group("sharded-feed"))
        .with_env("APIKEYD_FEED_SHARDS", &SHARDS.to_string());
    let init = config
        .run(&["aws", "init", "--feed-shards", &SHARDS.to_string()])
        .await;
    assert!(init.status.success(), "aws init: {}", describe(&init));
    let printed = String::from_utf8_lossy(&init.stdout);
    assert!(
        printed.contains(&format!("{prefix}-feed: {SHARDS} feed shard(s)")),
        "aws init names the shard count: {printed}"
    );
    let refused = NodeConfig::new(&prefix, &fresh_group("sharded-feed"))
        .run(&["aws", "init", "--feed-shards", "2"])
        .await;
    assert!(
        !refused.status.success() && describe(&refused).contains("resharding"),
        "another count is refused: {}",
        describe(&refused)
    );

    let (node_a, node_b, node_c) = tokio::join!(
        Node::start(&config, "A", logs.path()),
        Node::start(&config, "B", logs.path()),
        Node::start(&config, "C", logs.path())
    );
    let keys: Vec<String> = [&node_a, &node_b, &node_c]
        .iter()
        .filter_map(|node| node.bootstrap_key())
        .collect();
    assert_eq!(keys.len(), 1, "exactly one of three nodes bootstraps");
    let admin_key = &keys[0];
    let (a, b, c) = (
        node_a.api(admin_key),
        node_b.api(admin_key),
        node_c.api(admin_key),
    );

    let mut created = Vec::new();
    for i in 0..6 {
        created.push(
            a.key_for_new_user(&format!("shard-user-{i}"), &["reader"])
                .await,
        );
    }
    for key in &created {
        b.assert_key_works(&key.key).await;
        c.assert_key_works(&key.key).await;
    }

    let key = &created[0];
    b.set_active(&key.id, false).await;
    for (label, api) in [("A", &a), ("C", &c)] {
        let took = refused_on(api, &key.key, "DISABLED", "deactivation through B").await;
        eprintln!("sharded_feed: deactivate on B -> refused on {label} after {took:?}");
    }

    let doomed = &created[1];
    b.delete_key(&doomed.id).await.ok();
    for (label, api) in [("A", &a), ("C", &c)] {
        let took = refused_on(api, &doomed.key, "NOT_FOUND", "deletion through B").await;
        eprintln!("sharded_feed: delete on B -> refused on {label} after {took:?}");
    }

    let used = used_partitions(&format!("{prefix}-feed")).await;
    eprintln!("sharded_feed: feed items per partition {used:?}");
    assert!(
        used.iter().filter(|(_, count)| *count > 0).count() > 1,
        "the feed's items lie in one partition: {used:?}"
    );
    assert_eq!(used.iter().find(|(p, _)| p == "feed"), None);
    drop((node_a, node_b, node_c));
}

/// The number of items in each shard partition `feed#0` .. of `table` (and in `feed`, if any).
async fn used_partitions(table: &str) -> Vec<(String, i32)> {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let mut counts = Vec::new();
    let partitions = (0..SHARDS)
        .map(|shard| format!("feed#{shard}"))
        .chain(["feed".to_owned()]);
    for partition in partitions {
        let out = client
            .query()
            .table_name(table)
            .key_condition_expression("FeedPartition = :p")
            .expression_attribute_values(":p", AttributeValue::S(partition.clone()))
            .select(Select::Count)
            .consistent_read(true)
            .send()
            .await
            .expect("count a feed partition");
        if out.count() > 0 || partition != "feed" {
            counts.push((partition, out.count()));
        }
    }
    counts
}
