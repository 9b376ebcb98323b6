//! What the import refuses before writing anything (a missing table, a table that is not VAMS's),
//! and the dry run, which plans the whole import and writes nothing.
use crate::env::Emulators;
use crate::fixture::{import_json, run, Fixture};
use serde_json::json;
use tests::{spawn_app_on, Backend};

#[tokio::test]
async fn a_missing_or_foreign_table_fails_naming_it_and_writes_nothing() {
    if Emulators::or_skip("import bad tables").is_none() {
        return;
    }
    let app = spawn_app_on(Backend::Embedded).await;
    let fixture = Fixture::fill().await;
    let missing = format!("{}-gone", fixture.vams.api_keys);
    let cases = [
        (
            vec!["--api-keys-table", missing.as_str()],
            format!("VAMS table '{missing}' does not exist"),
        ),
        (
            // The user-roles table has a sort key; VAMS's roles table has none.
            vec!["--roles-table", fixture.vams.user_roles.as_str()],
            format!(
                "table '{}' does not have the schema of VAMS's RolesStorageTable: expected partition key roleName, sort key none, found partition key userId, sort key roleName",
                fixture.vams.user_roles
            ),
        ),
    ];
    for (override_args, message) in cases {
        let mut args = fixture.args(&[]);
        let flag = args
            .iter()
            .position(|a| *a == override_args[0])
            .expect("a table flag");
        args[flag + 1] = override_args[1];
        let output = run(&app, &args).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{message}: {stderr}");
        assert!(
            stderr.contains(&message),
            "expected {message:?} in {stderr}"
        );
    }
    assert_eq!(app.list_keys().await.len(), 1, "only the bootstrap key");
}

#[tokio::test]
async fn a_dry_run_prints_the_plan_and_writes_nothing() {
    if Emulators::or_skip("import dry run").is_none() {
        return;
    }
    let app = spawn_app_on(Backend::Embedded).await;
    let fixture = Fixture::fill().await;
    let events_before = run(&app, &["events", "verify"]).await.stdout;
    let audit = tests::backend::audit_log(app.data_path());
    let audit_before = tests::secrets::read_or_empty(&audit);

    let (code, plan, _) = import_json(&app, &fixture, &["--dry-run"]).await;
    assert_eq!(
        code,
        Some(1),
        "the broken item is reported in a dry run too"
    );
    assert_eq!(plan["dryRun"], true);
    assert_eq!(
        plan["imported"],
        json!({"apiKeys": 11, "roles": 1, "userRoles": 3}),
        "{plan}"
    );
    assert_eq!(
        plan["conversions"].as_array().map(Vec::len),
        Some(4),
        "{plan}"
    );
    assert_eq!(
        plan["errors"][0]["item"],
        format!("apiKeyId={}", fixture.broken_id)
    );

    let text = run(&app, &fixture.args(&["--dry-run"])).await;
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("dry run: nothing was written"), "{text}");
    assert!(
        text.contains("to import  11 API keys, 1 roles, 3 user roles"),
        "{text}"
    );

    assert_eq!(
        run(&app, &["events", "verify"]).await.stdout,
        events_before,
        "no event written"
    );
    assert_eq!(
        tests::secrets::read_or_empty(&audit),
        audit_before,
        "no audit record written"
    );
    assert_eq!(app.list_keys().await.len(), 1, "only the bootstrap key");
    for case in &fixture.imported {
        assert_eq!(app.verify_code(&case.plaintext).await, "NOT_FOUND");
    }
}
