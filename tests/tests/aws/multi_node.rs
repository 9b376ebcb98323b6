//! Two `apikeyd serve` processes on one table set: one bootstrap, keys usable across nodes at once,
//! revocation through A refused by B within a second, and one winner of a name race split across them.
use crate::env::{eventually, fresh_group, fresh_prefix, Emulators};
use crate::node::{start_pair, NodeConfig};
use futures::future::join_all;
use std::time::Duration;
use tests::keys::{created, key_body};
use tests::Api;

/// The bound ADR 002 promises for a revocation to reach every node.
const PROPAGATION_BOUND: Duration = Duration::from_secs(1);

/// How often the other node is asked while waiting for a revocation.
const POLL: Duration = Duration::from_millis(50);

/// Creates per node in each round of the split name race.
const RACERS_PER_NODE: usize = 25;

/// Rounds of the race: a missing guard slips through only sometimes.
const ROUNDS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_keys_revocations_and_names() {
    let Some(_emulators) = Emulators::or_skip("multi_node") else {
        return;
    };
    let logs = tempfile::tempdir().expect("a logs dir");
    let config = NodeConfig::new(&fresh_prefix(), &fresh_group("multi-node"));
    let (node_a, node_b, admin_key) = start_pair(&config, logs.path()).await;
    let (a, b) = (node_a.api(&admin_key), node_b.api(&admin_key));
    a.assert_key_works(&admin_key).await;
    b.assert_key_works(&admin_key).await;

    let key = a.key_for_new_user("multi-user", &["reader"]).await;
    // Immediately: B has not polled the feed yet, so this goes through its lookup fallback.
    b.secure_config_as(&key.key).await.assert_status(200);
    assert_eq!(b.verify_code(&key.key).await, "VALID");
    b.check(&key.key).await.assert_status(200);

    a.set_active(&key.id, false).await;
    let took = refused_on(&b, &key.key, "DISABLED", "deactivation through A").await;
    eprintln!("multi_node: deactivate on A -> refused on B after {took:?}");
    b.assert_key_refused(&key.key, "DISABLED").await;

    let doomed = a.create_key_ok("doomed", "multi-user").await;
    b.assert_key_works(&doomed.key).await;
    a.delete_key(&doomed.id).await.ok();
    let took = refused_on(&b, &doomed.key, "NOT_FOUND", "deletion through A").await;
    eprintln!("multi_node: delete on A -> refused on B after {took:?}");
    b.assert_key_refused(&doomed.key, "NOT_FOUND").await;

    for round in 0..ROUNDS {
        name_race(&a, &b, &format!("split race {round}")).await;
    }
    drop((node_a, node_b));
}

/// Polls `api` until `key` verifies as `code`; asserts it happened within [`PROPAGATION_BOUND`] of
/// the call (the commit had already answered) and returns how long it took.
pub(crate) async fn refused_on(api: &Api, key: &str, code: &str, what: &str) -> Duration {
    let (_, took) = eventually(what, Duration::from_secs(10), POLL, || async {
        let seen = api.verify_code(key).await;
        if seen == code {
            Ok(())
        } else {
            Err(format!("verify on the other node answers {seen}"))
        }
    })
    .await;
    assert!(
        took < PROPAGATION_BOUND,
        "{what}: the other node refused the key only after {took:?} (bound {PROPAGATION_BOUND:?})"
    );
    took
}

/// `RACERS_PER_NODE` creates of one name to each node at once: one 200, the rest the duplicate-name
/// 400, and both listings show exactly the winner.
async fn name_race(a: &Api, b: &Api, name: &str) {
    let bodies: Vec<_> = (0..2 * RACERS_PER_NODE)
        .map(|i| key_body(name, "multi-user", &format!("attempt {i}")))
        .collect();
    let replies = join_all(bodies.iter().enumerate().map(|(i, body)| {
        let node = if i % 2 == 0 { a } else { b };
        node.create_key(body)
    }))
    .await;
    let (won, lost): (Vec<_>, Vec<_>) = replies.iter().partition(|r| r.status == 200);
    assert_eq!(
        won.len(),
        1,
        "{name}: {} creates won across two nodes: {:?}",
        won.len(),
        won.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    let expected = format!(
        "An API key with the name '{name}' already exists. Please choose a different name."
    );
    for reply in &lost {
        reply.assert_error(400, &expected);
    }
    let winner = created(won[0]).id;
    for (label, api) in [("A", a), ("B", b)] {
        let (listed, _) = eventually(
            &format!("{name}: the winner listed on {label}"),
            Duration::from_secs(10),
            Duration::from_millis(100),
            || async {
                let listed: Vec<String> = api
                    .list_keys()
                    .await
                    .into_iter()
                    .filter(|item| item["apiKeyName"] == name)
                    .map(|item| item["apiKeyId"].as_str().unwrap_or_default().to_owned())
                    .collect();
                if listed.is_empty() {
                    Err("not listed yet".to_owned())
                } else {
                    Ok(listed)
                }
            },
        )
        .await;
        assert_eq!(
            listed,
            vec![winner.clone()],
            "{name}: node {label} lists these keys of that name"
        );
    }
}
