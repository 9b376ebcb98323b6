//! Size caps: header bytes over `APIKEYD_MAX_HEADER_BYTES` → 431, bodies over
//! `APIKEYD_MAX_BODY_BYTES` → 413, both as `{"message"}` and before any key is checked.
use crate::helpers::{get, send};
use reqwest::Method;
use serde_json::json;
use tests::spawn_app_with;

#[tokio::test]
async fn oversized_headers_get_431_and_normal_ones_pass() {
    let app = spawn_app_with(|s| s.max_header_bytes = 4096).await;
    let big = "x".repeat(5000);
    let reply = get(
        &app,
        "/auth/api-keys",
        Some(&app.admin_key),
        &[("X-Padding", &big)],
    )
    .await;
    let message = reply.assert_json_error(431);
    assert!(message.contains("4096"), "{message}");
    let fits = "x".repeat(3000);
    get(
        &app,
        "/auth/api-keys",
        Some(&app.admin_key),
        &[("X-Padding", &fits)],
    )
    .await
    .assert_status(200);
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let app = spawn_app_with(|s| s.max_body_bytes = 1024).await;
    let body = json!({ "apiKeyName": "big", "userId": "admin", "description": "d".repeat(2000) });
    let reply = send(
        &app,
        Method::POST,
        "/auth/api-keys",
        Some(&app.admin_key),
        &[],
        Some(&body),
    )
    .await;
    reply.assert_json_error(413);
}
