//! A scripted HTTP/1.1 server on port 0 for answers a real apikeyd never gives (429, other
//! versions, non-JSON). Each connection carries one request and is closed after the answer.
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Decides the answer to request number `n` (from 0) given its head (request line and headers):
/// status, extra headers, body.
pub type Script = dyn Fn(usize, &str) -> (u16, Vec<(&'static str, String)>, String) + Send + Sync;

/// A running stub: its base URL and the heads of the requests it received.
pub struct Stub {
    pub url: String,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Stub {
    /// Requests received so far.
    pub fn heads(&self) -> Vec<String> {
        self.requests.lock().expect("stub lock").clone()
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
            let head = read_head(&mut socket).await;
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

/// Reads up to the blank line ending the head (the client's GETs have no body).
async fn read_head(socket: &mut tokio::net::TcpStream) -> String {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buffer.windows(4).any(|w| w == b"\r\n\r\n") && buffer.len() < 64 * 1024 {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(read) => buffer.extend_from_slice(&chunk[..read]),
        }
    }
    String::from_utf8_lossy(&buffer).into_owned()
}

/// A JSON content-type header.
pub fn json_type() -> Vec<(&'static str, String)> {
    vec![("Content-Type", "application/json".to_owned())]
}
