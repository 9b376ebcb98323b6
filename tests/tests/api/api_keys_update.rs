//! `PUT /auth/api-keys/{id}`: description, expiry, active flag; nothing else ever changes.
use chrono::DateTime;
use serde_json::{json, Value};
use tests::keys::{expected_key_fields, field_names};
use tests::{spawn_app, CreatedKey, Expect, TestApp};

async fn app_with_key() -> (TestApp, CreatedKey) {
    let app = spawn_app().await;
    let key = app.key_for_new_user("bot", &["viewer"]).await;
    (app, key)
}

fn time(item: &Value, field: &str) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(item[field].as_str().expect(field)).expect(field)
}

#[tokio::test]
async fn update_answers_the_full_item_and_changes_only_what_was_sent() {
    let (app, key) = app_with_key().await;
    let before = app.get_key(&key.id).await.ok().clone();
    // updatedAt must move; make sure the clock has visibly moved too.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let reply = app
        .update_key(&key.id, &json!({ "description": "new text" }))
        .await;
    let after = reply.ok().clone();
    assert_eq!(field_names(&after), expected_key_fields(&[]), "{after}");
    assert!(
        time(&after, "updatedAt") > time(&before, "updatedAt"),
        "{after}"
    );
    let mut expected = before.clone();
    expected["description"] = json!("new text");
    expected["updatedAt"] = after["updatedAt"].clone();
    assert_eq!(after, expected, "only description and updatedAt change");
    assert_eq!(app.get_key(&key.id).await.ok(), &after, "GET agrees");
    assert_eq!(
        app.listed_key(&key.id).await.as_ref(),
        Some(&after),
        "list agrees"
    );
}

#[tokio::test]
async fn each_field_can_be_set_alone_or_together() {
    let (app, key) = app_with_key().await;
    let steps = [
        (
            json!({ "expiresAt": "2031-06-30" }),
            "expiresAt",
            json!("2031-06-30T23:59:59+00:00"),
        ),
        (
            json!({ "expiresAt": "2031-06-30T08:00:00+02:00" }),
            "expiresAt",
            json!("2031-06-30T06:00:00+00:00"),
        ),
        (json!({ "expiresAt": "" }), "expiresAt", json!("")),
        (json!({ "isActive": "false" }), "isActive", json!("false")),
        (json!({ "isActive": "true" }), "isActive", json!("true")),
        (json!({ "isActive": false }), "isActive", json!("false")),
        (json!({ "isActive": true }), "isActive", json!("true")),
        (
            json!({ "description": "second" }),
            "description",
            json!("second"),
        ),
    ];
    for (body, field, expected) in steps {
        let before = app.get_key(&key.id).await.ok().clone();
        let after = app.update_key(&key.id, &body).await.ok().clone();
        assert_eq!(after[field], expected, "PUT {body}");
        for untouched in ["apiKeyName", "userId", "createdBy", "createdAt"] {
            assert_eq!(
                after[untouched], before[untouched],
                "PUT {body} changed {untouched}"
            );
        }
    }
    let all = json!({ "description": "all three", "expiresAt": "2032/02/29", "isActive": "false" });
    let after = app.update_key(&key.id, &all).await.ok().clone();
    assert_eq!(
        (
            &after["description"],
            &after["expiresAt"],
            &after["isActive"]
        ),
        (
            &json!("all three"),
            &json!("2032-02-29T23:59:59+00:00"),
            &json!("false")
        )
    );
}

fn invalid_update_cases() -> Vec<(&'static str, Value, Expect)> {
    use Expect::{Any, Mentions};
    let none =
        Expect::exact("At least one of 'description', 'expiresAt', or 'isActive' must be provided");
    vec![
        ("empty object", json!({}), none),
        ("only a rename", json!({ "apiKeyName": "renamed" }), Any),
        (
            "rename with a valid field",
            json!({ "description": "ok", "apiKeyName": "renamed" }),
            Any,
        ),
        (
            "new owner with a valid field",
            json!({ "description": "ok", "userId": "someone" }),
            Any,
        ),
        (
            "new id with a valid field",
            json!({ "description": "ok", "apiKeyId": uuid::Uuid::new_v4() }),
            Any,
        ),
        (
            "new creator with a valid field",
            json!({ "description": "ok", "createdBy": "mallory" }),
            Any,
        ),
        (
            "isActive \"True\"",
            json!({ "isActive": "True" }),
            Mentions("isActive"),
        ),
        (
            "isActive \"yes\"",
            json!({ "isActive": "yes" }),
            Mentions("isActive"),
        ),
        (
            "isActive \"\"",
            json!({ "isActive": "" }),
            Mentions("isActive"),
        ),
        ("isActive 1", json!({ "isActive": 1 }), Any),
        ("isActive null", json!({ "isActive": null }), Any),
        ("isActive a list", json!({ "isActive": [true] }), Any),
        (
            "bad flag spoils a good field",
            json!({ "description": "ok", "isActive": "maybe" }),
            Any,
        ),
        (
            "description empty",
            json!({ "description": "" }),
            Mentions("description"),
        ),
        (
            "description of 257",
            json!({ "description": "d".repeat(257) }),
            Mentions("description"),
        ),
        ("description a number", json!({ "description": 5 }), Any),
        (
            "expiry in the past",
            json!({ "expiresAt": "2020-01-01" }),
            Mentions("expiresAt"),
        ),
        (
            "expiry not a date",
            json!({ "expiresAt": "not a date" }),
            Mentions("expiresAt"),
        ),
        (
            "expiry a number",
            json!({ "expiresAt": 1_893_456_000 }),
            Any,
        ),
        (
            "bad expiry spoils a good field",
            json!({ "description": "ok", "expiresAt": "soon" }),
            Any,
        ),
        ("body a list", json!([]), Any),
        ("body null", Value::Null, Any),
    ]
}

#[tokio::test]
async fn invalid_updates_get_400_and_change_nothing() {
    let (app, key) = app_with_key().await;
    let before = app.snapshot().await;
    for (why, body, expect) in invalid_update_cases() {
        let reply = app.update_key(&key.id, &body).await;
        expect.check(&reply, 400, why);
        assert_eq!(app.snapshot().await, before, "case {why:?} wrote something");
    }
    app.assert_key_works(&key.key).await;
}
