//! DynamoDB hangs (SIGSTOP: connections open, nothing answers) under a running node: the probes still
//! answer promptly — `/readyz` a 503 naming the reason, `/metrics` with the store down — known keys go
//! on verifying from memory, and once the store answers again the node is ready without a restart.
use crate::emulator::{Emulator, Kind};
use crate::env::{fresh_group, fresh_prefix, ready_within, Emulators};
use crate::node::{Node, NodeConfig};
use std::time::{Duration, Instant};

/// A probe must answer while the store hangs. Orchestrators give probes about a second; the bound
/// here is wider so a loaded machine cannot fail it, and still far below "no answer" (the SDK's own
/// operation timeout is 8 s, and before this bound existed the probe hung for as long as the store).
const PROBE_BOUND: Duration = Duration::from_secs(4);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_answer_while_dynamodb_hangs() {
    let Some(_emulators) = Emulators::or_skip("paused") else {
        return;
    };
    let dynamo = Emulator::start(Kind::DynamoDb).await;
    let logs = tempfile::tempdir().expect("a logs dir");
    let config = NodeConfig::new(&fresh_prefix(), &fresh_group("paused"))
        .with_env("AWS_ENDPOINT_URL_DYNAMODB", &dynamo.endpoint());
    let node = Node::start(&config, "paused", logs.path()).await;
    let admin_key = node.bootstrap_key().expect("a fresh table set bootstraps");
    let api = node.api(&admin_key);
    let kept = api.key_for_new_user("paused-user", &["reader"]).await;
    ready_within(&api, Duration::from_secs(30)).await;

    dynamo.pause();
    for round in 0..3 {
        let started = Instant::now();
        let ready = api.get("/readyz").anonymous().send().await;
        let took = started.elapsed();
        eprintln!(
            "paused: /readyz #{round} -> {} in {took:?}: {}",
            ready.status, ready.text
        );
        ready.assert_status(503);
        assert_eq!(ready.body["storeReachable"], false, "{}", ready.text);
        let reason = ready.body["reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains("did not answer"),
            "a reason is given: {}",
            ready.text
        );
        assert!(
            took < PROBE_BOUND,
            "/readyz took {took:?} while the store hangs"
        );
    }
    let started = Instant::now();
    let metrics = api.get("/metrics").anonymous().send().await;
    metrics.assert_status(200);
    assert!(
        started.elapsed() < PROBE_BOUND,
        "/metrics took {:?}",
        started.elapsed()
    );
    assert!(
        metrics.text.contains("apikeyd_store_up 0"),
        "the scrape reports the store down"
    );
    api.assert_key_works(&kept.key).await;

    dynamo.resume();
    ready_within(&api, Duration::from_secs(60)).await;
    api.assert_key_works(&kept.key).await;
    drop(node);
}
