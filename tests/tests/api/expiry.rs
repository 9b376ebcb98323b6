//! A key with an expiry works until that instant and is refused from then on (bounded waits).
use chrono::{DateTime, Duration, FixedOffset, SecondsFormat, SubsecRound, Utc};
use serde_json::json;
use tests::keys::{created, key_body};
use tests::{spawn_app, TestApp};

/// How long after the expiry instant the server may take to notice (polling and scheduling slack).
const SLACK: Duration = Duration::seconds(10);

fn in_seconds(seconds: i64) -> (DateTime<Utc>, String) {
    let at = Utc::now() + Duration::seconds(seconds);
    (at, at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// Polls `/auth/verify` until the key reports `EXPIRED`; before `expires_at` it must stay `VALID`.
async fn wait_until_expired(app: &TestApp, key: &str, expires_at: DateTime<Utc>) {
    loop {
        let code = app.verify_code(key).await;
        let answered_at = Utc::now();
        if code == "EXPIRED" {
            assert!(
                answered_at >= expires_at,
                "EXPIRED at {answered_at}, before the expiry {expires_at}"
            );
            return;
        }
        assert_eq!(code, "VALID", "before expiring the key must work");
        assert!(
            answered_at < expires_at + SLACK,
            "still VALID at {answered_at}, expiry was {expires_at}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_key_created_to_expire_in_seconds_works_then_stops() {
    let app = spawn_app().await;
    app.key_for_new_user("bot", &["viewer"]).await;
    let (expires_at, wire) = in_seconds(4);
    let mut body = key_body("short-lived", "bot", "expires soon");
    body["expiresAt"] = json!(wire);
    let key = created(&app.create_key(&body).await);
    let echoed = key.item["expiresAt"].as_str().expect("expiresAt");
    let echoed = DateTime::parse_from_rfc3339(echoed).expect("expiresAt is ISO 8601");
    assert!(
        (echoed.with_timezone(&Utc) - expires_at)
            .num_milliseconds()
            .abs()
            < 1000
    );

    app.assert_key_works(&key.key).await;
    wait_until_expired(&app, &key.key, expires_at).await;
    app.assert_key_refused(&key.key, "EXPIRED").await;
    let listed = app
        .listed_key(&key.id)
        .await
        .expect("an expired key stays listed");
    assert_eq!(listed["isActive"], "true", "expiry is not deactivation");

    // Clearing the expiry brings it back.
    app.update_key(&key.id, &json!({ "expiresAt": "" }))
        .await
        .ok();
    app.assert_key_works(&key.key).await;
}

#[tokio::test]
async fn an_expiry_set_by_update_also_stops_the_key() {
    let app = spawn_app().await;
    let key = app.key_for_new_user("bot", &["viewer"]).await;
    let (expires_at, wire) = in_seconds(4);
    app.update_key(&key.id, &json!({ "expiresAt": wire }))
        .await
        .ok();
    app.assert_key_works(&key.key).await;
    wait_until_expired(&app, &key.key, expires_at).await;
    app.assert_key_refused(&key.key, "EXPIRED").await;
}

/// The same instant written with an offset or without a zone must expire at that instant: a server
/// that ignored the offset would be hours off, one that never expired naive times (as VAMS) never stops.
#[tokio::test]
async fn expiries_written_with_offsets_or_without_a_zone_are_enforced() {
    let app = spawn_app().await;
    app.key_for_new_user("bot", &["viewer"]).await;
    let at = (Utc::now() + Duration::seconds(5)).trunc_subsecs(0);
    let east = FixedOffset::east_opt(5 * 3600).unwrap();
    let west = FixedOffset::west_opt(3 * 3600 + 1800).unwrap();
    let formats = [
        ("offset +05:00", at.with_timezone(&east).to_rfc3339()),
        ("offset -03:30", at.with_timezone(&west).to_rfc3339()),
        ("naive UTC", at.format("%Y-%m-%dT%H:%M:%S").to_string()),
    ];
    let mut keys = Vec::new();
    for (why, wire) in formats {
        let mut body = key_body(why, "bot", &wire);
        body["expiresAt"] = json!(wire);
        let key = created(&app.create_key(&body).await);
        let expected = at.to_rfc3339_opts(SecondsFormat::Secs, false);
        assert_eq!(key.item["expiresAt"], json!(expected), "{why}: {wire}");
        keys.push(key);
    }
    for key in &keys {
        app.assert_key_works(&key.key).await;
    }
    for key in &keys {
        wait_until_expired(&app, &key.key, at).await;
        app.assert_key_refused(&key.key, "EXPIRED").await;
    }
}
