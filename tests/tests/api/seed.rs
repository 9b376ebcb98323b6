//! Shared set-up: an app with a user holding a role, and editing the embedded store directly to
//! reproduce what an older version left in it.
use std::path::Path;
use std::time::{Duration, Instant};
use tests::{spawn_app, TestApp};

/// An app where `bot` holds `viewer`.
pub async fn app_with_bot() -> TestApp {
    let app = spawn_app().await;
    app.ensure_role("viewer").await;
    app.assign_roles("bot", &["viewer"]).await.ok();
    app
}

/// How long a statement may wait for its row: view rows are written in the background after the
/// command that changed them has answered.
const ROW_DEADLINE: Duration = Duration::from_secs(10);

/// Runs each statement against the SQLite file in `data`, with `binds` as `?1`, `?2`, …, and
/// asserts each changed exactly one row (so a statement that silently matches nothing fails). A
/// statement that matches nothing yet is repeated until its row is there, up to [`ROW_DEADLINE`].
pub async fn edit_sqlite(data: &Path, statements: &[&str], binds: &[&str]) {
    let db = data.join("apikeyd.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    for sql in statements {
        let deadline = Instant::now() + ROW_DEADLINE;
        loop {
            let query = binds
                .iter()
                .fold(sqlx::query(sql), |query, bind| query.bind(*bind));
            let changed = query.execute(&pool).await.unwrap().rows_affected();
            if changed == 0 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            assert_eq!(changed, 1, "{sql} with {binds:?}");
            break;
        }
    }
    pool.close().await;
}
