//! Request ids: a usable `X-Request-Id` is echoed, anything else replaced by a new UUID, on success
//! and error answers alike, and the id is the one recorded on the events the request causes.
use crate::helpers::{get, send};
use reqwest::Method;
use tests::keys::key_body;
use tests::spawn_app;

#[tokio::test]
async fn a_usable_request_id_is_echoed() {
    let app = spawn_app().await;
    for (path, key, status) in [
        ("/api/version", None, 200),
        ("/auth/api-keys", Some(app.admin_key.as_str()), 200),
        ("/auth/api-keys", Some("vams_wrong"), 401),
        ("/no/such/route", None, 404),
    ] {
        let reply = get(&app, path, key, &[("X-Request-Id", "ops-echo-42")]).await;
        reply.assert_status(status);
        assert_eq!(reply.header("x-request-id"), Some("ops-echo-42"), "{path}");
    }
}

#[tokio::test]
async fn a_missing_or_unusable_request_id_is_replaced_by_a_uuid() {
    let app = spawn_app().await;
    let long = "a".repeat(65);
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[], "absent"),
        (&[("X-Request-Id", "")], "empty"),
        (&[("X-Request-Id", "has space;and=more")], "odd characters"),
        (&[("X-Request-Id", long.as_str())], "longer than 64"),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (headers, why) in cases {
        let reply = get(&app, "/healthz", None, headers).await;
        let id = reply.header("x-request-id").unwrap_or_default().to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{why}: {id:?}");
        assert!(seen.insert(id), "{why}: ids must be fresh");
    }
}

#[tokio::test]
async fn events_record_the_request_id() {
    let app = spawn_app().await;
    let body = key_body("traced key", "admin", "request id test");
    let reply = send(
        &app,
        Method::POST,
        "/auth/api-keys",
        Some(&app.admin_key),
        &[("X-Request-Id", "ops-trace-7")],
        Some(&body),
    )
    .await;
    let id = reply.ok()["apiKeyId"]
        .as_str()
        .expect("apiKeyId")
        .to_owned();
    let audit = app.get(&format!("/auth/api-keys/{id}/audit")).send().await;
    let items = audit.ok()["Items"].as_array().expect("Items").clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["requestId"], "ops-trace-7");
}
