//! Graceful shutdown: SIGTERM while a request is in flight (its body half sent) lets that request
//! finish with 200, then the process exits 0 with the change persisted and audited.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};
use tests::backend::audit_log;
use tests::binary::Server;
use tests::secrets::find_keys;
use tests::{Api, Backend};

/// What actix-server logs when it starts a graceful stop on SIGTERM.
const SIGTERM_SEEN: &str = "SIGTERM received";

async fn wait_for(path: &Path, needle: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{needle:?} not logged within {within:?}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads one response with a `Content-Length` body from a kept-alive connection.
fn read_response(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if bytes.len() >= end + 4 + length {
                return text;
            }
        }
        let n = stream.read(&mut chunk).expect("read a response");
        assert!(n > 0, "connection closed mid-response: {text}");
        bytes.extend_from_slice(&chunk[..n]);
    }
}

/// A connection the server has surely accepted (it answered `/healthz` on it), then the head and half
/// the body of a `POST /auth/api-keys` on it; returns the stream and the rest of the body.
fn split_request(address: &str, key: &str) -> (TcpStream, Vec<u8>) {
    let host = address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let probe = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n");
    stream.write_all(probe.as_bytes()).expect("write probe");
    let answer = read_response(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body =
        br#"{"apiKeyName":"in flight","userId":"admin","description":"sent across SIGTERM"}"#;
    let head = format!(
        "POST /auth/api-keys HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write head");
    let (first, rest) = body.split_at(body.len() / 2);
    stream.write_all(first).expect("write half the body");
    (stream, rest.to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_in_flight_request_then_flushes_and_exits() {
    let backend = Backend::from_env();
    let data = tempfile::tempdir().expect("data dir");
    let logs = tempfile::tempdir().expect("logs dir");
    let server = Server::start(backend, data.path(), logs.path(), "first", &[]).await;
    let admin_key = find_keys(&server.stderr_text())
        .into_iter()
        .next()
        .expect("bootstrap key");
    let (address, key) = (server.address.clone(), admin_key.clone());
    let (mut stream, rest) = tokio::task::spawn_blocking(move || split_request(&address, &key))
        .await
        .expect("connect thread");
    tokio::time::sleep(Duration::from_millis(100)).await;

    let stderr = server.stderr.clone();
    let stopping = tokio::spawn(server.stop());
    wait_for(&stderr, SIGTERM_SEEN, Duration::from_secs(10)).await;
    let response = tokio::task::spawn_blocking(move || {
        stream.write_all(&rest)?;
        let mut response = String::new();
        stream.read_to_string(&mut response).map(|_| response)
    })
    .await
    .expect("request thread");
    let log = || std::fs::read_to_string(&stderr).unwrap_or_default();
    let response = response.unwrap_or_else(|e| panic!("in-flight request failed: {e}\n{}", log()));
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "in-flight request: {response}\n{}",
        log()
    );
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    let created: serde_json::Value = serde_json::from_str(body).expect("JSON body");
    let id = created["apiKeyId"].as_str().expect("apiKeyId").to_owned();
    let key = created["apiKey"].as_str().expect("apiKey").to_owned();

    let status = stopping.await.expect("stop task");
    assert!(status.success(), "exit status after SIGTERM: {status}");
    let audit = std::fs::read_to_string(audit_log(data.path())).unwrap_or_default();
    assert!(
        audit
            .lines()
            .any(|l| l.contains("apiKeyCreate") && l.contains(&id)),
        "the create is audited:\n{audit}"
    );

    let again = Server::start(backend, data.path(), logs.path(), "second", &[]).await;
    let api = Api::new(again.address.clone(), admin_key);
    api.assert_key_works(&key).await;
    assert!(
        api.listed_key(&id).await.is_some(),
        "key listed after restart"
    );
    again.stop().await;
}
