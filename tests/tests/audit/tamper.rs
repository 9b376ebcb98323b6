//! `apikeyd events verify` walks the hash chains and catches an event edited in the store.
use tests::backend::Backend;
use tests::binary::{describe, run};
use tests::spawn_app;

#[tokio::test]
async fn edited_removed_and_intact_logs() {
    let app = spawn_app().await;
    if app.backend != Backend::Embedded {
        eprintln!("skipped: edits the SQLite file directly");
        return;
    }
    let key = app.create_key_ok("ledger", "admin").await;
    app.update_key(&key.id, &serde_json::json!({"description": "first"}))
        .await
        .assert_status(200);
    app.update_key(&key.id, &serde_json::json!({"description": "second"}))
        .await
        .assert_status(200);
    let data = app.data_dir.clone();
    drop(app);

    let intact = run(Backend::Embedded, data.path(), &["events", "verify"], &[]).await;
    assert!(intact.status.success(), "{}", describe(&intact));
    assert!(String::from_utf8_lossy(&intact.stdout).contains("chain intact"));

    let history = run(
        Backend::Embedded,
        data.path(),
        &["events", "history", &key.id, "--json"],
        &[],
    )
    .await;
    assert!(history.status.success(), "{}", describe(&history));
    assert_eq!(String::from_utf8_lossy(&history.stdout).lines().count(), 3);

    let db = data.path().join("apikeyd.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE events SET payload = replace(payload, 'first', 'forged') WHERE aggregate_id = ? AND sequence = 2")
        .bind(&key.id)
        .execute(&pool)
        .await
        .unwrap();
    let edited = run(Backend::Embedded, data.path(), &["events", "verify"], &[]).await;
    assert_eq!(edited.status.code(), Some(1), "{}", describe(&edited));
    let out = String::from_utf8_lossy(&edited.stdout);
    assert!(out.contains(&format!("ApiKey:{}#2", key.id)), "{out}");

    sqlx::query(
        "UPDATE events SET payload = replace(payload, 'forged', 'first') WHERE aggregate_id = ?",
    )
    .bind(&key.id)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("DELETE FROM events WHERE aggregate_id = ? AND sequence = 3")
        .bind(&key.id)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let truncated = run(Backend::Embedded, data.path(), &["events", "verify"], &[]).await;
    assert_eq!(truncated.status.code(), Some(1), "{}", describe(&truncated));
    assert!(String::from_utf8_lossy(&truncated.stdout).contains("events removed"));
}
