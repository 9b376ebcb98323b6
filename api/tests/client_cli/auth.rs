//! `setup` and `auth login|status|logout`: profiles on disk, validation, local expiry, APIKEYD_TOKEN.
use crate::helpers::{closed_port_url, mode, spawn_server, Client};
use crate::stub::{self, json_type};
use serde_json::Value;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_and_login_store_a_private_profile() {
    let server = spawn_server().await;
    let client = Client::new(&server.admin_key);

    let setup = client.run(&["setup", &format!("{}/", server.url)]).await;
    setup.expect(0).out_has(&server.url).out_has("2.5.1");
    let config: Value = read_json(&client.profile_file("default", "config.json"));
    assert_eq!(config["apiUrl"], server.url.as_str());

    client
        .run(&[
            "auth",
            "login",
            "--user-id",
            "admin",
            "--token-override",
            &server.admin_key,
            "--expires-at",
            "+3600",
        ])
        .await
        .expect(0)
        .out_has("admin")
        .out_has(&server.admin_key[..9]);
    let auth_file = client.profile_file("default", "auth.json");
    let auth: Value = read_json(&auth_file);
    assert_eq!(auth["userId"], "admin");
    assert_eq!(auth["apiKey"], server.admin_key.as_str());
    assert!(auth["expiresAt"].as_i64().is_some());

    for file in ["config.json", "auth.json"] {
        assert_eq!(mode(&client.profile_file("default", file)), 0o600, "{file}");
    }
    let dir = client.config_dir();
    for d in [
        dir.clone(),
        dir.join("profiles"),
        dir.join("profiles/default"),
    ] {
        assert_eq!(mode(&d), 0o700, "{}", d.display());
    }

    let status = client.run(&["auth", "status"]).await;
    status
        .expect(0)
        .out_has(&format!("{}…", &server.admin_key[..9]))
        .out_has("admin")
        .out_has(&server.url);
    let status = client
        .run(&["--json", "auth", "status"])
        .await
        .expect(0)
        .json();
    assert_eq!(status["usable"], true);
    assert_eq!(status["keySource"], "profile");
    assert_eq!(status["userId"], "admin");

    client
        .run(&["auth", "logout"])
        .await
        .expect(0)
        .out_has("Removed");
    assert!(!auth_file.exists());
    let status = client
        .run(&["--json", "auth", "status"])
        .await
        .expect(0)
        .json();
    assert_eq!(status["usable"], false);
    client
        .run(&["api-key", "list"])
        .await
        .expect(1)
        .err_has("no API key in profile 'default'");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_refused_by_the_server_saves_nothing() {
    let server = spawn_server().await;
    let client = Client::new(&server.admin_key);
    client.run(&["setup", &server.url]).await.expect(0);
    let auth_file = client.profile_file("default", "auth.json");

    let unknown = concat!(
        "vams_",
        "thisKeyDoesNotExistAnywhere0000000000000000000000000000000000"
    );
    client
        .run(&[
            "auth",
            "login",
            "--user-id",
            "admin",
            "--token-override",
            unknown,
        ])
        .await
        .expect(1)
        .err_has("error (401)")
        .err_has("nothing was saved");
    assert!(!auth_file.exists());

    // A valid key for another user id: 403 from /auth/loginProfile.
    client
        .run(&[
            "auth",
            "login",
            "--user-id",
            "someone-else",
            "--token-override",
            &server.admin_key,
        ])
        .await
        .expect(1)
        .err_has("error (403)")
        .err_has("does not act as user 'someone-else'");
    assert!(!auth_file.exists());
    client
        .run(&[
            "auth",
            "login",
            "--user-id",
            "a",
            "--token-override",
            &server.admin_key,
        ])
        .await
        .expect(1)
        .err_has("error (400)");
    assert!(!auth_file.exists());

    for (expiry, why) in [
        ("+0", "now"),
        ("1000", "1970"),
        ("2001-01-01T00:00:00Z", "ISO past"),
        ("soon", "garbage"),
    ] {
        let run = client
            .run(&[
                "auth",
                "login",
                "--user-id",
                "admin",
                "--token-override",
                &server.admin_key,
                "--expires-at",
                expiry,
            ])
            .await;
        run.expect(2).err_has("--expires-at");
        assert!(!auth_file.exists(), "{why}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_key_is_never_sent() {
    let server = spawn_server().await;
    let client = Client::new(&server.admin_key);
    client.run(&["setup", &server.url]).await.expect(0);
    client
        .run(&[
            "auth",
            "login",
            "--user-id",
            "admin",
            "--token-override",
            &server.admin_key,
            "--expires-at",
            "+1",
        ])
        .await
        .expect(0);
    tokio::time::sleep(Duration::from_millis(2100)).await;

    let refused = client.run(&["api-key", "list"]).await;
    refused
        .expect(1)
        .err_has("the API key stored in profile 'default' expired at")
        .err_has("auth login");
    // Pointed at a closed port, a request would give exit 3: exit 1 proves none was attempted.
    let closed = closed_port_url().await;
    client
        .run(&["--api-url", &closed, "role", "list"])
        .await
        .expect(1)
        .err_has("expired at");
    client
        .run(&["--json", "api-key", "get", "--api-key-id", "x"])
        .await
        .expect(1);
    client
        .run(&["auth", "status"])
        .await
        .expect(0)
        .out_has("EXPIRED");

    // Editing the profile's expiry into the past has the same effect.
    client.log_in(&server).await;
    client.run(&["role", "list"]).await.expect(0);
    let path = client.profile_file("default", "auth.json");
    let mut auth: Value = read_json(&path);
    auth["expiresAt"] = Value::from(chrono::Utc::now().timestamp() - 10);
    std::fs::write(&path, auth.to_string()).expect("edit auth.json");
    client
        .run(&["role", "list"])
        .await
        .expect(1)
        .err_has("expired at");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apikeyd_token_is_used_and_never_written() {
    let server = spawn_server().await;
    let client = Client::new(&server.admin_key);
    let env = [
        ("APIKEYD_TOKEN", server.admin_key.as_str()),
        ("APIKEYD_API_URL", server.url.as_str()),
    ];
    client
        .run_with(&["api-key", "list"], &env)
        .await
        .expect(0)
        .out_has("admin");
    let status = client.run_with(&["--json", "auth", "status"], &env).await;
    assert_eq!(status.expect(0).json()["keySource"], "APIKEYD_TOKEN");
    assert!(
        !client.config_dir().exists(),
        "nothing may be written with APIKEYD_TOKEN"
    );

    // APIKEYD_TOKEN wins over the profile's key.
    client.log_in(&server).await;
    let wrong = [(
        "APIKEYD_TOKEN",
        concat!(
            "vams_",
            "wrongwrongwrongwrongwrongwrongwrongwrongwrongwrongwrongwrongwrong"
        ),
    )];
    client
        .run_with(&["api-key", "list"], &wrong)
        .await
        .expect(1)
        .err_has("error (401)")
        .err_has("APIKEYD_TOKEN");
    client.run(&["api-key", "list"]).await.expect(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_are_separate_and_home_config_is_the_default() {
    let server = spawn_server().await;
    let mut client = Client::new(&server.admin_key);
    client.use_xdg = false;
    client
        .run(&["--profile", "ci", "setup", &server.url])
        .await
        .expect(0);
    assert!(client.profile_file("ci", "config.json").is_file());
    assert!(client
        .home
        .path()
        .join(".config/apikeyd/profiles/ci")
        .is_dir());
    client
        .run(&["api-key", "list"])
        .await
        .expect(1)
        .err_has("profile 'default' is not set up");
    client
        .run_with(&["auth", "status"], &[("APIKEYD_PROFILE", "ci")])
        .await
        .expect(0)
        .out_has(&server.url);
    client
        .run(&["--profile", "../escape", "auth", "status"])
        .await
        .expect(2)
        .err_has("invalid profile name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_checks_the_version_and_the_api_field() {
    let client = Client::new("unused-secret");
    let odd = stub::start(Box::new(|_, head: &str| {
        let body = if head.starts_with("GET /api/version ") {
            r#"{"version":"2.4.0"}"#.to_owned()
        } else {
            r#"{"api":"https://api.example.test/prod/"}"#.to_owned()
        };
        (200, json_type(), body)
    }))
    .await;
    client
        .run(&["setup", &odd.url])
        .await
        .expect(0)
        .err_has("warning: the server reports version 2.4.0")
        .out_has("https://api.example.test/prod");
    let config: Value = read_json(&client.profile_file("default", "config.json"));
    assert_eq!(config["apiUrl"], "https://api.example.test/prod");

    let missing = stub::start(Box::new(|_, _: &str| {
        (404, json_type(), r#"{"message":"Not Found"}"#.to_owned())
    }))
    .await;
    client
        .run(&["setup", &missing.url])
        .await
        .expect(1)
        .err_has("/api/version was not found (404)");

    let html = stub::start(Box::new(|_, _: &str| (200, vec![], "<html>".to_owned()))).await;
    client
        .run(&["setup", &html.url])
        .await
        .expect(1)
        .err_has("not JSON");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_saves_with_a_warning_when_the_server_cannot_check() {
    let client = Client::new("vams_stubkey");
    let broken = stub::start(Box::new(|_, _: &str| {
        (
            500,
            json_type(),
            r#"{"message":"Internal server error"}"#.to_owned(),
        )
    }))
    .await;
    client
        .run_with(
            &[
                "auth",
                "login",
                "--user-id",
                "u-1",
                "--token-override",
                "vams_stubkey",
            ],
            &[("APIKEYD_API_URL", broken.url.as_str())],
        )
        .await
        .expect(0)
        .err_has("warning: could not validate the key (error (500)");
    let auth: Value = read_json(&client.profile_file("default", "auth.json"));
    assert_eq!(auth["userId"], "u-1");
    assert!(broken.heads()[0].starts_with("GET /auth/loginProfile/u-1 "));
}

fn read_json(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("profile file is JSON")
}
