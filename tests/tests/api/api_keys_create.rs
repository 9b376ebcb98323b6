//! `POST /auth/api-keys`: the answer, the key material, name uniqueness, expiry formats, names.
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tests::keys::{created, expected_key_fields, field_names, key_body};
use tests::secrets::{is_well_formed_key, sha256_hex};
use tests::{spawn_app, Expect, TestApp};

/// An app with `bot` holding `viewer`, and `lonely` holding nothing.
async fn app_with_bot() -> TestApp {
    let app = spawn_app().await;
    app.ensure_role("viewer").await;
    app.assign_roles("bot", &["viewer"]).await.ok();
    app
}

#[track_caller]
fn assert_recent_utc(item: &Value, field: &str) {
    let raw = item[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is not a string in {item}"));
    assert!(
        raw.ends_with("+00:00"),
        "{field} {raw:?} is not ISO with +00:00"
    );
    let at = DateTime::parse_from_rfc3339(raw)
        .unwrap_or_else(|e| panic!("{field} {raw:?} is not ISO 8601: {e}"));
    let age = Utc::now().signed_duration_since(at);
    assert!(
        age.num_seconds().abs() < 120,
        "{field} {raw:?} is not about now"
    );
}

#[tokio::test]
async fn create_answers_200_with_the_item_and_a_key_shown_once() {
    let app = app_with_bot().await;
    let reply = app.create_key(&key_body("ci key", "bot", "deploys")).await;
    reply.assert_status(200);
    let new = created(&reply);
    let item = &new.item;
    assert_eq!(
        field_names(item),
        expected_key_fields(&["apiKey"]),
        "{item}"
    );
    assert_eq!(item["apiKeyName"], "ci key");
    assert_eq!(item["userId"], "bot");
    assert_eq!(item["description"], "deploys");
    assert_eq!(item["createdBy"], "admin");
    assert_eq!(item["isActive"], "true", "isActive is the string \"true\"");
    assert_eq!(item["expiresAt"], "", "no expiry is the empty string");
    let id = uuid::Uuid::parse_str(&new.id).expect("apiKeyId is a UUID");
    assert_eq!(id.get_version_num(), 4, "apiKeyId is a UUID v4");
    assert_recent_utc(item, "createdAt");
    assert_recent_utc(item, "updatedAt");
    assert!(is_well_formed_key(&new.key), "apiKey {:?}", new.key);
    assert!(!reply.text.contains(&sha256_hex(&new.key)), "hash leaked");

    let mut stored = item.clone();
    stored.as_object_mut().unwrap().remove("apiKey");
    let got = app.get_key(&new.id).await;
    assert_eq!(
        got.ok(),
        &stored,
        "GET shows the created item without the key"
    );
    let listed = app.get("/auth/api-keys").send().await;
    assert!(listed.ok()["Items"].as_array().unwrap().contains(&stored));
    for text in [&got.text, &listed.text] {
        assert!(!text.contains(&new.key), "plaintext shown again");
        assert!(!text.contains(&sha256_hex(&new.key)), "hash shown");
    }
}

#[tokio::test]
async fn every_create_issues_a_distinct_key_and_id() {
    let app = app_with_bot().await;
    let mut keys = Vec::new();
    let mut ids = Vec::new();
    for i in 0..5 {
        let new = app.create_key_ok(&format!("key {i}"), "bot").await;
        keys.push(new.key);
        ids.push(new.id);
    }
    keys.sort();
    keys.dedup();
    ids.sort();
    ids.dedup();
    assert_eq!((keys.len(), ids.len()), (5, 5));
}

#[tokio::test]
async fn created_by_is_the_calling_admin() {
    let app = app_with_bot().await;
    let ops = app.key_for_new_user("ops-admin", &["admin"]).await;
    let reply = app
        .post("/auth/api-keys")
        .key(&ops.key)
        .json(&key_body("made by ops", "bot", "d"))
        .send()
        .await;
    assert_eq!(created(&reply).item["createdBy"], "ops-admin");
}

#[tokio::test]
async fn expiry_formats_are_accepted_and_normalized_to_utc() {
    let app = app_with_bot().await;
    let cases = [
        (
            "2030-01-31T12:00:00Z",
            "2030-01-31T12:00:00+00:00",
            "RFC 3339 with Z",
        ),
        (
            "2030-01-31T12:00:00+02:00",
            "2030-01-31T10:00:00+00:00",
            "positive offset",
        ),
        (
            "2030-01-31T12:00:00-01:30",
            "2030-01-31T13:30:00+00:00",
            "negative offset",
        ),
        (
            "2030-01-31T12:00:00",
            "2030-01-31T12:00:00+00:00",
            "naive means UTC",
        ),
        (
            "2030-01-31",
            "2030-01-31T23:59:59+00:00",
            "date means end of day",
        ),
        (
            "2030/01/31",
            "2030-01-31T23:59:59+00:00",
            "web console date",
        ),
        ("", "", "empty means no expiry"),
    ];
    for (i, (input, expected, why)) in cases.into_iter().enumerate() {
        let mut body = key_body(&format!("expiry {i}"), "bot", why);
        body["expiresAt"] = json!(input);
        let reply = app.create_key(&body).await;
        assert_eq!(reply.status, 200, "{why}: {}", reply.text);
        let new = created(&reply);
        assert_eq!(new.item["expiresAt"], expected, "{why}: create answer");
        let listed = app.listed_key(&new.id).await.expect("listed");
        assert_eq!(listed["expiresAt"], expected, "{why}: listing");
    }
}

#[tokio::test]
async fn names_are_trimmed_and_may_hold_any_printable_text() {
    let app = app_with_bot().await;
    let accented = "é".repeat(256);
    let cases = [
        (
            "  padded name  ",
            "padded name",
            "surrounding spaces are trimmed",
        ),
        (
            "bad/name!",
            "bad/name!",
            "punctuation is fine (VAMS accepts it)",
        ),
        (
            accented.as_str(),
            accented.as_str(),
            "256 characters, 512 bytes",
        ),
        ("名前 🔑", "名前 🔑", "non-Latin text"),
    ];
    for (input, stored, why) in cases {
        let reply = app.create_key(&key_body(input, "bot", "d")).await;
        assert_eq!(reply.status, 200, "{why}: {}", reply.text);
        let new = created(&reply);
        assert_eq!(new.item["apiKeyName"], stored, "{why}");
        let listed = app.listed_key(&new.id).await.expect("listed");
        assert_eq!(listed["apiKeyName"], stored, "{why}: listing");
    }
}

#[tokio::test]
async fn names_are_unique_exactly_among_live_keys() {
    let app = app_with_bot().await;
    let taken = |name: &str| {
        Expect::exact(format!(
            "An API key with the name '{name}' already exists. Please choose a different name."
        ))
    };
    let first = app.create_key_ok("Deploy", "bot").await;
    app.create_key_ok("deploy", "bot").await; // other case: another name
    let again = app.create_key(&key_body("Deploy", "bot", "d")).await;
    taken("Deploy").check(&again, 400, "same name while live");
    let padded = app.create_key(&key_body("  Deploy ", "bot", "d")).await;
    taken("Deploy").check(&padded, 400, "same name after trimming");

    let paused = app.create_key_ok("Paused", "bot").await;
    app.set_active(&paused.id, false).await;
    let reply = app.create_key(&key_body("Paused", "bot", "d")).await;
    taken("Paused").check(&reply, 400, "an inactive key still holds its name");

    app.delete_key(&first.id).await.ok();
    let reused = app.create_key_ok("Deploy", "bot").await;
    assert_ne!(reused.id, first.id, "a new key, not the deleted one");
    let named: Vec<_> = app
        .list_keys()
        .await
        .into_iter()
        .filter(|k| k["apiKeyName"] == "Deploy")
        .collect();
    assert_eq!(named.len(), 1, "{named:?}");
}
