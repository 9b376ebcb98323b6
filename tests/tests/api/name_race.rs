//! Parallel creates: one name, exactly one winner; distinct names, every one wins.
use futures::future::join_all;
use std::collections::BTreeSet;
use tests::keys::{created, key_body};
use tests::spawn_app;

const RACERS: usize = 60;

#[tokio::test]
async fn parallel_creates_of_one_name_yield_exactly_one_key() {
    let app = spawn_app().await;
    app.key_for_new_user("bot", &["viewer"]).await;
    let bodies: Vec<_> = (0..RACERS)
        .map(|i| key_body("contested", "bot", &format!("attempt {i}")))
        .collect();
    let replies = join_all(bodies.iter().map(|body| app.create_key(body))).await;
    let (won, lost): (Vec<_>, Vec<_>) = replies.into_iter().partition(|r| r.status == 200);
    assert_eq!(
        won.len(),
        1,
        "winners: {:?}",
        won.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for reply in &lost {
        reply.assert_error(
            400,
            "An API key with the name 'contested' already exists. Please choose a different name.",
        );
    }
    let winner = created(&won[0]);
    let named: Vec<_> = app
        .list_keys()
        .await
        .into_iter()
        .filter(|k| k["apiKeyName"] == "contested")
        .collect();
    assert_eq!(named.len(), 1, "{named:?}");
    assert_eq!(named[0]["apiKeyId"], winner.item["apiKeyId"]);
    app.assert_key_works(&winner.key).await;
}

#[tokio::test]
async fn parallel_creates_of_distinct_names_all_succeed() {
    let app = spawn_app().await;
    app.key_for_new_user("bot", &["viewer"]).await;
    let bodies: Vec<_> = (0..RACERS)
        .map(|i| key_body(&format!("parallel {i}"), "bot", "d"))
        .collect();
    let replies = join_all(bodies.iter().map(|body| app.create_key(body))).await;
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
