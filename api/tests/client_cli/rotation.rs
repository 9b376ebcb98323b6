//! `api-key rotate`: the new key printed once, the grace typed as a duration, bad input refused.
use crate::helpers::{spawn_server, Client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_key_rotate() {
    let server = spawn_server().await;
    let client = Client::new(&server.admin_key);
    client.log_in(&server).await;
    let created = client
        .run(&[
            "--json",
            "api-key",
            "create",
            "--name",
            "rolled",
            "--user-id",
            "admin",
            "--description",
            "Rotated by the CLI",
        ])
        .await
        .expect(0)
        .json();
    let id = created["apiKeyId"].as_str().unwrap().to_owned();

    let rotated = client
        .run(&["api-key", "rotate", "--api-key-id", &id, "--grace", "1h"])
        .await;
    rotated
        .expect(0)
        .out_has("Rotated API key 'rolled'")
        .out_has("Previous key until")
        .out_has("Save this key now: it will not be shown again.");
    let new_key = rotated
        .stdout
        .split_whitespace()
        .find(|w| w.starts_with("vams_"))
        .expect("the new key is printed");
    assert_ne!(Some(new_key), created["apiKey"].as_str());

    let json = client
        .run(&[
            "--json",
            "api-key",
            "rotate",
            "--api-key-id",
            &id,
            "--grace",
            "0",
        ])
        .await
        .expect(0)
        .json();
    assert_eq!(json["previousKeyExpiresAt"], json["rotatedAt"]);
    assert!(json["apiKey"].as_str().unwrap().starts_with("vams_"));

    client
        .run(&["api-key", "rotate", "--api-key-id", &id, "--grace", "soon"])
        .await
        .expect(2)
        .err_has("invalid --grace 'soon'");
    client
        .run(&["api-key", "rotate", "--api-key-id", &id, "--grace", "31d"])
        .await
        .expect(1)
        .err_has("gracePeriodSeconds must be an integer from 0 to 2592000");
}
