//! Latencies against DynamoDB Local, printed (not asserted): create, cold verify (a key created on A,
//! first verified on B through the lookup fallback), cached verify, and how long a deactivation on A
//! takes to be refused on B. Run with `--nocapture` to see the `MEASURE` lines.
use crate::env::{eventually, fresh_group, fresh_prefix, Emulators};
use crate::node::{start_pair, NodeConfig};
use crate::stats::Summary;
use std::future::Future;
use std::time::{Duration, Instant};
use tests::keys::{created, key_body};
use tests::Api;

/// Keys created (each verified cold once).
const CREATES: usize = 100;
/// Repeated verifications of known keys.
const CACHED: usize = 200;
/// Deactivations whose propagation is timed.
const PROPAGATIONS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latencies_against_dynamodb_local() {
    let Some(_emulators) = Emulators::or_skip("measurements") else {
        return;
    };
    let logs = tempfile::tempdir().expect("a logs dir");
    let config = NodeConfig::new(&fresh_prefix(), &fresh_group("measure"));
    let (node_a, node_b, admin_key) = start_pair(&config, logs.path()).await;
    let (a, b) = (node_a.api(&admin_key), node_b.api(&admin_key));
    a.key_for_new_user("measured", &["reader"]).await;

    let mut creates = Vec::new();
    let mut cold = Vec::new();
    let mut keys = Vec::new();
    for i in 0..CREATES {
        let (reply, took) =
            timed(a.create_key(&key_body(&format!("measured {i}"), "measured", "d"))).await;
        creates.push(took);
        let key = created(&reply).key;
        // Right after the commit: B's next feed poll is up to 200 ms away, so B looks the key up.
        let (code, took) = timed(b.verify_code(&key)).await;
        assert_eq!(code, "VALID", "cold verify on B");
        cold.push(took);
        keys.push(key);
    }
    Summary::of(&creates).print("create latency (POST /auth/api-keys on A)");
    Summary::of(&cold).print("cold verify latency (first POST /auth/verify on B)");

    let mut cached = Vec::new();
    for i in 0..CACHED {
        let (code, took) = timed(b.verify_code(&keys[i % keys.len()])).await;
        assert_eq!(code, "VALID", "cached verify on B");
        cached.push(took);
    }
    Summary::of(&cached).print("cached verify latency (repeated POST /auth/verify on B)");

    let mut propagation = Vec::new();
    for i in 0..PROPAGATIONS {
        propagation.push(deactivation_reaches(&a, &b, &format!("propagated {i}")).await);
    }
    Summary::of(&propagation).print("deactivate on A -> refused on B (polled every 10 ms)");
    drop((node_a, node_b));
}

/// Runs `call` and measures it.
async fn timed<T>(call: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let value = call.await;
    (value, started.elapsed())
}

/// A key known to B, deactivated through A: the time from A's answer until B refuses it.
async fn deactivation_reaches(a: &Api, b: &Api, name: &str) -> Duration {
    let key = a.create_key_ok(name, "measured").await;
    assert_eq!(b.verify_code(&key.key).await, "VALID");
    a.set_active(&key.id, false).await;
    let ((), took) = eventually(
        "deactivation through A refused on B",
        Duration::from_secs(10),
        Duration::from_millis(10),
        || async {
            match b.verify_code(&key.key).await.as_str() {
                "DISABLED" => Ok(()),
                code => Err(code.to_owned()),
            }
        },
    )
    .await;
    took
}
