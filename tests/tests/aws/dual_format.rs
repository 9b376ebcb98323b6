//! Both formats at once: `APIKEYD_AUDIT_LOG_GROUP` (JSON) and `APIKEYD_AUDIT_LOG_GROUP_VAMS` each get
//! every event exactly once, each from its own checkpoint, across a restart of the node; and
//! `audit search --from cloudwatch --since/--until` returns only the records in range, from either.
use crate::cloudwatch::{self, assert_no_duplicates, ids, Line};
use crate::env::{fresh_group, fresh_prefix, Emulators};
use crate::node::{Node, NodeConfig};
use serde_json::Value;

/// Bootstrap (3) + role, assignment, key, update (4).
const FIRST_RUN: usize = 7;
/// A second key, its deactivation and deletion.
const SECOND_RUN: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_groups_get_every_event_once_across_a_restart() {
    let Some(emulators) = Emulators::or_skip("dual_format") else {
        return;
    };
    let (json_group, vams_group) = (fresh_group("dual-json"), fresh_group("dual-vams"));
    let config = NodeConfig::new(&fresh_prefix(), &json_group)
        .with_env("APIKEYD_AUDIT_LOG_GROUP_VAMS", &vams_group);
    let logs = tempfile::tempdir().expect("a logs dir");
    let client = cloudwatch::client(&emulators.cloudwatch).await;

    let node = Node::start(&config, "first", logs.path()).await;
    let admin_key = node.bootstrap_key().expect("a fresh table set bootstraps");
    let api = node.api(&admin_key);
    let first = api.key_for_new_user("carol", &["dual-readers"]).await;
    api.set_active(&first.id, false).await;
    for group in [&json_group, &vams_group] {
        cloudwatch::settled(&client, group, FIRST_RUN).await;
    }
    node.server.stop().await;

    let node = Node::start(&config, "second", logs.path()).await;
    assert!(
        node.bootstrap_key().is_none(),
        "a restart does not bootstrap again"
    );
    let api = node.api(&admin_key);
    let second = api.create_key_ok("after the restart", "carol").await;
    api.set_active(&second.id, false).await;
    api.delete_key(&second.id).await.ok();

    let json_lines = cloudwatch::settled(&client, &json_group, FIRST_RUN + SECOND_RUN).await;
    let vams_lines = cloudwatch::settled(&client, &vams_group, FIRST_RUN + SECOND_RUN).await;
    assert_no_duplicates(&json_lines, "JSON group");
    assert_no_duplicates(&vams_lines, "VAMS group");
    assert!(
        json_lines.iter().all(|l| l.message.starts_with('{')),
        "JSON group holds JSON"
    );
    assert!(
        vams_lines
            .iter()
            .all(|l| l.message.starts_with("[AUTHCHANGES][type: ")),
        "VAMS group holds [AUTHCHANGES] lines"
    );
    assert_eq!(
        ids(&json_lines),
        ids(&vams_lines),
        "the same events, in the same order"
    );

    search_in_range(&config, &json_lines, None).await;
    search_in_range(&config, &vams_lines, Some(&vams_group)).await;
    node.server.stop().await;
}

/// `audit search --from cloudwatch --since A --until B --json` over a middle slice of `lines`
/// returns exactly that slice (refused keys aside), from `group` or the configured one.
async fn search_in_range(config: &NodeConfig, lines: &[Line], group: Option<&str>) {
    let time = |l: &Line| l.record["time"].as_str().expect("a time").to_owned();
    let (from, to) = (2, lines.len() - 3);
    let (since, until) = (time(&lines[from]), time(&lines[to]));
    let mut args = vec![
        "audit",
        "search",
        "--from",
        "cloudwatch",
        "--json",
        "--since",
        &since,
        "--until",
        &until,
    ];
    if let Some(group) = group {
        args.extend(["--log-group", group]);
    }
    let output = config.run(&args).await;
    assert!(
        output.status.success(),
        "audit search: {}",
        tests::binary::describe(&output)
    );
    let found: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON record"))
        .filter(|r| r["aggregateType"] != "Auth")
        .map(|r| r["eventId"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        found,
        ids(&lines[from..=to]),
        "records from {since} to {until} in {}",
        group.unwrap_or("the JSON group")
    );
}
