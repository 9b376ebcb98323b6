//! Malformed JSON, unknown routes and methods, oversize bodies: a JSON 4xx and nothing written.
use reqwest::Method;
use serde_json::json;
use std::io::{Read, Write};
use tests::keys::key_path;
use tests::spawn_app;

/// A malformed request; `status` is `None` where any JSON 4xx will do (e.g. 404 or 405).
struct Bad<'a> {
    method: Method,
    path: &'a str,
    body: Option<&'a str>,
    status: Option<u16>,
    why: &'a str,
}

fn bad<'a>(
    method: Method,
    path: &'a str,
    body: Option<&'a str>,
    status: Option<u16>,
    why: &'a str,
) -> Bad<'a> {
    Bad {
        method,
        path,
        body,
        status,
        why,
    }
}

#[tokio::test]
async fn malformed_requests_get_a_json_4xx_and_write_nothing() {
    let app = spawn_app().await;
    let key = app.key_for_new_user("bot", &["viewer"]).await;
    let by_id = key_path(&key.id);
    let json_ct = "application/json";
    let cases = [
        bad(
            Method::POST,
            "/auth/api-keys",
            Some("{"),
            Some(400),
            "truncated JSON",
        ),
        bad(
            Method::POST,
            "/auth/api-keys",
            Some("not json"),
            Some(400),
            "not JSON",
        ),
        bad(
            Method::POST,
            "/auth/api-keys",
            Some(""),
            Some(400),
            "empty body",
        ),
        bad(Method::POST, "/auth/api-keys", None, Some(400), "no body"),
        bad(
            Method::POST,
            "/auth/api-keys",
            Some(r#"{"apiKeyName":"a","userId":"bot","description":"d",}"#),
            Some(400),
            "trailing comma",
        ),
        bad(
            Method::PUT,
            &by_id,
            Some("{"),
            Some(400),
            "truncated JSON on update",
        ),
        bad(Method::PUT, &by_id, None, Some(400), "update without body"),
        bad(
            Method::POST,
            "/roles",
            Some("{"),
            Some(400),
            "truncated role",
        ),
        bad(
            Method::PUT,
            "/roles",
            Some("{"),
            Some(400),
            "truncated role update",
        ),
        bad(
            Method::POST,
            "/user-roles",
            Some("{"),
            Some(400),
            "truncated user roles",
        ),
        bad(
            Method::PUT,
            "/user-roles",
            Some("{"),
            Some(400),
            "truncated user roles update",
        ),
        bad(
            Method::DELETE,
            "/user-roles",
            Some("{"),
            Some(400),
            "truncated user roles delete",
        ),
        bad(Method::GET, "/nope", None, Some(404), "unknown route"),
        bad(
            Method::GET,
            "/auth/api-keys/a/b",
            None,
            Some(404),
            "extra path segment",
        ),
        bad(
            Method::DELETE,
            "/auth/api-keys",
            None,
            None,
            "DELETE on the collection",
        ),
        bad(Method::PATCH, &by_id, Some("{}"), None, "PATCH"),
        bad(
            Method::POST,
            "/api/version",
            Some("{}"),
            None,
            "POST on a GET route",
        ),
        bad(
            Method::DELETE,
            "/roles",
            None,
            None,
            "DELETE /roles without a name",
        ),
    ];
    let before = app.snapshot().await;
    for Bad {
        method,
        path,
        body,
        status,
        why,
    } in cases
    {
        let mut call = app.call(method, path);
        if let Some(body) = body {
            call = call.raw(body, json_ct);
        }
        let reply = call.send().await;
        reply.assert_client_error();
        if let Some(status) = status {
            assert_eq!(reply.status, status, "{why}: {}", reply.text);
        }
        assert_eq!(app.snapshot().await, before, "case {why:?} wrote something");
    }
    app.assert_key_works(&key.key).await;
}

#[tokio::test]
async fn oversize_bodies_get_413_and_write_nothing() {
    let app = spawn_app().await;
    let key = app.key_for_new_user("bot", &["viewer"]).await;
    let huge = "x".repeat(100 * 1024);
    let bodies = [
        (
            Method::POST,
            "/auth/api-keys".to_owned(),
            json!({ "apiKeyName": "big", "userId": "bot", "description": huge }),
        ),
        (
            Method::PUT,
            key_path(&key.id),
            json!({ "description": huge }),
        ),
        (
            Method::POST,
            "/roles".to_owned(),
            json!({ "roleName": "big", "description": huge }),
        ),
        (
            Method::PUT,
            "/user-roles".to_owned(),
            json!({ "userId": "bot", "roleName": [huge] }),
        ),
        (
            Method::POST,
            "/auth/verify".to_owned(),
            json!({ "apiKey": huge }),
        ),
    ];
    let before = app.snapshot().await;
    for (method, path, body) in bodies {
        let reply = app.call(method, &path).json(&body).send().await;
        reply.assert_json_error(413);
        assert_eq!(
            app.snapshot().await,
            before,
            "{} wrote something",
            reply.what
        );
    }
    // The cap is not absurdly low: a 16 KiB body is read and refused on its merits.
    let big = json!({ "apiKeyName": "big", "userId": "bot", "description": "x".repeat(16 * 1024) });
    let reply = app.create_key(&big).await;
    tests::Expect::Mentions("description").check(&reply, 400, "16 KiB description");
    assert_eq!(app.snapshot().await, before);
}

/// Sends `POST path` with a chunked body of `total` bytes (no Content-Length, so a cap that only
/// looks at that header is bypassed) over a raw connection and returns the status line.
fn post_chunked(address: &str, path: &str, key: &str, total: usize) -> String {
    let host = address.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    // Writes may fail once the server has answered and closed; the answer is what counts.
    let _ = stream.write_all(head.as_bytes());
    let opening = br#"{"apiKeyName":"chunked","userId":"bot","description":""#;
    let chunk = vec![b'x'; 4096];
    let _ = stream.write_all(format!("{:x}\r\n", opening.len()).as_bytes());
    let _ = stream.write_all(opening);
    let _ = stream.write_all(b"\r\n");
    let mut sent = opening.len();
    while sent < total {
        let _ = stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes());
        let _ = stream.write_all(&chunk);
        let _ = stream.write_all(b"\r\n");
        sent += chunk.len();
    }
    let _ = stream.write_all(b"2\r\n\"}\r\n0\r\n\r\n");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    answer.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn oversize_chunked_bodies_are_refused_too() {
    let app = spawn_app().await;
    app.key_for_new_user("bot", &["viewer"]).await;
    let before = app.snapshot().await;
    let (address, key) = (app.address.clone(), app.admin_key.clone());
    let status_line = tokio::task::spawn_blocking(move || {
        post_chunked(&address, "/auth/api-keys", &key, 200 * 1024)
    })
    .await
    .unwrap();
    assert!(
        status_line.starts_with("HTTP/1.1 413"),
        "a 200 KiB chunked body got {status_line:?}"
    );
    assert_eq!(app.snapshot().await, before);
}
