//! Issue 13's per-key settings on the wire: `roles` (a scope within the user's roles),
//! `rateLimit`, `allowedCidrs` and `meta` on create, update, get and list, and how verify, check
//! and bearer routes enforce them (active → expiry → IP allowlist → effective roles → rate limit).
//! A key without settings behaves and serializes exactly as before.
//!
//! # Layout
//! - `validation`: every malformed setting refused with 400 and a message, on create and update,
//!   writing nothing.
//! - `items`: the settings shown normalized in every item; update semantics (absent, null); a
//!   restart; the audit trail's old/new; the last admin guard.
//! - `scope`: effective roles on verify, check and bearer routes; `meta` returned by verify.
//! - `allowlist`: allowed and refused client addresses, and whose `clientIp` is believed.
//! - `rate_limit`: fixed windows, refusal answers per route, only valid requests counting.
use serde_json::{json, Value};
use std::collections::BTreeSet;
use tests::keys::{created, key_body};
use tests::{spawn_app, Api, CreatedKey, Reply, TestApp};

mod allowlist;
mod items;
mod rate_limit;
mod scope;
mod validation;

/// The user every test gives keys to, and the roles they hold.
const USER: &str = "settings-bot";
const USER_ROLES: [&str; 3] = ["auditor", "ops", "viewer"];

/// An app where [`USER`] holds [`USER_ROLES`].
async fn app_with_user() -> TestApp {
    let app = spawn_app().await;
    prepare(&app).await;
    app
}

/// Creates [`USER_ROLES`] and gives them to [`USER`].
async fn prepare(app: &Api) {
    for role in USER_ROLES {
        app.ensure_role(role).await;
    }
    app.assign_roles(USER, &USER_ROLES).await.ok();
}

/// A create body for [`USER`] with `settings` (an object) merged in.
fn body_with(name: &str, settings: Value) -> Value {
    let mut body = key_body(name, USER, "a key with settings");
    for (field, value) in settings.as_object().expect("settings are an object") {
        body[field] = value.clone();
    }
    body
}

/// Creates a key of [`USER`] with `settings` and asserts it worked.
async fn create_with(app: &Api, name: &str, settings: Value) -> CreatedKey {
    created(&app.create_key(&body_with(name, settings)).await)
}

/// `POST /auth/verify {"apiKey": key, "clientIp": client_ip}`, without `Authorization`.
async fn verify_from(app: &Api, key: &str, client_ip: &str) -> Reply {
    app.post("/auth/verify")
        .anonymous()
        .json(&json!({ "apiKey": key, "clientIp": client_ip }))
        .send()
        .await
}

/// The `code` of [`verify_from`]'s 200 answer, after checking `valid` agrees with it.
async fn verify_code_from(app: &Api, key: &str, client_ip: &str) -> String {
    let reply = verify_from(app, key, client_ip).await;
    let body = reply.ok();
    let code = body["code"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        body["valid"],
        json!(code == "VALID"),
        "verify from {client_ip}: {body}"
    );
    code
}

/// The `roles` of a 200 verify answer, as a set.
#[track_caller]
fn verified_roles(reply: &Reply) -> BTreeSet<String> {
    let body = reply.ok();
    assert_eq!(body["valid"], json!(true), "{body}");
    body["roles"]
        .as_array()
        .unwrap_or_else(|| panic!("roles must be a list: {body}"))
        .iter()
        .map(|r| r.as_str().expect("role names are strings").to_owned())
        .collect()
}

/// The `X-Vams-Roles` of a 200 check answer, as a set.
#[track_caller]
fn checked_roles(reply: &Reply) -> BTreeSet<String> {
    reply.assert_status(200);
    reply
        .header("x-vams-roles")
        .unwrap_or_else(|| panic!("no X-Vams-Roles: {:?}", reply.headers))
        .split(',')
        .map(|r| r.trim().to_owned())
        .collect()
}

/// A set of role names.
fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// A key item without its last use, which every authenticated request may move.
fn settled(item: &Value) -> Value {
    let mut item = item.clone();
    if let Some(fields) = item.as_object_mut() {
        fields.remove("lastUsedAt");
        fields.remove("lastUsedFrom");
    }
    item
}
