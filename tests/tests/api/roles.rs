//! `/roles`: list, create, update, delete (which also takes the role away from every user).
use serde_json::{json, Value};
use std::collections::BTreeSet;
use tests::keys::field_names;
use tests::{spawn_app, Expect, TestApp};

const ROLE_FIELDS: [&str; 7] = [
    "createdOn",
    "description",
    "id",
    "mfaRequired",
    "roleName",
    "source",
    "sourceIdentifier",
];

async fn listed_role(app: &TestApp, name: &str) -> Option<Value> {
    app.list_roles()
        .await
        .into_iter()
        .find(|r| r["roleName"] == name)
}

#[track_caller]
fn assert_vams_success(body: &Value, message: &str, role: &str, operation: &str) {
    let fields: BTreeSet<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from(["message", "operation", "roleName", "success", "timestamp"]),
        "{body}"
    );
    assert_eq!(body["success"], json!(true), "{body}");
    assert_eq!(body["message"], json!(message), "{body}");
    assert_eq!(body["roleName"], json!(role), "{body}");
    assert_eq!(body["operation"], json!(operation), "{body}");
    assert!(
        body["timestamp"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn bootstrap_defines_the_admin_role_held_by_the_admin_user() {
    let app = spawn_app().await;
    let reply = app.get("/roles").send().await;
    let body = reply.ok();
    assert_eq!(body["message"]["NextToken"], Value::Null, "{body}");
    assert!(listed_role(&app, "admin").await.is_some(), "{body}");
    assert_eq!(app.roles_of("admin").await, vec!["admin"]);
}

#[tokio::test]
async fn create_answers_like_vams_and_the_role_is_listed() {
    let app = spawn_app().await;
    let body = json!({
        "roleName": "auditors", "description": "reads logs", "source": "INTERNAL_SYSTEM",
        "sourceIdentifier": "ticket-42", "mfaRequired": true
    });
    let reply = app.create_role_body(&body).await;
    assert_vams_success(
        reply.ok(),
        "Role auditors created successfully",
        "auditors",
        "create",
    );
    let role = listed_role(&app, "auditors").await.expect("listed");
    assert_eq!(
        field_names(&role),
        ROLE_FIELDS.map(String::from).to_vec(),
        "{role}"
    );
    assert_eq!(role["description"], "reads logs");
    assert_eq!(role["source"], "INTERNAL_SYSTEM");
    assert_eq!(role["sourceIdentifier"], "ticket-42");
    assert_eq!(role["mfaRequired"], json!(true));
    assert!(
        role["id"].as_str().is_some_and(|id| !id.is_empty()),
        "{role}"
    );
    assert!(
        role["createdOn"].as_str().is_some_and(|t| !t.is_empty()),
        "{role}"
    );

    app.create_role("plain").await.ok();
    let plain = listed_role(&app, "plain").await.expect("listed");
    assert_eq!(
        plain["mfaRequired"],
        json!(false),
        "mfaRequired defaults to false"
    );
}

#[tokio::test]
async fn a_duplicate_role_is_refused() {
    let app = spawn_app().await;
    app.create_role("ops").await.ok();
    let before = app.snapshot().await;
    let reply = app.create_role("ops").await;
    reply.assert_error(400, "VAMS General Error: Role already exists");
    app.create_role("admin")
        .await
        .assert_error(400, "VAMS General Error: Role already exists");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn invalid_role_bodies_get_400_and_write_nothing() {
    use Expect::{Any, Mentions};
    let app = spawn_app().await;
    let long = "r".repeat(257);
    let cases = [
        (
            "roleName missing",
            json!({ "description": "d" }),
            Mentions("roleName"),
        ),
        (
            "description missing",
            json!({ "roleName": "new" }),
            Mentions("description"),
        ),
        (
            "roleName empty",
            json!({ "roleName": "", "description": "d" }),
            Mentions("roleName"),
        ),
        (
            "roleName blank",
            json!({ "roleName": "  ", "description": "d" }),
            Mentions("roleName"),
        ),
        (
            "roleName with slash",
            json!({ "roleName": "a/b", "description": "d" }),
            Mentions("roleName"),
        ),
        (
            "roleName non-ASCII",
            json!({ "roleName": "rôle", "description": "d" }),
            Mentions("roleName"),
        ),
        (
            "roleName of 257",
            json!({ "roleName": long, "description": "d" }),
            Mentions("roleName"),
        ),
        (
            "description empty",
            json!({ "roleName": "new", "description": "" }),
            Mentions("description"),
        ),
        (
            "unknown source",
            json!({ "roleName": "new", "description": "d", "source": "OTHER" }),
            Mentions("source"),
        ),
        (
            "mfaRequired text",
            json!({ "roleName": "new", "description": "d", "mfaRequired": "yes" }),
            Any,
        ),
        (
            "roleName a number",
            json!({ "roleName": 5, "description": "d" }),
            Any,
        ),
        ("body a list", json!([]), Any),
    ];
    let before = app.snapshot().await;
    for (why, body, expect) in cases {
        expect.check(&app.create_role_body(&body).await, 400, why);
        assert_eq!(app.snapshot().await, before, "case {why:?} wrote something");
    }
}

#[tokio::test]
async fn update_overwrites_the_role_fields() {
    let app = spawn_app().await;
    app.create_role("ops").await.ok();
    let before = listed_role(&app, "ops").await.expect("listed");
    let body = json!({ "roleName": "ops", "description": "runs things", "mfaRequired": true });
    let reply = app.update_role(&body).await;
    let answer = reply.ok();
    assert_eq!(
        (
            &answer["success"],
            &answer["roleName"],
            &answer["operation"]
        ),
        (&json!(true), &json!("ops"), &json!("update")),
        "{answer}"
    );
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|m| m.contains("ops")),
        "{answer}"
    );
    let after = listed_role(&app, "ops").await.expect("listed");
    assert_eq!(after["description"], "runs things");
    assert_eq!(after["mfaRequired"], json!(true));
    assert_eq!(
        (&after["id"], &after["createdOn"]),
        (&before["id"], &before["createdOn"])
    );

    let snapshot = app.snapshot().await;
    let no_description = app
        .update_role(&json!({ "roleName": "ops", "mfaRequired": false }))
        .await;
    Expect::Mentions("description").check(&no_description, 400, "PUT requires description");
    let unknown = app
        .update_role(&json!({ "roleName": "ghost", "description": "d" }))
        .await;
    unknown.assert_error(400, "VAMS General Error: Role does not exist");
    assert_eq!(app.snapshot().await, snapshot);
}

#[tokio::test]
async fn delete_removes_the_role_from_every_user() {
    let app = spawn_app().await;
    let solo = app.key_for_new_user("solo", &["temp"]).await;
    let duo = app.key_for_new_user("duo", &["temp", "keep"]).await;
    let reply = app.delete_role("temp").await;
    assert_eq!(reply.ok(), &json!({ "message": "success" }));
    assert!(listed_role(&app, "temp").await.is_none(), "still listed");
    assert_eq!(app.roles_of("solo").await, Vec::<String>::new());
    assert_eq!(app.roles_of("duo").await, vec!["keep"]);
    app.assert_key_refused(&solo.key, "NO_ROLES").await;
    app.assert_key_works(&duo.key).await;
    assert_eq!(app.verify(&duo.key).await.ok()["roles"], json!(["keep"]));

    app.delete_role("temp")
        .await
        .assert_error(400, "VAMS General Error: Role does not exist");
    // Re-creating the role does not silently hand it back to its former holders.
    app.create_role("temp").await.ok();
    app.assert_key_refused(&solo.key, "NO_ROLES").await;
    let new_key = app
        .create_key(&tests::keys::key_body("again", "solo", "d"))
        .await;
    new_key.assert_error(
        400,
        "User 'solo' has no roles assigned. Cannot create API key for a user without roles.",
    );
}

#[tokio::test]
async fn role_names_with_spaces_and_dots_round_trip() {
    let app = spawn_app().await;
    for name in ["read only", "team.a_b-c"] {
        app.create_role(name).await.ok();
        assert!(listed_role(&app, name).await.is_some(), "{name}");
        app.delete_role(name).await.ok();
        assert!(listed_role(&app, name).await.is_none(), "{name}");
    }
}

#[tokio::test]
async fn deleting_a_role_by_an_invalid_name_is_refused() {
    let app = spawn_app().await;
    let before = app.snapshot().await;
    for (name, why) in [
        ("a/b", "slash"),
        ("rôle", "non-ASCII"),
        ("x;y", "semicolon"),
    ] {
        let reply = app.delete_role(name).await;
        assert!(
            reply.status == 400 || reply.status == 404,
            "{why}: {} {}",
            reply.status,
            reply.text
        );
        reply.assert_client_error();
    }
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn update_resets_the_optional_fields_it_is_not_given() {
    let app = spawn_app().await;
    let full = json!({
        "roleName": "ops", "description": "d", "source": "INTERNAL_SYSTEM",
        "sourceIdentifier": "ticket-1", "mfaRequired": true
    });
    app.create_role_body(&full).await.ok();
    app.update_role(&json!({ "roleName": "ops", "description": "only this" }))
        .await
        .ok();
    let role = listed_role(&app, "ops").await.expect("listed");
    assert_eq!(
        (
            &role["description"],
            &role["mfaRequired"],
            &role["source"],
            &role["sourceIdentifier"]
        ),
        (
            &json!("only this"),
            &json!(false),
            &Value::Null,
            &Value::Null
        ),
        "PUT overwrites the role as VAMS does: {role}"
    );
}
