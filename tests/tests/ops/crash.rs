//! Durability: every create the server acknowledged survives `kill -9` (no shutdown, no flush)
//! while other creates are still in flight: group commit answers a command only once the
//! transaction holding it is on disk.
use std::time::{Duration, Instant};
use tests::binary::Server;
use tests::keys::key_body;
use tests::secrets::find_keys;
use tests::{Api, Backend};
use tokio::sync::mpsc;

/// Concurrent clients, and creates each sends at most.
const CLIENTS: usize = 16;
const PER_CLIENT: usize = 60;

/// Acknowledged creates after which the server is killed (the rest are in flight or unsent).
const KILL_AFTER: usize = 300;

/// One client: creates until the server is gone or its share is done; sends every acknowledged
/// `(id, key)` as soon as it is read.
async fn client(
    api: Api,
    admin: String,
    n: usize,
    acknowledged: mpsc::UnboundedSender<(String, String)>,
) {
    let http = tests::call::client();
    for i in 0..PER_CLIENT {
        let body = key_body(&format!("crash-{n}-{i}"), "admin", "created before kill -9");
        let sent = http
            .post(api.url("/auth/api-keys"))
            .bearer_auth(&admin)
            .json(&body)
            .send()
            .await;
        let Ok(response) = sent else { return };
        if response.status() != 200 {
            return;
        }
        let Ok(created) = response.json::<serde_json::Value>().await else {
            return;
        };
        let field = |f: &str| created[f].as_str().unwrap_or_default().to_owned();
        let _ = acknowledged.send((field("apiKeyId"), field("apiKey")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_create_survives_kill_9() {
    let backend = Backend::from_env();
    let data = tempfile::tempdir().expect("data dir");
    let logs = tempfile::tempdir().expect("logs dir");
    let server = Server::start(backend, data.path(), logs.path(), "first", &[]).await;
    let admin = find_keys(&server.stderr_text())
        .into_iter()
        .next()
        .expect("bootstrap key");
    let api = Api::new(server.address.clone(), admin.clone());
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| tokio::spawn(client(api.clone(), admin.clone(), n, sender.clone())))
        .collect();
    drop(sender);

    let mut acknowledged = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while acknowledged.len() < KILL_AFTER {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, receiver.recv()).await {
            Ok(Some(created)) => acknowledged.push(created),
            Ok(None) => panic!(
                "clients stopped after {} creates:\n{}",
                acknowledged.len(),
                server.stderr_text()
            ),
            Err(_) => panic!("only {} creates acknowledged in time", acknowledged.len()),
        }
    }
    server.kill().await;
    for client in clients {
        client.await.expect("client task");
    }
    while let Some(created) = receiver.recv().await {
        acknowledged.push(created);
    }

    let again = Server::start(backend, data.path(), logs.path(), "second", &[]).await;
    let api = Api::new(again.address.clone(), admin);
    let listed: std::collections::HashSet<String> = api
        .list_keys()
        .await
        .iter()
        .filter_map(|item| item["apiKeyId"].as_str().map(str::to_owned))
        .collect();
    for (id, key) in &acknowledged {
        assert!(listed.contains(id), "acknowledged key {id} lost by kill -9");
        api.assert_key_works(key).await;
    }
    again.stop().await;
}
