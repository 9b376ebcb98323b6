//! Deleting a role takes it from every holder in one commit: afterwards every holder has lost it, the
//! audit trail names each of them, and the persisted views still match the log.
use serde_json::json;
use tests::backend::audit_log;
use tests::binary::{self, describe};
use tests::secrets::read_audit;
use tests::spawn_app;

/// Holders of the deleted role: the first two hold nothing else.
const HOLDERS: [&str; 6] = ["only-1", "only-2", "also-1", "also-2", "also-3", "also-4"];

#[tokio::test]
async fn deleting_a_held_role_takes_it_from_every_holder_at_once() {
    let app = spawn_app().await;
    app.ensure_role("viewer").await;
    app.ensure_role("temp").await;
    let mut keys = Vec::new();
    for (i, user) in HOLDERS.iter().enumerate() {
        let roles: &[&str] = if i < 2 {
            &["temp"]
        } else {
            &["temp", "viewer"]
        };
        keys.push(app.key_for_new_user(user, roles).await);
    }
    let reply = app.delete_role("temp").await;
    assert_eq!(reply.ok(), &json!({ "message": "success" }));

    assert!(app
        .list_roles()
        .await
        .iter()
        .all(|r| r["roleName"] != "temp"));
    for (i, (user, key)) in HOLDERS.iter().zip(&keys).enumerate() {
        let expected: Vec<String> = if i < 2 { vec![] } else { vec!["viewer".into()] };
        assert_eq!(app.roles_of(user).await, expected, "{user}");
        match i < 2 {
            true => app.assert_key_refused(&key.key, "NO_ROLES").await,
            false => app.assert_key_works(&key.key).await,
        }
        let history = app.get(&format!("/forensics/users/{user}")).send().await;
        assert_eq!(
            history.ok()["roles"],
            json!(expected),
            "forensics of {user}"
        );
    }

    let records = read_audit(&audit_log(app.data_path()));
    let deleted = records
        .iter()
        .position(|r| r["action"] == "roleDelete" && r.to_string().contains("temp"))
        .expect("a roleDelete record");
    for user in HOLDERS {
        let revoked = records
            .iter()
            .position(|r| r["action"] == "userRolesRevoke" && r["userId"] == *user)
            .unwrap_or_else(|| panic!("no userRolesRevoke record for {user}"));
        assert!(
            revoked < deleted,
            "{user}'s revocation is recorded before the deletion"
        );
    }

    let output = binary::run(
        app.backend,
        app.data_path(),
        &["projections", "verify"],
        &[],
    )
    .await;
    assert!(
        output.status.success(),
        "projections verify: {}",
        describe(&output)
    );
}

#[tokio::test]
async fn a_deleted_role_created_again_has_no_holders() {
    let app = spawn_app().await;
    app.key_for_new_user("holder", &["temp", "viewer"]).await;
    app.delete_role("temp").await.ok();
    app.create_role("temp").await.ok();
    assert_eq!(app.roles_of("holder").await, vec!["viewer"]);
    app.assign_roles("holder", &["temp"]).await.ok();
    assert_eq!(app.roles_of("holder").await, vec!["temp", "viewer"]);
}
