//! The `apikeyd` binary: help, first start and later starts, settings from the environment.
use serde_json::json;
use tests::binary::{self, describe, Server};
use tests::secrets::{find_keys, is_well_formed_key};
use tests::{Api, Backend};

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn help_documents_every_subcommand_and_setting() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::from_env();
    let mut all = String::new();
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["projections", "--help"],
    ] {
        let output = binary::run(backend, dir.path(), args, &[]).await;
        assert!(
            output.status.success(),
            "apikeyd {args:?}: {}",
            describe(&output)
        );
        all.push_str(&text(&output));
    }
    let expected = [
        "serve",
        "projections",
        "verify",
        "rebuild",
        "APIKEYD_BIND",
        "APIKEYD_DATA_DIR",
        "APIKEYD_PUBLIC_URL",
        "APIKEYD_ADMIN_ROLES",
        "APIKEYD_BOOTSTRAP_ADMIN",
    ];
    for word in expected {
        assert!(all.contains(word), "help never mentions {word}:\n{all}");
    }
}

#[tokio::test]
async fn serve_prints_the_bootstrap_key_on_first_start_only() {
    let backend = Backend::from_env();
    let (data, logs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = Server::start(backend, data.path(), logs.path(), "first", &[]).await;
    let printed = find_keys(&first.stderr_text());
    assert_eq!(
        printed.len(),
        1,
        "one key printed once:\n{}",
        first.stderr_text()
    );
    let admin_key = printed[0].clone();
    assert!(is_well_formed_key(&admin_key), "{admin_key}");
    let api = Api::new(first.address.clone(), admin_key.clone());
    api.get("/api/version").anonymous().send().await.ok();
    assert_eq!(
        api.get("/api/amplify-config").send().await.ok()["api"],
        json!(first.address)
    );
    assert_eq!(
        api.check(&admin_key).await.header("x-vams-user-id"),
        Some("admin")
    );
    let before = api.snapshot().await;
    let status = first.stop().await;
    assert!(
        status.success(),
        "SIGTERM should end serve cleanly, got {status}"
    );

    let second = Server::start(backend, data.path(), logs.path(), "second", &[]).await;
    let stderr = second.stderr_text();
    assert!(
        find_keys(&stderr).is_empty(),
        "a later start printed a key:\n{stderr}"
    );
    let api = Api::new(second.address.clone(), admin_key.clone());
    assert_eq!(api.snapshot().await, before);
    api.assert_key_works(&admin_key).await;
    second.stop().await;
}

#[tokio::test]
async fn serve_reads_its_settings_from_the_environment() {
    let backend = Backend::from_env();
    let (data, logs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let env = [
        ("APIKEYD_PUBLIC_URL", "https://keys.example.com"),
        ("APIKEYD_BOOTSTRAP_ADMIN", "root-ops"),
        ("APIKEYD_ADMIN_ROLES", "admin,key-managers"),
    ];
    let server = Server::start(backend, data.path(), logs.path(), "env", &env).await;
    let admin_key = find_keys(&server.stderr_text())
        .pop()
        .expect("bootstrap key");
    let api = Api::new(server.address.clone(), admin_key.clone());
    let config = api.get("/api/amplify-config").anonymous().send().await;
    assert_eq!(config.ok()["api"], json!("https://keys.example.com"));
    assert_eq!(
        api.check(&admin_key).await.header("x-vams-user-id"),
        Some("root-ops")
    );
    api.login_profile("root-ops", &admin_key).await.ok();
    assert_eq!(api.roles_of("root-ops").await, vec!["admin"]);

    let manager = api.key_for_new_user("key-mgr", &["key-managers"]).await;
    api.get("/auth/api-keys")
        .key(&manager.key)
        .send()
        .await
        .ok();
    server.stop().await;
}
