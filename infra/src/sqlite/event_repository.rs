//! cqrs-es `PersistedEventRepository` over the `events` table, with unique claims in the same
//! transaction.
use super::SqliteStore;
use crate::unique::{guard_version, observed_guard, AdminGuard, ClaimAction, UniqueViolation};
use crate::unique::{ADMIN_GUARD_SCOPE, ADMIN_GUARD_VALUE, RULES};
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

const SELECT_EVENTS: &str =
    "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata
     FROM events WHERE aggregate_type = ? AND aggregate_id = ? AND sequence > ? ORDER BY sequence";

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Infrastructure failures become `ConnectionError` (→ 503); a sequence clash is a lost race.
fn persistence(e: sqlx::Error) -> PersistenceError {
    if is_unique_violation(&e) {
        PersistenceError::OptimisticLockError
    } else {
        PersistenceError::ConnectionError(Box::new(e))
    }
}

fn row_to_event(row: &SqliteRow) -> Result<SerializedEvent, PersistenceError> {
    let text = |col: &str| row.try_get::<String, _>(col).map_err(persistence);
    let sequence: i64 = row.try_get("sequence").map_err(persistence)?;
    Ok(SerializedEvent {
        aggregate_type: text("aggregate_type")?,
        aggregate_id: text("aggregate_id")?,
        sequence: sequence as usize,
        event_type: text("event_type")?,
        event_version: text("event_version")?,
        payload: serde_json::from_str(&text("payload")?)?,
        metadata: serde_json::from_str(&text("metadata")?)?,
    })
}

impl SqliteStore {
    async fn select_events(
        &self,
        aggregate_type: &str,
        id: &str,
        after: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let rows = sqlx::query(SELECT_EVENTS)
            .bind(aggregate_type)
            .bind(id)
            .bind(after as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(persistence)?;
        rows.iter().map(row_to_event).collect()
    }

    async fn replay(&self, events: Vec<SerializedEvent>) -> ReplayStream {
        let (mut feed, stream) = ReplayStream::new(events.len().max(1));
        for event in events {
            // The channel holds every event, so sending cannot block or fail.
            let _ = feed.push(Ok(event)).await;
        }
        stream
    }
}

/// Whether two events belong to one aggregate's stream.
fn same_stream(a: &SerializedEvent, b: &SerializedEvent) -> bool {
    a.aggregate_type == b.aggregate_type && a.aggregate_id == b.aggregate_id
}

/// The link of the event before `event` in its stream (empty for the first event).
async fn previous_link(
    conn: &mut SqliteConnection,
    event: &SerializedEvent,
) -> Result<String, PersistenceError> {
    // Sequences start at 1: a stream's first event has no predecessor to look up.
    if event.sequence <= 1 {
        return Ok(String::new());
    }
    let link: Option<String> = sqlx::query_scalar(
        "SELECT chain_hash FROM events WHERE aggregate_type = ? AND aggregate_id = ? AND sequence = ?",
    )
    .bind(&event.aggregate_type)
    .bind(&event.aggregate_id)
    .bind(event.sequence as i64 - 1)
    .fetch_optional(&mut *conn)
    .await
    .map_err(persistence)?;
    Ok(link.unwrap_or_default())
}

async fn apply_claims(
    conn: &mut SqliteConnection,
    event: &SerializedEvent,
) -> Result<(), PersistenceError> {
    for rule in RULES {
        match rule.action(&event.aggregate_type, &event.event_type, &event.payload) {
            Some(ClaimAction::Claim { scope, value }) => {
                let inserted =
                    sqlx::query("INSERT INTO unique_claims (scope, value, owner) VALUES (?, ?, ?)")
                        .bind(scope)
                        .bind(&value)
                        .bind(&event.aggregate_id)
                        .execute(&mut *conn)
                        .await;
                match inserted {
                    Err(e) if is_unique_violation(&e) => {
                        return Err(PersistenceError::UnknownError(Box::new(UniqueViolation {
                            scope: scope.to_owned(),
                            value,
                        })))
                    }
                    other => other.map_err(persistence)?,
                };
            }
            Some(ClaimAction::Release { scope, .. }) => {
                sqlx::query("DELETE FROM unique_claims WHERE scope = ? AND owner = ?")
                    .bind(scope)
                    .bind(&event.aggregate_id)
                    .execute(&mut *conn)
                    .await
                    .map_err(persistence)?;
            }
            None => {}
        }
    }
    Ok(())
}

/// Moves the admin guard from `observed` to the next version; a guard that moved since is a lost
/// race (the command retries on the new state).
async fn advance_guard(conn: &mut SqliteConnection, observed: u64) -> Result<(), PersistenceError> {
    let next = (observed + 1).to_string();
    let query = if observed == 0 {
        sqlx::query(
            "INSERT INTO unique_claims (scope, value, owner) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(ADMIN_GUARD_SCOPE)
        .bind(ADMIN_GUARD_VALUE)
        .bind(next)
    } else {
        sqlx::query(
            "UPDATE unique_claims SET owner = ? WHERE scope = ? AND value = ? AND owner = ?",
        )
        .bind(next)
        .bind(ADMIN_GUARD_SCOPE)
        .bind(ADMIN_GUARD_VALUE)
        .bind(observed.to_string())
    };
    let done = query.execute(&mut *conn).await.map_err(persistence)?;
    match done.rows_affected() {
        0 => Err(PersistenceError::OptimisticLockError),
        _ => Ok(()),
    }
}

/// Writes one commit (its events, chain links, claims and admin guard) inside the open transaction.
/// Any error leaves the caller to roll back what this wrote.
pub(super) async fn append(
    conn: &mut SqliteConnection,
    events: &[SerializedEvent],
    recorded_at: &str,
) -> Result<(), PersistenceError> {
    let mut previous = String::new();
    for (i, event) in events.iter().enumerate() {
        // A commit may span several aggregates (a role deletion): each stream chains on its own.
        if i == 0 || !same_stream(&events[i - 1], event) {
            previous = previous_link(conn, event).await?;
        }
        let stored = crate::chain::StoredEvent::about_to_store(event);
        let link = stored.expected_link(&previous);
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, recorded_at, chain_hash)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&event.aggregate_type)
        .bind(&event.aggregate_id)
        .bind(event.sequence as i64)
        .bind(&event.event_type)
        .bind(&event.event_version)
        .bind(stored.payload)
        .bind(stored.metadata)
        .bind(recorded_at)
        .bind(&link)
        .execute(&mut *conn)
        .await
        .map_err(persistence)?;
        apply_claims(conn, event).await?;
        previous = link;
    }
    if let Some(observed) = observed_guard(events)? {
        advance_guard(conn, observed).await?;
    }
    Ok(())
}

