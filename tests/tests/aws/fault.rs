//! DynamoDB goes away under a running node and comes back: management answers 503 and writes nothing,
//! verification of known keys goes on from memory while unknown keys fail closed, and the node recovers
//! by itself with projections equal to a rebuild from the events.
use crate::emulator::{Emulator, Kind};
use crate::env::{eventually, fresh_group, fresh_prefix, ready_within, Emulators};
use crate::node::{Node, NodeConfig};
use serde_json::json;
use std::time::{Duration, Instant};
use tests::keys::{created, key_body, key_path};
use tests::secrets::unknown_key;
use tests::Api;

/// "Within a few seconds": the store client gives up after 2 attempts with short timeouts.
const UNAVAILABLE_BOUND: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_outage_gives_503_writes_nothing_and_recovers() {
    let Some(_emulators) = Emulators::or_skip("fault") else {
        return;
    };
    let mut dynamo = Emulator::start(Kind::DynamoDb).await;
    let logs = tempfile::tempdir().expect("a logs dir");
    let config = NodeConfig::new(&fresh_prefix(), &fresh_group("fault"))
        .with_env("AWS_ENDPOINT_URL_DYNAMODB", &dynamo.endpoint());
    let node = Node::start(&config, "fault", logs.path()).await;
    let admin_key = node.bootstrap_key().expect("a fresh table set bootstraps");
    let api = node.api(&admin_key);

    let kept = api.key_for_new_user("fault-user", &["reader"]).await;
    let other = api.create_key_ok("second", "fault-user").await;
    let before = api.snapshot().await;

    dynamo.kill().await;
    let outage_started = Instant::now();
    management_calls(&api, &kept.id, &other.id).await;
    let ready = api.get("/readyz").anonymous().send().await;
    eprintln!(
        "fault: /readyz during the outage -> {} {}",
        ready.status, ready.text
    );
    ready.assert_status(503);
    assert_eq!(ready.body["storeReachable"], false, "{}", ready.text);
    verification_during_outage(&api, &kept.key).await;
    eprintln!("fault: outage lasted {:?}", outage_started.elapsed());

    dynamo.restart().await;
    let (recovered, took) = eventually(
        "a create after DynamoDB Local is back",
        Duration::from_secs(60),
        Duration::from_millis(250),
        || async {
            let reply = api
                .create_key(&key_body("after recovery", "fault-user", "d"))
                .await;
            match reply.status {
                200 => Ok(created(&reply)),
                503 => Err(reply.text),
                _ => panic!("{}: {} {}", reply.what, reply.status, reply.text),
            }
        },
    )
    .await;
    eprintln!("fault: first successful create {took:?} after the restart");
    api.assert_key_works(&recovered.key).await;
    ready_within(&api, Duration::from_secs(20)).await;
    api.assert_key_works(&kept.key).await;
    api.assert_key_works(&other.key).await;

    let mut after = api.snapshot().await;
    after
        .keys
        .retain(|item| item["apiKeyId"] != recovered.id.as_str());
    assert_eq!(
        after, before,
        "after recovery the views must hold the pre-outage state plus the one new key"
    );
    projections_verify(&config).await;
    drop(node);
}

/// Every management route once while DynamoDB is down: each a 503 JSON error within the bound.
async fn management_calls(api: &Api, kept: &str, other: &str) {
    let calls = [
        api.post("/auth/api-keys")
            .json(&key_body("during outage", "fault-user", "d")),
        api.put(&key_path(kept))
            .json(&json!({ "description": "changed during the outage" })),
        api.put(&key_path(kept)).json(&json!({ "isActive": false })),
        api.delete(&key_path(other)),
        api.post("/roles")
            .json(&json!({ "roleName": "outage-role", "description": "d" })),
        api.post("/user-roles")
            .json(&json!({ "userId": "outage-user", "roleName": ["reader"] })),
    ];
    for call in calls {
        let started = Instant::now();
        let reply = call.send().await;
        let took = started.elapsed();
        reply.assert_json_error(503);
        assert!(
            took < UNAVAILABLE_BOUND,
            "{}: the 503 took {took:?} (bound {UNAVAILABLE_BOUND:?})",
            reply.what
        );
        eprintln!("fault: {} -> 503 in {took:?}: {}", reply.what, reply.text);
    }
}

/// ADR 002: keys already in memory keep verifying with the state last seen; unknown keys fail closed.
async fn verification_during_outage(api: &Api, known: &str) {
    let reply = api.verify(known).await;
    eprintln!(
        "fault: verify of a known key during the outage -> {}",
        reply.text
    );
    assert_eq!(
        reply.ok()["code"],
        "VALID",
        "a key the node knows keeps verifying from memory"
    );
    api.secure_config_as(known).await.assert_status(200);

    let started = Instant::now();
    let reply = api.verify(&unknown_key()).await;
    eprintln!(
        "fault: verify of an unknown key during the outage -> {} in {:?}",
        reply.text,
        started.elapsed()
    );
    assert_eq!(
        reply.ok()["valid"],
        false,
        "an unknown key fails closed while the store is down"
    );
    api.secure_config_as(&unknown_key())
        .await
        .assert_status(401);
}

/// `apikeyd projections verify` exits 0 once the persisted views caught up (bounded).
async fn projections_verify(config: &NodeConfig) {
    let mut attempts = 0;
    let ((), took) = eventually(
        "apikeyd projections verify exits 0",
        Duration::from_secs(20),
        Duration::from_millis(500),
        || {
            attempts += 1;
            let config = config.clone();
            async move {
                let output = config.run(&["projections", "verify"]).await;
                if output.status.success() {
                    Ok(())
                } else {
                    Err(tests::binary::describe(&output))
                }
            }
        },
    )
    .await;
    eprintln!("fault: projections verify exited 0 at attempt {attempts}, after {took:?}");
}
