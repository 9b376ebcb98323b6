//! Leak reports: `POST /auth/exposures` needs no key, deactivates every live key it names (current
//! secret or one in grace) and answers the same whatever matched; admins see the report and may
//! reactivate; bad reports are refused; reports are rate-limited per client.
use serde_json::json;
use tests::secrets::unknown_key;
use tests::{spawn_app, spawn_app_with, Expect};

const SOURCE: &str = "https://github.com/example/repo/blob/main/.env";

#[tokio::test]
async fn a_reported_key_is_deactivated_and_admins_see_the_report() {
    let app = spawn_app().await;
    let key = app.key_for_new_user("bot", &["viewer"]).await;
    let other = app.create_key_ok("untouched", "bot").await;
    let reply = app.report_exposure(&[&key.key], SOURCE).await;
    reply.assert_status(202);
    assert!(reply.message().is_some_and(|m| !m.is_empty()));
    let item = app.wait_until_deactivated(&key.id).await;
    assert_eq!(item["exposureSource"], SOURCE);
    assert!(
        item["exposedAt"].as_str().is_some_and(|t| !t.is_empty()),
        "{item}"
    );
    app.assert_key_refused(&key.key, "DISABLED").await;
    app.assert_key_works(&other.key).await;
    let listed = app.listed_key(&key.id).await.expect("still listed");
    assert_eq!(listed["exposureSource"], SOURCE);

    // Deliberately back: a normal update.
    app.set_active(&key.id, true).await;
    app.assert_key_works(&key.key).await;
    let trail = app
        .get(&format!("/auth/api-keys/{}/audit", key.id))
        .send()
        .await;
    let record = trail.ok()["Items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["action"] == "apiKeyExposed"))
        .cloned()
        .expect("an apiKeyExposed record");
    assert_eq!(record["actor"], "anonymous");
    assert_eq!(record["changes"]["source"], SOURCE);
    assert!(record["changes"]["reporterIp"]
        .as_str()
        .is_some_and(|ip| !ip.is_empty()));
    assert!(!trail.text.contains(tests::secrets::secret_part(&key.key)));
}

#[tokio::test]
async fn a_secret_in_grace_is_reported_too_and_stops_both() {
    let app = spawn_app().await;
    let old = app.key_for_new_user("bot", &["viewer"]).await;
    let new = app.rotate_key(&old.id, 3600).await;
    app.report_exposure(&[&old.key], SOURCE)
        .await
        .assert_status(202);
    app.wait_until_deactivated(&old.id).await;
    app.assert_key_refused(&old.key, "NOT_FOUND").await;
    app.assert_key_refused(&new.key, "DISABLED").await;
}

#[tokio::test]
async fn the_answer_is_the_same_whether_or_not_anything_matched() {
    let app = spawn_app().await;
    let key = app.key_for_new_user("bot", &["viewer"]).await;
    let unknown = unknown_key();
    let miss = app.report_exposure(&[&unknown, "not a key"], SOURCE).await;
    let hit = app.report_exposure(&[&unknown, &key.key], SOURCE).await;
    assert_eq!((miss.status, &miss.text), (hit.status, &hit.text));
    assert_eq!(hit.status, 202);
    for reply in [&miss, &hit] {
        assert!(!reply.text.contains(tests::secrets::secret_part(&key.key)));
    }
    app.wait_until_deactivated(&key.id).await;
}

#[tokio::test]
async fn bad_reports_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let key = app.key_for_new_user("bot", &["viewer"]).await;
    let keys = Expect::exact("keys must be an array of 1 to 1000 strings");
    let source = Expect::exact("source is required and must not be blank");
    let long = Expect::exact("source must be at most 1024 characters");
    let many = vec!["vams_x"; 1001];
    let cases = [
        (json!({ "source": SOURCE }), &keys, "no keys"),
        (json!({ "keys": [], "source": SOURCE }), &keys, "empty"),
        (
            json!({ "keys": key.key, "source": SOURCE }),
            &keys,
            "not an array",
        ),
        (
            json!({ "keys": [1], "source": SOURCE }),
            &keys,
            "not strings",
        ),
        (
            json!({ "keys": many, "source": SOURCE }),
            &keys,
            "1001 keys",
        ),
        (json!({ "keys": [key.key] }), &source, "no source"),
        (
            json!({ "keys": [key.key], "source": " " }),
            &source,
            "blank source",
        ),
        (
            json!({ "keys": [key.key], "source": "s".repeat(1025) }),
            &long,
            "long source",
        ),
    ];
    for (body, expect, why) in cases {
        let reply = app
            .post("/auth/exposures")
            .anonymous()
            .json(&body)
            .send()
            .await;
        expect.check(&reply, 400, why);
        assert!(
            !reply.text.contains(tests::secrets::secret_part(&key.key)),
            "{why}"
        );
    }
    let keyed_source = json!({ "keys": [unknown_key()], "source": key.key });
    let reply = app
        .post("/auth/exposures")
        .anonymous()
        .json(&keyed_source)
        .send()
        .await;
    reply.assert_json_error(400);
    let unknown_field = json!({ "keys": [key.key], "source": SOURCE, "x": 1 });
    let reply = app
        .post("/auth/exposures")
        .anonymous()
        .json(&unknown_field)
        .send()
        .await;
    reply.assert_json_error(400);
    app.assert_key_works(&key.key).await;
    let thousand: Vec<String> = (0..1000).map(|_| unknown_key()).collect();
    let thousand: Vec<&str> = thousand.iter().map(String::as_str).collect();
    app.report_exposure(&thousand, SOURCE)
        .await
        .assert_status(202);
}

#[tokio::test]
async fn reports_are_rate_limited_per_client() {
    let app = spawn_app_with(|s| s.exposure_report_limit = 2).await;
    for _ in 0..2 {
        app.report_exposure(&[&unknown_key()], SOURCE)
            .await
            .assert_status(202);
    }
    let limited = app.report_exposure(&[&unknown_key()], SOURCE).await;
    limited.assert_json_error(429);
    assert!(limited.header("retry-after").is_some());
}