impl AdminGuard for SqliteStore {
    async fn admin_guard(&self) -> Result<u64, PersistenceError> {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT owner FROM unique_claims WHERE scope = ? AND value = ?")
                .bind(ADMIN_GUARD_SCOPE)
                .bind(ADMIN_GUARD_VALUE)
                .fetch_optional(&self.pool)
                .await
                .map_err(persistence)?;
        guard_version(stored.as_deref())
    }
}

impl PersistedEventRepository for SqliteStore {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.select_events(A::TYPE, aggregate_id, 0).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.select_events(A::TYPE, aggregate_id, last_sequence)
            .await
    }

    /// Aggregates here have a handful of events; snapshots are not used.
    async fn get_snapshot<A: Aggregate>(
        &self,
        _aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        Ok(None)
    }

    /// Queued for the group commit: acknowledged once the batch holding it has committed.
    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        _snapshot: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        self.writer.append(events.to_vec()).await
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        let events = self.select_events(A::TYPE, aggregate_id, 0).await?;
        Ok(self.replay(events).await)
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        let rows = sqlx::query(
            "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata
             FROM events WHERE aggregate_type = ? ORDER BY position",
        )
        .bind(A::TYPE)
        .fetch_all(&self.pool)
        .await
        .map_err(persistence)?;
        let events = rows
            .iter()
            .map(row_to_event)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.replay(events).await)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::unique::ADMIN_GUARD_META;
    use domain::role::Role;
    use domain::user_roles::UserRoles;
    use serde_json::json;

    /// A test event, carrying an observed admin-guard version when `guard` is given.
    pub(in crate::sqlite) fn event(
        aggregate_type: &str,
        id: &str,
        sequence: usize,
        guard: Option<u64>,
    ) -> SerializedEvent {
        let metadata = match guard {
            Some(g) => json!({ ADMIN_GUARD_META: g.to_string() }),
            None => json!({}),
        };
        SerializedEvent::new(
            id.to_owned(),
            sequence,
            aggregate_type.to_owned(),
            "Test".to_owned(),
            "1".to_owned(),
            json!({ "Test": { "n": sequence } }),
            metadata,
        )
    }

    /// A store on a fresh file.
    pub(in crate::sqlite) async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("apikeyd.db"))
            .await
            .unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn a_commit_spanning_aggregates_is_all_or_nothing() {
        let (_dir, store) = store().await;
        let first = [event("UserRoles", "u", 1, None)];
        store.persist::<Role>(&first, None).await.unwrap();
        // The second of three streams clashes: none of the three may be written.
        let batch = [
            event("UserRoles", "v", 1, None),
            event("UserRoles", "u", 1, None),
            event("Role", "r", 1, None),
        ];
        let error = store.persist::<Role>(&batch, None).await.unwrap_err();
        assert!(
            matches!(error, PersistenceError::OptimisticLockError),
            "{error:?}"
        );
        assert!(store.get_events::<UserRoles>("v").await.unwrap().is_empty());
        assert!(store.get_events::<Role>("r").await.unwrap().is_empty());
        let batch = [
            event("UserRoles", "u", 2, None),
            event("Role", "r", 1, None),
        ];
        store.persist::<Role>(&batch, None).await.unwrap();
        assert_eq!(store.get_events::<UserRoles>("u").await.unwrap().len(), 2);
        assert_eq!(store.get_events::<Role>("r").await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_commit_on_a_stale_admin_guard_loses_and_writes_nothing() {
        let (_dir, store) = store().await;
        assert_eq!(store.admin_guard().await.unwrap(), 0);
        let won = [event("ApiKey", "a", 1, Some(0))];
        store.persist::<Role>(&won, None).await.unwrap();
        assert_eq!(store.admin_guard().await.unwrap(), 1);
        for stale in [0, 2] {
            let lost = [event("ApiKey", "b", 1, Some(stale))];
            let error = store.persist::<Role>(&lost, None).await.unwrap_err();
            assert!(
                matches!(error, PersistenceError::OptimisticLockError),
                "{error:?}"
            );
        }
        assert_eq!(store.admin_guard().await.unwrap(), 1);
        assert!(store
            .select_events("ApiKey", "b", 0)
            .await
            .unwrap()
            .is_empty());
        let unguarded = [event("ApiKey", "c", 1, None)];
        store.persist::<Role>(&unguarded, None).await.unwrap();
        let fresh = [event("ApiKey", "b", 1, Some(1))];
        store.persist::<Role>(&fresh, None).await.unwrap();
        assert_eq!(store.admin_guard().await.unwrap(), 2);
    }
}
