//! A scripted HTTP/1.1 server on port 0 for answers a real apikeyd never gives (429, other
//! versions, non-JSON) and for seeing exactly what the client sent (`Stub::bodies`). Each
//! connection carries one request and is closed after the answer.
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Decides the answer to request number `n` (from 0) given its head (request line and headers):
/// status, extra headers, body.
pub type Script = dyn Fn(usize, &str) -> (u16, Vec<(&'static str, String)>, String) + Send + Sync;

/// A running stub: its base URL and the requests it received (head, then any body).
pub struct Stub {
    pub url: String,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Stub {
    /// Requests received so far (each one's head, followed by its body when it has one).
    pub fn heads(&self) -> Vec<String> {
        self.requests.lock().expect("stub lock").clone()
    }

    /// The JSON bodies of the requests received so far (`Null` for a request without one), so a
    /// test can check what the client sent.
    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.heads()
            .iter()
            .map(|request| {
                let body = request.split_once("\r\n\r\n").map_or("", |(_, body)| body);
                serde_json::from_str(body).unwrap_or(serde_json::Value::Null)
            })
            .collect()
    }
}

/// Starts a stub answering with `script`. It serves at most 64 connections, then stops.
pub async fn start(script: Box<Script>) -> Stub {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind stub");
    let url = format!("http://{}", listener.local_addr().expect("stub address"));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    tokio::spawn(async move {
        for n in 0..64 {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let head = read_request(&mut socket).await;
            seen.lock().expect("stub lock").push(head.clone());
            let (status, headers, body) = script(n, &head);
            let mut answer = format!(
                "HTTP/1.1 {status} Stub\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                answer.push_str(&format!("{name}: {value}\r\n"));
            }
            answer.push_str("\r\n");
            answer.push_str(&body);
            let _ = socket.write_all(answer.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    Stub { url, requests }
}

/// Reads the head, up to the blank line, then as many body bytes as its `Content-Length` says
/// (the client sends JSON bodies with one, never chunked).
async fn read_request(socket: &mut tokio::net::TcpStream) -> String {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 1024];
    let mut wanted = None;
    while wanted.is_none_or(|total| buffer.len() < total) && buffer.len() < 64 * 1024 {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(read) => buffer.extend_from_slice(&chunk[..read]),
        }
        if wanted.is_none() {
            wanted = head_end(&buffer).map(|end| end + content_length(&buffer[..end]));
        }
    }
    String::from_utf8_lossy(&buffer).into_owned()
}

/// Where the head ends (after its blank line), once it has arrived.
fn head_end(buffer: &[u8]) -> Option<usize> {
    buffer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
}

/// The `Content-Length` of a head, 0 without one.
fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0)
}

/// A JSON content-type header.
pub fn json_type() -> Vec<(&'static str, String)> {
    vec![("Content-Type", "application/json".to_owned())]
}
