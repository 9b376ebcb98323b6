//! Two nodes on one table set and one log group: each event is delivered once, not once per node.
use crate::cloudwatch::{self, assert_no_duplicates, Line};
use crate::env::{fresh_group, fresh_prefix, Emulators};
use crate::node::{start_pair, NodeConfig};
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
