//! Two nodes on one table set and one log group: each event is delivered once, not once per node, and
//! when the node delivering leaves, another takes over without losing or repeating a record.
use crate::cloudwatch::{self, assert_no_duplicates, Line};
use crate::env::{fresh_group, fresh_prefix, Emulators};
use crate::node::{start_pair, Node, NodeConfig};
use serde_json::json;

/// The bootstrap's events, then the test's, alternating between the nodes.
const EXPECTED_ACTIONS: [&str; 8] = [
    "roleCreate",
    "userRolesAssign",
    "apiKeyCreate",
    "roleCreate",
    "userRolesAssign",
    "apiKeyCreate",
    "apiKeyUpdate",
    "apiKeyDelete",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_deliver_each_event_once() {
    let Some(emulators) = Emulators::or_skip("audit_leadership") else {
        return;
    };
    let group = fresh_group("leadership");
    let logs = tempfile::tempdir().expect("a logs dir");
    let config = NodeConfig::new(&fresh_prefix(), &group);
    let (node_a, node_b, admin_key) = start_pair(&config, logs.path()).await;
    let (a, b) = (node_a.api(&admin_key), node_b.api(&admin_key));

    a.create_role("shared-auditors").await.ok();
    b.assign_roles("carol", &["shared-auditors"]).await.ok();
    let key = a.create_key_ok("shared key", "carol").await;
    b.update_key(&key.id, &json!({ "description": "updated on B" }))
        .await
        .ok();
    a.delete_key(&key.id).await.ok();

    let client = cloudwatch::client(&emulators.cloudwatch).await;
    let lines = cloudwatch::settled(&client, &group, EXPECTED_ACTIONS.len()).await;
    assert_no_duplicates(&lines, "two nodes, one log group");
    let actions: Vec<&str> = lines.iter().map(Line::action).collect();
    assert_eq!(
        actions, EXPECTED_ACTIONS,
        "actions in the log group, in order"
    );

    drop((node_a, node_b));
}

/// Graceful departures are not crashes: when the node delivering the stream leaves, the next one
/// continues after the shared checkpoint, without losing or repeating a record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_moves_on_when_the_delivering_node_leaves() {
    let Some(emulators) = Emulators::or_skip("audit_handover") else {
        return;
    };
    let group = fresh_group("handover");
    let logs = tempfile::tempdir().expect("a logs dir");
    let config = NodeConfig::new(&fresh_prefix(), &group);
    let (node_a, node_b, admin_key) = start_pair(&config, logs.path()).await;
    let b = node_b.api(&admin_key);
    b.key_for_new_user("dave", &["handover"]).await;
    let client = cloudwatch::client(&emulators.cloudwatch).await;
    let bootstrap_and_setup = 6;
    cloudwatch::settled(&client, &group, bootstrap_and_setup).await;

    // A leaves (SIGTERM): whichever node held the delivery lease, B delivers what follows, so B
    // holds it afterwards.
    node_a.server.stop().await;
    let late = b.create_key_ok("after A left", "dave").await;
    let lines = cloudwatch::settled(&client, &group, bootstrap_and_setup + 1).await;
    assert_no_duplicates(&lines, "after A left");

    // B, now the holder, leaves: a new node C takes over once the lease lapses.
    let node_c = Node::start(&config, "C", logs.path()).await;
    assert_eq!(
        node_c.bootstrap_key(),
        None,
        "a later start bootstraps nothing"
    );
    node_b.server.stop().await;
    node_c.api(&admin_key).delete_key(&late.id).await.ok();
    let lines = cloudwatch::settled(&client, &group, bootstrap_and_setup + 2).await;
    assert_no_duplicates(&lines, "after B, the delivering node, left");
    let tail: Vec<(&str, &str)> = lines[bootstrap_and_setup..]
        .iter()
        .map(|l| {
            (
                l.action(),
                l.record["apiKeyId"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        tail,
        [
            ("apiKeyCreate", late.id.as_str()),
            ("apiKeyDelete", late.id.as_str())
        ],
        "records after the nodes left, in order"
    );
    drop(node_c);
}

/// A graceful restart is not a crash either: the restarted node delivers only what is new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_delivers_only_new_records() {
    let Some(emulators) = Emulators::or_skip("audit_restart") else {
        return;
    };
    let group = fresh_group("restart");
    let logs = tempfile::tempdir().expect("a logs dir");
    let config = NodeConfig::new(&fresh_prefix(), &group);
    let first = Node::start(&config, "first", logs.path()).await;
    let admin_key = first.bootstrap_key().expect("a fresh table set bootstraps");
    let key = first
        .api(&admin_key)
        .key_for_new_user("erin", &["restarted"])
        .await;
    let client = cloudwatch::client(&emulators.cloudwatch).await;
    let before = 6;
    cloudwatch::settled(&client, &group, before).await;

    first.server.stop().await;
    let second = Node::start(&config, "second", logs.path()).await;
    second.api(&admin_key).delete_key(&key.id).await.ok();
    let lines = cloudwatch::settled(&client, &group, before + 1).await;
    assert_no_duplicates(&lines, "after a restart");
    assert_eq!(lines.last().map(Line::action), Some("apiKeyDelete"));
    drop(second);
}
