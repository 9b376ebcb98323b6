//! Slow and greedy clients: a request body that does not arrive within `APIKEYD_BODY_TIMEOUT_MS` gets
//! 408 `{"message"}` and its connection closed; one address holding `APIKEYD_MAX_CONNECTIONS_PER_IP`
//! connections has any further one closed at once (and counted), and gets slots back when it lets go;
//! meanwhile other clients are answered. Attackers connect from other loopback addresses
//! (127.0.0.0/8 is all loopback), the well-behaved client from 127.0.0.1.
use crate::helpers::{count, metrics};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tests::{spawn_app_with, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// How long any single observation may take on a busy machine.
const PATIENCE: Duration = Duration::from_secs(30);

/// A `POST /auth/verify` head announcing 100 bytes, followed by only part of them.
const SLOW_BODY: &str =
    "POST /auth/verify HTTP/1.1\r\nHost: apikeyd\r\nContent-Type: application/json\r\n\
                         Content-Length: 100\r\n\r\n{\"apiKey\": \"vams_";

async fn connect_from(app: &TestApp, source: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    let source: SocketAddr = format!("{source}:0").parse().expect("source address");
    socket.bind(source).expect("bind a loopback source address");
    let target: SocketAddr = format!("127.0.0.1:{}", app.port).parse().expect("target");
    socket.connect(target).await.expect("connect")
}

async fn slow_body_from(app: &TestApp, source: &str) -> TcpStream {
    let mut stream = connect_from(app, source).await;
    // A connection over the cap may already be shut down; reading it tells.
    let _ = stream.write_all(SLOW_BODY.as_bytes()).await;
    stream
}

/// Everything the server sends until it closes the connection (bounded by [`PATIENCE`]); `None` if
/// it keeps the connection open that long.
async fn read_until_closed(stream: &mut TcpStream) -> Option<String> {
    let mut out = Vec::new();
    let read = tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&out).into_owned())
}

/// A connection the server has certainly taken a slot for (it answered a request on it), now
/// holding a slow body.
async fn accepted_then_slow(app: &TestApp, source: &str) -> TcpStream {
    let mut stream = connect_from(app, source).await;
    let probe = "GET /healthz HTTP/1.1\r\nHost: apikeyd\r\n\r\n";
    stream
        .write_all(probe.as_bytes())
        .await
        .expect("send a probe");
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    let answered = tokio::time::timeout(PATIENCE, async {
        // The probe's answer is small; its head and body arrive well before anything else is sent.
        while !complete_response(&seen) {
            let n = stream
                .read(&mut buf)
                .await
                .expect("read the probe's answer");
            assert!(n > 0, "closed while answering the probe");
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(answered.is_ok(), "probe not answered within {PATIENCE:?}");
    assert!(
        seen.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&seen)
    );
    stream
        .write_all(SLOW_BODY.as_bytes())
        .await
        .expect("send the slow body");
    stream
}

/// Whether `bytes` hold a whole response: the head and `content-length` bytes of body.
fn complete_response(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    body.len() >= length
}

/// `GET /auth/check` with the admin key on `stream`; the status line's code (empty when the
/// connection was closed without an answer).
async fn check_on(stream: &mut TcpStream, key: &str) -> String {
    let request = format!(
        "GET /auth/check HTTP/1.1\r\nHost: apikeyd\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).await.is_err() {
        return String::new();
    }
    let answer = read_until_closed(stream)
        .await
        .expect("an answer, then close");
    answer.split(' ').nth(1).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_slow_body_is_cut_off_with_408_and_the_connection_closed() {
    let app = spawn_app_with(|s| s.body_timeout_ms = 1000).await;
    let mut stream = slow_body_from(&app, "127.0.0.1").await;
    let answer = read_until_closed(&mut stream)
        .await
        .expect("the server closes a connection whose body never completes");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"message\""), "JSON error body: {answer}");
    assert!(
        !answer.contains("vams_"),
        "nothing of the body echoed: {answer}"
    );
}

#[tokio::test]
async fn many_slow_bodies_do_not_stop_valid_requests() {
    let cap = 16;
    let app = spawn_app_with(move |s| {
        s.body_timeout_ms = 3000;
        s.max_connections_per_ip = cap;
    })
    .await;
    let mut attackers = Vec::new();
    for _ in 0..120 {
        attackers.push(slow_body_from(&app, "127.0.0.2").await);
    }
    let client = tests::call::client();
    for n in 0..20 {
        let reply = tokio::time::timeout(
            PATIENCE,
            client
                .get(app.url("/auth/check"))
                .bearer_auth(&app.admin_key)
                .send(),
        )
        .await
        .unwrap_or_else(|_| panic!("valid request {n} not answered within {PATIENCE:?}"))
        .expect("a response");
        assert_eq!(reply.status(), 200, "valid request {n}");
    }
    // Every attacker connection ends: over the cap at once, the rest by the body timeout (408).
    let mut timed_out = 0;
    for stream in &mut attackers {
        let answer = read_until_closed(stream)
            .await
            .expect("every slow connection is closed");
        if answer.starts_with("HTTP/1.1 408") {
            timed_out += 1;
        } else {
            assert_eq!(answer, "", "closed without an answer");
        }
    }
    assert_eq!(
        timed_out, cap,
        "the connections within the cap were timed out"
    );
    let text = metrics(&app).await;
    assert!(
        count(&text, "apikeyd_connections_refused_total") >= (120 - cap) as f64,
        "{text}"
    );
}

#[tokio::test]
async fn connections_over_the_per_ip_cap_are_closed_and_slots_come_back() {
    let cap = 4;
    let app = spawn_app_with(move |s| {
        // Held connections stay in their body for the whole test; extras are closed on accept.
        s.body_timeout_ms = 60_000;
        s.max_connections_per_ip = cap;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..cap {
        held.push(accepted_then_slow(&app, "127.0.0.3").await);
    }
    for extra in 0..3 {
        let mut stream = connect_from(&app, "127.0.0.3").await;
        let answer = read_until_closed(&mut stream)
            .await
            .unwrap_or_else(|| panic!("extra connection {extra} was left open"));
        assert_eq!(
            answer, "",
            "extra connection {extra} is closed without an answer"
        );
    }
    // Another address is not affected.
    let mut other = connect_from(&app, "127.0.0.4").await;
    assert_eq!(check_on(&mut other, &app.admin_key).await, "200");

    drop(held);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut stream = connect_from(&app, "127.0.0.3").await;
        if check_on(&mut stream, &app.admin_key).await == "200" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "slots never came back after the connections closed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = metrics(&app).await;
    assert!(
        count(&text, "apikeyd_connections_refused_total") >= 3.0,
        "{text}"
    );
}
