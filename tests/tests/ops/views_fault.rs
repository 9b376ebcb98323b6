//! The persisted views become unwritable (a trigger raises on every write to a view table): commands
//! and authentication go on from memory at once, `/readyz` reports the views behind, and once the
//! fault clears the views catch up by themselves and `apikeyd projections verify` passes.
use serde_json::json;
use sqlx::SqlitePool;
use std::time::{Duration, Instant};
use tests::backend::Backend;
use tests::binary::{describe, run};
use tests::{spawn_app, TestApp};

/// Every table the projector writes besides the event log itself.
const VIEW_TABLES: [&str; 5] = [
    "api_key_view",
    "api_key_lookup",
    "role_view",
    "user_roles_view",
    "aggregate_versions",
];

async fn set_views_fault(pool: &SqlitePool, on: bool) {
    for table in VIEW_TABLES {
        for op in ["INSERT", "UPDATE", "DELETE"] {
            let trigger = format!("views_fault_{table}_{}", op.to_lowercase());
            let sql = match on {
                true => format!(
                    "CREATE TRIGGER {trigger} BEFORE {op} ON {table} \
                     BEGIN SELECT RAISE(ABORT, 'view table unwritable (test fault)'); END"
                ),
                false => format!("DROP TRIGGER {trigger}"),
            };
            sqlx::query(&sql).execute(pool).await.expect(&sql);
        }
    }
}

async fn ready(app: &TestApp) -> tests::Reply {
    app.get("/readyz").anonymous().send().await
}

#[tokio::test]
async fn commands_and_authentication_do_not_wait_for_the_views() {
    let app = spawn_app().await;
    if app.backend != Backend::Embedded {
        eprintln!("skipped: puts a trigger into the SQLite file");
        return;
    }
    let db = app.data_path().join("apikeyd.db");
    let pool = SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("open the store");
    let paused = app.key_for_new_user("steady", &["reader"]).await;
    ready(&app).await.assert_status(200);

    set_views_fault(&pool, true).await;
    let kept = app.create_key_ok("during-fault", "steady").await;
    app.update_key(
        &kept.id,
        &json!({ "description": "changed during the fault" }),
    )
    .await
    .assert_status(200);
    app.set_active(&paused.id, false).await;
    let gone = app.create_key_ok("deleted-during-fault", "steady").await;
    app.delete_key(&gone.id).await.assert_status(200);
    app.create_role("fault-role").await.assert_status(200);
    app.replace_roles("steady", &["reader", "fault-role"])
        .await
        .assert_status(200);

    app.assert_key_works(&kept.key).await;
    app.assert_key_refused(&paused.key, "DISABLED").await;
    app.assert_key_refused(&gone.key, "NOT_FOUND").await;
    // The listing is served from the persisted views, which cannot take this node's writes: it
    // answers 503 rather than a list missing them.
    app.get("/auth/api-keys").send().await.assert_status(503);

    let during = ready(&app).await;
    during.assert_status(503);
    assert_ne!(
        during.body["appliedCursor"], during.body["persistedCursor"],
        "the lag shows: {}",
        during.text
    );
    assert!(
        during.body["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{}",
        during.text
    );

    set_views_fault(&pool, false).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = ready(&app).await;
        if reply.status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "views never caught up: {}",
            reply.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let listed = app.list_keys().await;
    let item = listed
        .iter()
        .find(|k| k["apiKeyId"] == kept.id.as_str())
        .expect("the key created during the fault is listed once the views caught up");
    assert_eq!(item["description"], "changed during the fault");
    assert!(!listed.iter().any(|k| k["apiKeyId"] == gone.id.as_str()));
    let verify = run(
        Backend::Embedded,
        app.data_path(),
        &["projections", "verify"],
        &[],
    )
    .await;
    assert!(verify.status.success(), "{}", describe(&verify));
}
