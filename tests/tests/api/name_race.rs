//! Parallel creates: one name, exactly one winner; distinct names, every one wins.
use futures::future::join_all;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use tests::keys::{created, key_body};
use tests::{spawn_app, Reply, TestApp};

const RACERS: usize = 60;

/// How many replies had each status, e.g. `{200: 1, 400: 59}`.
fn statuses(replies: &[Reply]) -> BTreeMap<u16, usize> {
    let mut counts = BTreeMap::new();
    for reply in replies {
        *counts.entry(reply.status).or_insert(0) += 1;
    }
    counts
}

/// Rounds of the race: one round lets a missing guard slip through only sometimes.
const ROUNDS: usize = 5;

/// Opens `RACERS` pooled connections first, so that the racing creates reach the server together
/// instead of trickling in behind connection set-up.
async fn warm_up(app: &TestApp) {
    let calls = (0..RACERS).map(|_| app.get("/api/version").anonymous().send());
    for reply in join_all(calls).await {
        reply.ok();
    }
}

#[tokio::test]
async fn parallel_creates_of_one_name_yield_exactly_one_key() {
    let app = spawn_app().await;
    app.key_for_new_user("bot", &["viewer"]).await;
    for round in 0..ROUNDS {
        warm_up(&app).await;
        let name = format!("contested {round}");
        let bodies: Vec<_> = (0..RACERS)
            .map(|i| key_body(&name, "bot", &format!("attempt {i}")))
            .collect();
        let replies = join_all(bodies.iter().map(|body| app.create_key(body))).await;
        let counts = statuses(&replies);
        assert_eq!(
            counts.keys().copied().collect::<Vec<_>>(),
            vec![200, 400],
            "round {round}: statuses {counts:?}, e.g. {:?}",
            replies
                .iter()
                .find(|r| r.status != 200 && r.status != 400)
                .map(|r| &r.text)
        );
        let (won, lost): (Vec<_>, Vec<_>) = replies.into_iter().partition(|r| r.status == 200);
        let won_ids: Vec<_> = won
            .iter()
            .take(3)
            .map(|r| r.body["apiKeyId"].clone())
            .collect();
        assert_eq!(
            won.len(),
            1,
            "round {round}: {} winners, e.g. {won_ids:?}",
            won.len()
        );
        for reply in &lost {
            reply.assert_error(
                400,
                &format!("An API key with the name '{name}' already exists. Please choose a different name."),
            );
        }
        let winner = created(&won[0]);
        let named: Vec<_> = app
            .list_keys()
            .await
            .into_iter()
            .filter(|k| k["apiKeyName"] == json!(name))
            .collect();
        assert_eq!(named.len(), 1, "round {round}: {named:?}");
        assert_eq!(named[0]["apiKeyId"], winner.item["apiKeyId"]);
        app.assert_key_works(&winner.key).await;
    }
}

#[tokio::test]
async fn parallel_creates_of_distinct_names_all_succeed() {
    let app = spawn_app().await;
    app.key_for_new_user("bot", &["viewer"]).await;
    warm_up(&app).await;
    let bodies: Vec<_> = (0..RACERS)
        .map(|i| key_body(&format!("parallel {i}"), "bot", "d"))
        .collect();
    let replies = join_all(bodies.iter().map(|body| app.create_key(body))).await;
    let counts = statuses(&replies);
    assert_eq!(
        counts,
        BTreeMap::from([(200, RACERS)]),
        "e.g. {:?}",
        replies.iter().find(|r| r.status != 200).map(|r| &r.text)
    );
    let keys: Vec<_> = replies.iter().map(created).collect();
    let ids: BTreeSet<_> = keys.iter().map(|k| k.id.clone()).collect();
    let secrets: BTreeSet<_> = keys.iter().map(|k| k.key.clone()).collect();
    assert_eq!((ids.len(), secrets.len()), (RACERS, RACERS));
    let listed: BTreeSet<String> = app
        .list_keys()
        .await
        .iter()
        .filter_map(|k| k["apiKeyId"].as_str().map(str::to_owned))
        .collect();
    assert!(
        ids.is_subset(&listed),
        "a created key is missing from the list"
    );
    let codes = join_all(keys.iter().map(|k| app.verify_code(&k.key))).await;
    assert!(codes.iter().all(|c| c == "VALID"), "{codes:?}");
}
