//! Shared set-up: an app with a user holding a role, and editing the embedded store directly to
//! reproduce what an older version left in it.
use std::path::Path;
use tests::{spawn_app, TestApp};

/// An app where `bot` holds `viewer`.
pub async fn app_with_bot() -> TestApp {
    let app = spawn_app().await;
    app.ensure_role("viewer").await;
    app.assign_roles("bot", &["viewer"]).await.ok();
    app
}

/// Runs each statement against the SQLite file in `data`, with `binds` as `?1`, `?2`, …, and
/// asserts each changed exactly one row (so a statement that silently matches nothing fails).
pub async fn edit_sqlite(data: &Path, statements: &[&str], binds: &[&str]) {
    let db = data.join("apikeyd.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    for sql in statements {
        let query = binds
            .iter()
            .fold(sqlx::query(sql), |query, bind| query.bind(*bind));
        let done = query.execute(&pool).await.unwrap();
        assert_eq!(done.rows_affected(), 1, "{sql} with {binds:?}");
    }
    pool.close().await;
}
