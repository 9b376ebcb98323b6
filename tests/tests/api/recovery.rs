//! Lock-out protection: admin roles cannot be deleted, and `apikeyd recover` issues a new admin key
//! against the store, picked up by a running server.
use std::time::{Duration, Instant};
use tests::binary::{describe, run};
use tests::secrets::find_keys;
use tests::spawn_app;

#[tokio::test]
async fn admin_roles_cannot_be_deleted() {
    let app = spawn_app().await;
    app.delete_role("admin").await.assert_error(
        400,
        "Role 'admin' is an admin role (APIKEYD_ADMIN_ROLES) and cannot be deleted",
    );
    assert!(app
        .list_roles()
        .await
        .iter()
        .any(|r| r["roleName"] == "admin"));
    app.get("/auth/api-keys").send().await.assert_status(200);
}

#[tokio::test]
async fn recover_issues_an_admin_key_a_running_server_accepts() {
    let app = spawn_app().await;
    let output = run(
        app.backend,
        app.data_path(),
        &["recover", "--user-id", "rescuer"],
        &[],
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let keys = find_keys(&stderr);
    assert_eq!(keys.len(), 1, "one key, printed once: {stderr}");
    assert!(find_keys(&String::from_utf8_lossy(&output.stdout)).is_empty());

    // The server learns about events other processes append within its poll period.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = app.get("/auth/api-keys").key(&keys[0]).send().await;
        if reply.status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "recovered key never accepted: {}",
            reply.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.roles_of("rescuer").await, ["admin"]);
    let listed = app.list_keys().await;
    let recovery: Vec<_> = listed
        .iter()
        .filter(|k| {
            k["apiKeyName"]
                .as_str()
                .unwrap_or("")
                .starts_with("recovery-")
        })
        .collect();
    assert_eq!(recovery.len(), 1);
    assert_eq!(recovery[0]["userId"], "rescuer");
    assert_eq!(recovery[0]["createdBy"], "system");
}
