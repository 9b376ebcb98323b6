//! `POST /auth/verify` and `GET /auth/check`: the two routes gateways call, open to any caller.
use serde_json::{json, Value};
use std::collections::BTreeSet;
use tests::secrets::unknown_key;
use tests::{spawn_app, Auth, Reply};

fn role_set(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("roles must be a list, got {value}"))
        .iter()
        .map(|r| r.as_str().expect("role names are strings").to_owned())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn verify_reports_a_valid_key_with_its_user_and_roles() {
    let app = spawn_app().await;
    let key = app.key_for_new_user("svc", &["viewer", "auditor"]).await;
    let reply = app.verify(&key.key).await;
    let body = reply.ok();
    assert_eq!(body["valid"], json!(true), "{body}");
    assert_eq!(body["code"], json!("VALID"), "{body}");
    assert_eq!(body["userId"], json!("svc"), "{body}");
    assert_eq!(body["apiKeyId"], json!(key.id), "{body}");
    assert_eq!(role_set(&body["roles"]), set(&["viewer", "auditor"]));
    assert!(
        !reply.text.contains(&key.key),
        "verify echoed the plaintext"
    );

    // A gateway holding a non-admin key may call it too.
    let as_viewer = app
        .post("/auth/verify")
        .key(&key.key)
        .json(&json!({ "apiKey": app.admin_key }))
        .send()
        .await;
    assert_eq!(as_viewer.ok()["userId"], json!("admin"));
    assert!(role_set(&as_viewer.body["roles"]).contains("admin"));
}

#[tokio::test]
async fn verify_reports_why_a_key_does_not_work() {
    let app = spawn_app().await;
    let paused = app.key_for_new_user("paused-user", &["viewer"]).await;
    app.set_active(&paused.id, false).await;
    let deleted = app.key_for_new_user("deleted-user", &["viewer"]).await;
    app.delete_key(&deleted.id).await.ok();
    let orphan = app.key_for_new_user("orphan", &["viewer"]).await;
    app.remove_user_roles("orphan").await.ok();
    let cases = [
        (String::new(), "MALFORMED", "empty"),
        ("not a key".to_owned(), "MALFORMED", "no vams_ prefix"),
        ("Basic abc".to_owned(), "MALFORMED", "a header, not a key"),
        (unknown_key(), "NOT_FOUND", "never issued"),
        (paused.key.clone(), "DISABLED", "deactivated"),
        (deleted.key.clone(), "NOT_FOUND", "deleted"),
        (orphan.key.clone(), "NO_ROLES", "user lost every role"),
    ];
    for (key, code, why) in cases {
        let reply = app.verify(&key).await;
        let body = reply.ok();
        assert_eq!(
            (&body["valid"], &body["code"]),
            (&json!(false), &json!(code)),
            "{why}: {body}"
        );
        if !key.is_empty() {
            assert!(!reply.text.contains(&key), "{why}: verify echoed the key");
        }
    }
}

#[tokio::test]
async fn verify_never_answers_with_a_server_error() {
    let app = spawn_app().await;
    let bodies: [(&str, &str); 6] = [
        ("{", "truncated JSON"),
        ("{}", "no apiKey"),
        (r#"{"apiKey": 5}"#, "apiKey a number"),
        (r#"{"apiKey": null}"#, "apiKey null"),
        ("[]", "a list"),
        ("", "no body"),
    ];
    for (body, why) in bodies {
        let reply = app
            .post("/auth/verify")
            .anonymous()
            .raw(body, "application/json")
            .send()
            .await;
        assert_not_valid(&reply, why);
    }
    let long = format!("vams_{}", "a".repeat(10_000));
    assert_not_valid(&app.verify(&long).await, "10 000 characters");
}

#[track_caller]
fn assert_not_valid(reply: &Reply, why: &str) {
    if reply.status == 200 {
        assert_eq!(reply.body["valid"], json!(false), "{why}: {}", reply.text);
    } else {
        assert!(reply.status < 500, "{why}: {} {}", reply.status, reply.text);
        reply.assert_client_error();
    }
}

#[tokio::test]
async fn check_answers_200_with_identity_headers() {
    let app = spawn_app().await;
    let key = app.key_for_new_user("svc", &["viewer", "auditor"]).await;
    let auths = [
        Auth::Bearer(key.key.clone()),
        Auth::Header(format!("bearer {}", key.key)),
        Auth::Header(key.key.clone()),
    ];
    for auth in auths {
        let reply = app.check_with(auth.clone()).await;
        assert_eq!(reply.status, 200, "{auth:?}: {}", reply.text);
        assert_eq!(reply.header("x-vams-user-id"), Some("svc"));
        assert_eq!(reply.header("x-vams-api-key-id"), Some(key.id.as_str()));
        let roles: BTreeSet<String> = reply
            .header("x-vams-roles")
            .expect("X-Vams-Roles")
            .split(',')
            .map(|r| r.trim().to_owned())
            .collect();
        assert_eq!(roles, set(&["viewer", "auditor"]));
    }
    let admin = app.check(&app.admin_key).await;
    assert_eq!(admin.header("x-vams-user-id"), Some("admin"));
    assert_eq!(admin.header("x-vams-roles"), Some("admin"));
}

#[tokio::test]
async fn check_answers_401_without_identity_headers_for_bad_credentials() {
    let app = spawn_app().await;
    let cases = [
        (Auth::None, "no header"),
        (Auth::Bearer(unknown_key()), "unknown key"),
        (
            Auth::Header(format!("Basic {}", app.admin_key)),
            "Basic scheme",
        ),
        (Auth::Header("Bearer not-a-key".into()), "malformed key"),
    ];
    for (auth, why) in cases {
        let reply = app.check_with(auth).await;
        assert_eq!(reply.status, 401, "{why}: {}", reply.text);
        reply.assert_error(401, "Unauthorized");
        for header in ["x-vams-user-id", "x-vams-roles", "x-vams-api-key-id"] {
            assert_eq!(reply.header(header), None, "{why}: {header} on a 401");
        }
    }
}
