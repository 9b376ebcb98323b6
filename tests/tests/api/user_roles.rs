//! `/user-roles`: list, assign (POST), replace (PUT), remove (DELETE with a JSON body).
use serde_json::{json, Value};
use std::collections::BTreeSet;
use tests::keys::field_names;
use tests::{spawn_app, Expect, TestApp};

async fn app_with_roles(roles: &[&str]) -> TestApp {
    let app = spawn_app().await;
    for role in roles {
        app.create_role(role).await.ok();
    }
    app
}

#[track_caller]
fn assert_vams_success(body: &Value, message: &str, user_id: &str, operation: &str) {
    let fields: BTreeSet<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from(["message", "operation", "success", "timestamp", "userId"]),
        "{body}"
    );
    assert_eq!(
        (
            &body["success"],
            &body["message"],
            &body["userId"],
            &body["operation"]
        ),
        (
            &json!(true),
            &json!(message),
            &json!(user_id),
            &json!(operation)
        ),
        "{body}"
    );
    assert!(
        body["timestamp"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn assign_answers_like_vams_and_lists_the_roles() {
    let app = app_with_roles(&["viewer", "auditor"]).await;
    let reply = app
        .assign_roles("alice@example.com", &["viewer", "auditor"])
        .await;
    assert_vams_success(
        reply.ok(),
        "User roles created successfully",
        "alice@example.com",
        "create",
    );
    let items = app.list_user_roles().await;
    let alice = items
        .iter()
        .find(|i| i["userId"] == "alice@example.com")
        .unwrap_or_else(|| panic!("not listed: {items:?}"));
    assert_eq!(
        field_names(alice),
        vec!["createdOn", "roleName", "userId"],
        "{alice}"
    );
    assert!(
        alice["createdOn"].as_str().is_some_and(|t| !t.is_empty()),
        "{alice}"
    );
    assert_eq!(
        app.roles_of("alice@example.com").await,
        vec!["auditor", "viewer"]
    );
}

#[tokio::test]
async fn assign_refuses_unknown_and_already_held_roles_and_writes_nothing() {
    let app = app_with_roles(&["viewer", "auditor"]).await;
    let ghost = "VAMS General Error: Role 'ghost' does not exist in the system";
    let held = "VAMS General Error: One or more roles already exist for this user";
    let before = app.snapshot().await;
    app.assign_roles("alice", &["ghost"])
        .await
        .assert_error(400, ghost);
    app.assign_roles("alice", &["viewer", "ghost"])
        .await
        .assert_error(400, ghost);
    assert_eq!(
        app.snapshot().await,
        before,
        "a partly valid assign wrote something"
    );

    app.assign_roles("alice", &["viewer"]).await.ok();
    let before = app.snapshot().await;
    app.assign_roles("alice", &["viewer"])
        .await
        .assert_error(400, held);
    app.assign_roles("alice", &["auditor", "viewer"])
        .await
        .assert_error(400, held);
    assert_eq!(
        app.snapshot().await,
        before,
        "a partly held assign wrote something"
    );
    assert_eq!(app.roles_of("alice").await, vec!["viewer"]);
}

#[tokio::test]
async fn replace_sets_exactly_the_given_roles() {
    let app = app_with_roles(&["viewer", "auditor", "ops"]).await;
    app.assign_roles("alice", &["viewer"]).await.ok();
    let reply = app.replace_roles("alice", &["auditor", "ops"]).await;
    assert_vams_success(
        reply.ok(),
        "User roles updated successfully",
        "alice",
        "update",
    );
    assert_eq!(app.roles_of("alice").await, vec!["auditor", "ops"]);

    let before = app.snapshot().await;
    app.replace_roles("alice", &["viewer", "ghost"])
        .await
        .assert_error(
            400,
            "VAMS General Error: Role 'ghost' does not exist in the system",
        );
    assert_eq!(app.snapshot().await, before);

    app.replace_roles("newcomer", &["viewer"]).await.ok();
    assert_eq!(app.roles_of("newcomer").await, vec!["viewer"]);
}

#[tokio::test]
async fn delete_removes_every_role_of_the_user() {
    let app = app_with_roles(&["viewer", "auditor"]).await;
    let key = app.key_for_new_user("alice", &["viewer", "auditor"]).await;
    app.assert_key_works(&key.key).await;
    let reply = app.remove_user_roles("alice").await;
    assert_vams_success(
        reply.ok(),
        "User roles deleted successfully",
        "alice",
        "delete",
    );
    assert_eq!(app.roles_of("alice").await, Vec::<String>::new());
    app.assert_key_refused(&key.key, "NO_ROLES").await;

    let again = app.remove_user_roles("alice").await;
    assert_vams_success(
        again.ok(),
        "User roles deleted successfully",
        "alice",
        "delete",
    );

    app.assign_roles("alice", &["auditor"]).await.ok();
    app.assert_key_works(&key.key).await;
}

#[tokio::test]
async fn invalid_user_role_requests_get_400_and_write_nothing() {
    use Expect::{Any, Mentions};
    let app = app_with_roles(&["viewer"]).await;
    app.assign_roles("alice", &["viewer"]).await.ok();
    let cases = [
        (
            "POST",
            json!({ "userId": "ab", "roleName": ["viewer"] }),
            Mentions("userId"),
            "userId too short",
        ),
        (
            "POST",
            json!({ "userId": "a b c", "roleName": ["viewer"] }),
            Mentions("userId"),
            "userId with space",
        ),
        (
            "POST",
            json!({ "roleName": ["viewer"] }),
            Mentions("userId"),
            "userId missing",
        ),
        (
            "POST",
            json!({ "userId": "bob" }),
            Mentions("roleName"),
            "roleName missing",
        ),
        (
            "POST",
            json!({ "userId": "bob", "roleName": [] }),
            Mentions("roleName"),
            "no roles",
        ),
        (
            "POST",
            json!({ "userId": "bob", "roleName": "viewer" }),
            Any,
            "roleName a string",
        ),
        (
            "POST",
            json!({ "userId": "bob", "roleName": [5] }),
            Any,
            "roleName of numbers",
        ),
        (
            "POST",
            json!({ "userId": 5, "roleName": ["viewer"] }),
            Any,
            "userId a number",
        ),
        ("POST", json!([]), Any, "body a list"),
        (
            "PUT",
            json!({ "userId": "alice", "roleName": [] }),
            Mentions("roleName"),
            "replace with nothing",
        ),
        (
            "PUT",
            json!({ "userId": "a/b", "roleName": ["viewer"] }),
            Mentions("userId"),
            "userId with slash",
        ),
        (
            "DELETE",
            json!({}),
            Mentions("userId"),
            "delete without userId",
        ),
        (
            "DELETE",
            json!({ "userId": "a b c" }),
            Mentions("userId"),
            "delete bad userId",
        ),
    ];
    let before = app.snapshot().await;
    for (method, body, expect, why) in cases {
        let call = match method {
            "POST" => app.post("/user-roles"),
            "PUT" => app.put("/user-roles"),
            _ => app.delete("/user-roles"),
        };
        expect.check(&call.json(&body).send().await, 400, why);
        assert_eq!(app.snapshot().await, before, "case {why:?} wrote something");
    }
    let no_body = app.delete("/user-roles").send().await;
    Expect::Any.check(&no_body, 400, "DELETE without a body");
    assert_eq!(
        app.snapshot().await,
        before,
        "DELETE without a body wrote something"
    );
}

#[tokio::test]
async fn assign_adds_to_the_roles_already_held() {
    let app = app_with_roles(&["viewer", "auditor", "ops"]).await;
    app.assign_roles("alice", &["viewer"]).await.ok();
    app.assign_roles("alice", &["auditor", "ops"]).await.ok();
    assert_eq!(
        app.roles_of("alice").await,
        vec!["auditor", "ops", "viewer"]
    );
    let key = app.create_key_ok("alice key", "alice").await;
    let verified = app.verify(&key.key).await;
    let mut roles: Vec<String> = serde_json::from_value(verified.ok()["roles"].clone()).unwrap();
    roles.sort();
    assert_eq!(roles, vec!["auditor", "ops", "viewer"]);
}
