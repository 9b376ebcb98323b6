//! Last use across `apikeyd serve` processes on one table set: each node flushes its own
//! observations, both nodes show both, the latest use wins and the counts add up; a graceful stop
//! flushes what a long interval had not written yet.
use crate::env::{eventually, fresh_group, fresh_prefix, Emulators};
use crate::node::{start_pair, Node, NodeConfig};
use serde_json::Value;
use std::time::Duration;
use tests::keys::key_path;

const WITHIN: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(100);

fn verifications(usage: &Value) -> u64 {
    usage["hours"]
        .as_array()
        .map(|hours| {
            hours
                .iter()
                .filter_map(|h| h["verifications"].as_u64())
                .sum()
        })
        .unwrap_or(0)
}

fn config(test: &str, flush_seconds: &str) -> NodeConfig {
    NodeConfig::new(&fresh_prefix(), &fresh_group(test))
        .with_env("APIKEYD_LAST_USED_FLUSH_SECONDS", flush_seconds)
        .with_env("APIKEYD_TRUSTED_PROXIES", "127.0.0.1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_show_both_observations_and_the_latest_wins() {
    let Some(_emulators) = Emulators::or_skip("last_use_two_nodes") else {
        return;
    };
    let logs = tempfile::tempdir().expect("a logs dir");
    let (node_a, node_b, admin_key) = start_pair(&config("last-use", "1"), logs.path()).await;
    let (a, b) = (node_a.api(&admin_key), node_b.api(&admin_key));
    let key = a.key_for_new_user("last-use-user", &["reader"]).await;
    a.check_from(&key.key, "198.51.100.1").await;
    a.check_from(&key.key, "198.51.100.1").await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    // B may not have polled the key yet: its store look-up verifies it, and that counts too.
    b.check_from(&key.key, "198.51.100.2").await;

    for (name, api) in [("A", &a), ("B", &b)] {
        let (item, took) = eventually(
            &format!("node {name} lists B's later use"),
            WITHIN,
            POLL,
            || async {
                let item = api.get(&key_path(&key.id)).send().await.ok().clone();
                let report = api.key_usage(&key.id).await;
                if item["lastUsedFrom"] == "198.51.100.2" && verifications(&report) == 3 {
                    Ok(item)
                } else {
                    Err(format!("{item} / {report}"))
                }
            },
        )
        .await;
        eprintln!("last_use: node {name} shows both nodes' uses after {took:?}");
        assert_ne!(item["lastUsedAt"], "");
    }
    let report = a.key_usage(&key.id).await;
    let ips: Vec<&str> = report["sourceIps"]
        .as_array()
        .expect("sourceIps")
        .iter()
        .filter_map(|u| u["ip"].as_str())
        .collect();
    assert_eq!(
        ips,
        ["198.51.100.1", "198.51.100.2"],
        "most frequent first: {report}"
    );
    drop((node_a, node_b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_flushes_what_the_interval_had_not() {
    let Some(_emulators) = Emulators::or_skip("last_use_shutdown") else {
        return;
    };
    let logs = tempfile::tempdir().expect("a logs dir");
    // An hour between flushes: only the stop can have written the use.
    let config = config("last-use-stop", "3600");
    let node = Node::start(&config, "A", logs.path()).await;
    let admin_key = node.bootstrap_key().expect("a first start");
    let api = node.api(&admin_key);
    let key = api.key_for_new_user("stop-user", &["reader"]).await;
    api.check_from(&key.key, "198.51.100.9").await;
    let before = api.get(&key_path(&key.id)).send().await.ok().clone();
    assert!(
        node.server.stop().await.success(),
        "a graceful stop exits 0"
    );

    let node = Node::start(&config, "A2", logs.path()).await;
    let api = node.api(&admin_key);
    let after = api.get(&key_path(&key.id)).send().await.ok().clone();
    assert_eq!(after["lastUsedAt"], before["lastUsedAt"], "{after}");
    assert_eq!(after["lastUsedFrom"], "198.51.100.9");
    assert_eq!(verifications(&api.key_usage(&key.id).await), 1);
}
