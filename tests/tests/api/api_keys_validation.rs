//! `POST /auth/api-keys` input rules: every invalid body refused with a message naming the problem,
//! and the boundaries accepted.
use chrono::Utc;
use serde_json::{json, Value};
use tests::keys::{created, key_body};
use tests::{spawn_app, Expect, TestApp};

/// An app with `bot` holding `viewer`, and `lonely` holding nothing.
async fn app_with_bot() -> TestApp {
    let app = spawn_app().await;
    app.ensure_role("viewer").await;
    app.assign_roles("bot", &["viewer"]).await.ok();
    app
}

/// One invalid create body and what the answer must say.
struct Case {
    why: &'static str,
    body: Value,
    expect: Expect,
}

fn case(why: &'static str, body: Value, expect: Expect) -> Case {
    Case { why, body, expect }
}

/// A valid body with `field` replaced (or removed when `value` is `None`).
fn with(field: &str, value: Option<Value>) -> Value {
    let mut body = key_body("fresh name", "bot", "a description");
    match value {
        Some(value) => body[field] = value,
        None => {
            body.as_object_mut().unwrap().remove(field);
        }
    }
    body
}

fn invalid_create_cases() -> Vec<Case> {
    use Expect::{Any, Mentions};
    let long = |n: usize| json!("x".repeat(n));
    let yesterday = (Utc::now() - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    vec![
        case("name missing", with("apiKeyName", None), Mentions("apiKeyName")),
        case("name empty", with("apiKeyName", Some(json!(""))), Mentions("apiKeyName")),
        case("name blank", with("apiKeyName", Some(json!("   "))), Mentions("apiKeyName")),
        case("name with NUL", with("apiKeyName", Some(json!("a\u{0}b"))), Mentions("apiKeyName")),
        case("name with newline", with("apiKeyName", Some(json!("a\nb"))), Mentions("apiKeyName")),
        case("name with tab", with("apiKeyName", Some(json!("a\tb"))), Mentions("apiKeyName")),
        case("name with DEL", with("apiKeyName", Some(json!("a\u{7f}b"))), Mentions("apiKeyName")),
        case("name of 257 chars", with("apiKeyName", Some(long(257))), Mentions("apiKeyName")),
        case("name is a number", with("apiKeyName", Some(json!(42))), Any),
        case("name is null", with("apiKeyName", Some(Value::Null)), Any),
        case("userId missing", with("userId", None), Mentions("userId")),
        case("userId of 2 chars", with("userId", Some(json!("ab"))), Mentions("userId")),
        case("userId with space", with("userId", Some(json!("a b c"))), Mentions("userId")),
        case("userId with slash", with("userId", Some(json!("a/b/c"))), Mentions("userId")),
        case("userId of 257 chars", with("userId", Some(long(257))), Mentions("userId")),
        case("userId GLOBAL", with("userId", Some(json!("GLOBAL"))), Mentions("userId")),
        case("userId is a list", with("userId", Some(json!(["bot"]))), Any),
        case(
            "user without roles",
            with("userId", Some(json!("lonely"))),
            Expect::exact(
                "User 'lonely' has no roles assigned. Cannot create API key for a user without roles.",
            ),
        ),
        case("description missing", with("description", None), Mentions("description")),
        case("description empty", with("description", Some(json!(""))), Mentions("description")),
        case("description blank", with("description", Some(json!("  "))), Mentions("description")),
        case("description of 257", with("description", Some(long(257))), Mentions("description")),
        case("description global", with("description", Some(json!("global"))), Mentions("description")),
        case("description a list", with("description", Some(json!(["d"]))), Any),
        case("expiry in the past", with("expiresAt", Some(json!("2020-01-01T00:00:00Z"))), Mentions("expiresAt")),
        case("expiry yesterday", with("expiresAt", Some(json!(yesterday))), Mentions("expiresAt")),
        case("expiry in words", with("expiresAt", Some(json!("tomorrow"))), Mentions("expiresAt")),
        case("expiry month 13", with("expiresAt", Some(json!("2030-13-01"))), Mentions("expiresAt")),
        case("expiry Feb 30", with("expiresAt", Some(json!("2030-02-30"))), Mentions("expiresAt")),
        case("expiry day first", with("expiresAt", Some(json!("31/01/2030"))), Mentions("expiresAt")),
        case("expiry unix text", with("expiresAt", Some(json!("1893456000"))), Mentions("expiresAt")),
        case("expiry unix number", with("expiresAt", Some(json!(1_893_456_000))), Any),
        case("body is a list", json!([]), Any),
        case("body is a string", json!("apiKeyName"), Any),
        case("body is null", Value::Null, Any),
    ]
}

#[tokio::test]
async fn invalid_create_bodies_get_400_and_write_nothing() {
    let app = app_with_bot().await;
    app.create_key_ok("taken", "bot").await;
    let before = app.snapshot().await;
    for Case { why, body, expect } in invalid_create_cases() {
        let reply = app.create_key(&body).await;
        expect.check(&reply, 400, why);
        assert_eq!(app.snapshot().await, before, "case {why:?} wrote something");
    }
}

#[tokio::test]
async fn the_longest_allowed_values_are_accepted() {
    let app = app_with_bot().await;
    let user = "u".repeat(256);
    app.assign_roles(&user, &["viewer"]).await.ok();
    let body = key_body(&"n".repeat(256), &user, &"d".repeat(256));
    let reply = app.create_key(&body).await;
    let new = created(&reply);
    for field in ["apiKeyName", "userId", "description"] {
        assert_eq!(new.item[field], body[field], "{field} stored whole");
    }
    let shortest = key_body("n", "abc", "d");
    app.assign_roles("abc", &["viewer"]).await.ok();
    created(&app.create_key(&shortest).await);
}
