//! The shared rate count goes away under a running node: a rate-limited key is admitted while this
//! node's lease lasts, then answered 503 (never admitted unseen, never refused as over its limit);
//! keys without a limit verify from memory throughout; once DynamoDB is back the key works again.
use crate::emulator::{Emulator, Kind};
use crate::env::{eventually, fresh_group, fresh_prefix, Emulators};
use crate::node::{Node, NodeConfig};
use serde_json::json;
use std::time::Duration;
use tests::keys::{created, key_body};
use tests::rate_window::with_room;

/// A lease is max(1, 100 / 20) = 5 admissions: the first verify reserves it.
const LIMIT: u64 = 100;
const LEASE: usize = 5;
const PERIOD: u64 = 3_600;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_shared_count_gives_503_once_the_lease_is_spent() {
    let Some(_emulators) = Emulators::or_skip("rate_limit_outage") else {
        return;
    };
    let mut dynamo = Emulator::start(Kind::DynamoDb).await;
    let logs = tempfile::tempdir().expect("a logs dir");
    let config = NodeConfig::new(&fresh_prefix(), &fresh_group("rate-limit-outage"))
        .with_env("AWS_ENDPOINT_URL_DYNAMODB", &dynamo.endpoint());
    let node = Node::start(&config, "rate-limit-outage", logs.path()).await;
    let admin_key = node.bootstrap_key().expect("a fresh table set bootstraps");
    let api = node.api(&admin_key);
    let plain = api.key_for_new_user("outage-user", &["reader"]).await;
    let mut body = key_body("limited", "outage-user", "leases from the shared count");
    body["rateLimit"] = json!({ "limit": LIMIT, "periodSeconds": PERIOD });
    let limited = created(&api.create_key(&body).await);
    with_room(PERIOD, Duration::from_secs(120)).await;
    assert_eq!(
        api.verify_code(&limited.key).await,
        "VALID",
        "reserves a lease"
    );

    dynamo.kill().await;
    for n in 1..LEASE {
        assert_eq!(
            api.verify_code(&limited.key).await,
            "VALID",
            "admission {n} comes from the lease already counted"
        );
    }
    let spent = api.verify(&limited.key).await;
    assert_eq!(spent.status, 503, "lease spent, store away: {}", spent.text);
    assert!(!spent.text.contains(&limited.key), "{}", spent.text);
    api.check(&limited.key).await.assert_status(503);
    assert_eq!(
        api.verify_code(&plain.key).await,
        "VALID",
        "a key without a limit never asks the store"
    );

    dynamo.restart().await;
    eventually(
        "the limited key verifies once DynamoDB is back",
        Duration::from_secs(60),
        Duration::from_millis(250),
        || async {
            let reply = api.verify(&limited.key).await;
            match (reply.status, reply.body["code"].as_str()) {
                (200, Some("VALID")) => Ok(()),
                (503, _) => Err(reply.text),
                _ => panic!("{}: {} {}", reply.what, reply.status, reply.text),
            }
        },
    )
    .await;
    drop(node);
}
