//! Keys pasted by mistake — into a URL path, into the wrong JSON field, into a body that is not even
//! JSON — appear in no response, no log line (text or JSON format, at debug level), no audit record
//! and nothing on disk: the real binary redacts every key-shaped string (`vams_[REDACTED]`) and
//! refuses key-shaped values outside `/auth/verify`'s `apiKey` field.
use crate::helpers::send;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tests::backend::audit_log;
use tests::binary::Server;
use tests::secrets::{files_under, occurrences, read_audit, read_or_empty, secret_part};
use tests::{Api, Backend, Reply};

/// A well-formed, never-issued key; `tag` makes each one distinct and findable.
fn pasted(tag: &str) -> String {
    format!("vams_{tag}{}", "Zq9-_x".repeat(8))
}

async fn raw_post(api: &Api, path: &str, body: &str) -> Reply {
    let response = api
        .client
        .post(api.url(path))
        .bearer_auth(&api.admin_key)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("a response");
    Reply::read(format!("POST {path} (raw)"), response).await
}

/// Method, path, bearer key, JSON body and the statuses it may get.
type Case<'a> = (Method, &'a str, Option<&'a str>, Option<Value>, &'a [u16]);

/// Every mistake, with the status it must get; returns the replies.
async fn paste_keys_everywhere(api: &Api, keys: &[String; 4]) -> Vec<Reply> {
    let [in_path, in_field, in_bad_json, verified] = keys;
    let admin = Some(api.admin_key.as_str());
    let key_path = format!("/auth/api-keys/{in_path}");
    let body = |extra: Value| {
        let mut b = json!({ "apiKeyName": "pasted", "userId": "admin", "description": "d" });
        b.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        b
    };
    let cases: Vec<Case> = vec![
        (Method::GET, &key_path, admin, None, &[400, 404]),
        (Method::DELETE, &key_path, admin, None, &[400, 404]),
        (
            Method::PUT,
            &key_path,
            admin,
            Some(json!({ "description": "x" })),
            &[400, 404],
        ),
        (
            Method::GET,
            &key_path,
            Some(in_field.as_str()),
            None,
            &[401],
        ),
        (
            Method::POST,
            "/auth/api-keys",
            admin,
            Some(body(json!({ "apiKeyName": in_field }))),
            &[400],
        ),
        (
            Method::POST,
            "/auth/api-keys",
            admin,
            Some(body(json!({ "isActive": in_field }))),
            &[400],
        ),
        (
            Method::POST,
            "/auth/api-keys",
            admin,
            Some(body(json!({ "tags": [in_field] }))),
            &[400],
        ),
        (
            Method::POST,
            "/user-roles",
            admin,
            Some(json!({ "userId": in_field, "roleName": ["admin"] })),
            &[400],
        ),
        (
            Method::POST,
            "/auth/verify",
            None,
            Some(json!({ "apiKey": verified })),
            &[200],
        ),
    ];
    let mut replies = Vec::new();
    for (method, path, key, body, statuses) in cases {
        let reply = send(api, method, path, key, &[], body.as_ref()).await;
        assert!(
            statuses.contains(&reply.status),
            "{}: {} {}",
            reply.what,
            reply.status,
            reply.text
        );
        replies.push(reply);
    }
    let bad_json = format!("{{\"apiKeyName\": \"{in_bad_json}");
    let reply = raw_post(api, "/auth/api-keys", &bad_json).await;
    reply.assert_json_error(400);
    replies.push(reply);
    replies
}

/// The first `authFailure` record in the audit file, waiting for it (bounded).
async fn wait_for_refusal(path: &std::path::Path) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let audit = read_audit(path);
        if let Some(r) = audit.iter().find(|r| r["action"] == "authFailure") {
            return r.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no authFailure record: {audit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn no_key_anywhere(format: &str) {
    let data = tempfile::tempdir().expect("data dir");
    let logs = tempfile::tempdir().expect("logs dir");
    let env = [("APIKEYD_LOG_FORMAT", format), ("RUST_LOG", "debug")];
    let server = Server::start(Backend::from_env(), data.path(), logs.path(), format, &env).await;
    let admin_key = tests::secrets::find_keys(&server.stderr_text())
        .into_iter()
        .next()
        .expect("the bootstrap key on stderr");
    let api = Api::new(server.address.clone(), admin_key);
    let keys = [
        pasted("inpath"),
        pasted("infield"),
        pasted("badjson"),
        pasted("verified"),
    ];
    let replies = paste_keys_everywhere(&api, &keys).await;
    // Refusal records are written from a queue once a second: wait for them before stopping.
    let refusal = wait_for_refusal(&audit_log(data.path())).await;
    assert_eq!(
        refusal["changes"]["path"], "/auth/api-keys/vams_[REDACTED]",
        "{refusal}"
    );
    let (stderr_path, stdout_path) = (server.stderr.clone(), server.stdout.clone());
    server.stop().await;

    let stderr = std::fs::read_to_string(&stderr_path).expect("stderr");
    let banner_end = stderr.find("apikeyd listening on").unwrap_or(0);
    // The first-start banner shows the bootstrap key once, by design; the pasted keys are new.
    let logged = &stderr[banner_end..];
    assert!(
        logged.contains("vams_[REDACTED]"),
        "the path is logged, redacted:\n{logged}"
    );

    let mut places: Vec<(String, Vec<u8>)> = vec![
        ("stderr".into(), stderr.clone().into_bytes()),
        ("stdout".into(), read_or_empty(&stdout_path)),
    ];
    places.extend(
        replies
            .iter()
            .map(|r| (r.what.clone(), r.text.clone().into_bytes())),
    );
    places.extend(
        files_under(data.path())
            .into_iter()
            .map(|f| (f.display().to_string(), read_or_empty(&f))),
    );
    places.extend(Backend::from_env().store_dump(data.path()).await);
    for key in &keys {
        for (place, bytes) in &places {
            assert_eq!(
                occurrences(bytes, secret_part(key).as_bytes()),
                0,
                "{key} appears in {place}"
            );
        }
    }
}

#[tokio::test]
async fn pasted_keys_appear_in_no_json_log_line_response_or_record() {
    no_key_anywhere("json").await;
}

#[tokio::test]
async fn pasted_keys_appear_in_no_text_log_line_response_or_record() {
    no_key_anywhere("text").await;
}
