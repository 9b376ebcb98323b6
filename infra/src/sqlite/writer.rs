//! Group commit: every append of this process goes through one writer task, which takes whatever
//! is queued, writes it in one `BEGIN IMMEDIATE` transaction and one fsync, and only then answers
//! each waiting command.
//!
//! SQLite has one writer at a time and `synchronous=FULL` makes every commit wait for the disk, so
//! commands committing one by one queue behind each other's fsync. Sharing the transaction keeps
//! the durability (a command is acknowledged only after the commit holding it is on disk) at a
//! fraction of the cost. Each command is written inside its own savepoint: a lost race, a name
//! clash or a moved admin guard rolls back that command alone and is reported to it as if it had
//! committed on its own. A failure of the transaction itself (disk full, I/O error) fails every
//! command of the batch with a `ConnectionError` (→ 503), never a silent success.
use super::event_repository::append;
use cqrs_es::persist::{PersistenceError, SerializedEvent};
use sqlx::{SqliteConnection, SqlitePool};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Commands waiting for the writer at most; senders wait for room beyond it.
const QUEUE: usize = 4096;

/// Commands per transaction at most, so one batch cannot hold the write lock for long.
const MAX_BATCH: usize = 512;

/// Why a command's append did not commit although the command itself was fine.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The shared transaction failed to begin, to roll a savepoint back or to commit.
    #[error("the group commit failed")]
    Batch(#[source] Arc<sqlx::Error>),
    /// The writer task is gone (the runtime is shutting down).
    #[error("the event store's writer has stopped")]
    Stopped,
}

impl From<WriteError> for PersistenceError {
    fn from(e: WriteError) -> Self {
        PersistenceError::ConnectionError(Box::new(e))
    }
}

/// One command's events, and where to send its outcome.
struct Append {
    events: Vec<SerializedEvent>,
    done: oneshot::Sender<Result<(), PersistenceError>>,
}

/// The queue into this process's writer task; cheap to clone.
#[derive(Clone, Debug)]
pub(super) struct Writer {
    queue: mpsc::Sender<Append>,
}

impl Writer {
    /// Starts the writer task on the current runtime; it ends when the last handle is dropped.
    pub(super) fn spawn(pool: SqlitePool) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, receiver));
        Self { queue }
    }

    /// Appends one command's events; returns once the batch holding them has committed.
    pub(super) async fn append(
        &self,
        events: Vec<SerializedEvent>,
    ) -> Result<(), PersistenceError> {
        let (done, outcome) = oneshot::channel();
        self.queue
            .send(Append { events, done })
            .await
            .map_err(|_| WriteError::Stopped)?;
        outcome.await.map_err(|_| WriteError::Stopped)?
    }
}

impl super::SqliteStore {
    /// Appends many commits in one transaction, each in its own savepoint exactly as the group
    /// commit writes them (bulk seeding); one outcome per commit, in order.
    pub async fn append_batch(
        &self,
        commits: &[&[SerializedEvent]],
    ) -> Vec<Result<(), PersistenceError>> {
        commit_batch(&self.pool, commits).await
    }
}

async fn run(pool: SqlitePool, mut receiver: mpsc::Receiver<Append>) {
    let mut queued = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut queued, MAX_BATCH).await > 0 {
        let commits: Vec<&[SerializedEvent]> = queued.iter().map(|a| &a.events[..]).collect();
        let outcomes = commit_batch(&pool, &commits).await;
        for (append, outcome) in queued.drain(..).zip(outcomes) {
            // A command whose caller went away (request cancelled) is committed all the same.
            let _ = append.done.send(outcome);
        }
    }
}

/// Writes `commits` in one transaction, each in its own savepoint; one outcome per commit, in order.
pub(super) async fn commit_batch(
    pool: &SqlitePool,
    commits: &[&[SerializedEvent]],
) -> Vec<Result<(), PersistenceError>> {
    let mut connection = match pool.acquire().await {
        Ok(connection) => connection,
        Err(e) => return failed(commits.len(), e),
    };
    match write_batch(&mut connection, commits).await {
        Ok(outcomes) => outcomes,
        Err(e) => {
            // SQLite may have ended the transaction itself; whatever state the connection is in,
            // it does not go back to the pool.
            let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
            let _ = connection.close().await;
            failed(commits.len(), e)
        }
    }
}

/// The transaction itself, in plain SQL (the savepoints are ours, not the driver's): `Err` when it
/// could not begin, a savepoint could not be rolled back or it could not commit.
async fn write_batch(
    connection: &mut SqliteConnection,
    commits: &[&[SerializedEvent]],
) -> Result<Vec<Result<(), PersistenceError>>, sqlx::Error> {
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *connection)
        .await?;
    let recorded_at = crate::stored_time::write(chrono::Utc::now());
    let mut outcomes = Vec::with_capacity(commits.len());
    for events in commits {
        outcomes.push(in_savepoint(connection, events, &recorded_at).await?);
    }
    let end = match outcomes.iter().any(Result::is_ok) {
        true => "COMMIT",
        false => "ROLLBACK",
    };
    sqlx::query(end).execute(&mut *connection).await?;
    Ok(outcomes)
}

/// One command inside a savepoint: `Ok(outcome)` for the command, `Err` when the savepoint itself
/// failed and the whole transaction must be abandoned.
async fn in_savepoint(
    connection: &mut SqliteConnection,
    events: &[SerializedEvent],
    recorded_at: &str,
) -> Result<Result<(), PersistenceError>, sqlx::Error> {
    sqlx::query("SAVEPOINT command")
        .execute(&mut *connection)
        .await?;
    let outcome = append(connection, events, recorded_at).await;
    if outcome.is_err() {
        sqlx::query("ROLLBACK TO command")
            .execute(&mut *connection)
            .await?;
    }
    sqlx::query("RELEASE command")
        .execute(&mut *connection)
        .await?;
    Ok(outcome)
}

/// Every command of a batch fails with the transaction's error.
fn failed(commits: usize, error: sqlx::Error) -> Vec<Result<(), PersistenceError>> {
    tracing::error!(%error, commits, "group commit failed");
    let error = Arc::new(error);
    (0..commits)
        .map(|_| Err(WriteError::Batch(error.clone()).into()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::event_repository::tests::{event as test_event, store};
    use crate::unique::UniqueViolation;
    use crate::SqliteStore;
    use serde_json::json;

    fn event(aggregate_type: &str, id: &str, sequence: usize) -> SerializedEvent {
        test_event(aggregate_type, id, sequence, None)
    }

    fn created(id: &str, name: &str) -> SerializedEvent {
        let mut e = event("ApiKey", id, 1);
        e.event_type = "ApiKeyCreated".to_owned();
        e.payload = json!({ "ApiKeyCreated": { "api_key_name": name } });
        e
    }

    fn guarded(id: &str, observed: u64) -> SerializedEvent {
        test_event("ApiKey", id, 1, Some(observed))
    }

    async fn stored(store: &SqliteStore) -> Vec<String> {
        sqlx::query_scalar("SELECT aggregate_id FROM events ORDER BY position")
            .fetch_all(store.pool())
            .await
            .unwrap()
    }

    async fn batch(store: &SqliteStore, commits: &[Vec<SerializedEvent>]) -> Vec<String> {
        let commits: Vec<&[SerializedEvent]> = commits.iter().map(|c| &c[..]).collect();
        commit_batch(store.pool(), &commits)
            .await
            .into_iter()
            .map(|outcome| match outcome {
                Ok(()) => "ok".to_owned(),
                Err(PersistenceError::OptimisticLockError) => "lost race".to_owned(),
                Err(PersistenceError::UnknownError(e)) if e.is::<UniqueViolation>() => {
                    "name taken".to_owned()
                }
                Err(PersistenceError::ConnectionError(e)) if e.is::<WriteError>() => {
                    "batch failed".to_owned()
                }
                Err(other) => format!("{other:?}"),
            })
            .collect()
    }

    #[tokio::test]
    async fn a_lost_race_in_the_middle_of_a_batch_rolls_back_only_its_command() {
        let (_dir, store) = store().await;
        store
            .writer
            .append(vec![event("UserRoles", "u", 1)])
            .await
            .unwrap();
        let outcomes = batch(
            &store,
            &[
                vec![event("Role", "a", 1)],
                vec![event("UserRoles", "v", 1), event("UserRoles", "u", 1)],
                vec![event("Role", "c", 1)],
            ],
        )
        .await;
        assert_eq!(outcomes, ["ok", "lost race", "ok"]);
        assert_eq!(stored(&store).await, ["u", "a", "c"]);
    }

    #[tokio::test]
    async fn a_name_clash_inside_a_batch_fails_only_the_later_claim() {
        let (_dir, store) = store().await;
        let outcomes = batch(
            &store,
            &[
                vec![created("a", "same")],
                vec![created("b", "same")],
                vec![created("c", "other")],
            ],
        )
        .await;
        assert_eq!(outcomes, ["ok", "name taken", "ok"]);
        assert_eq!(stored(&store).await, ["a", "c"]);
    }

    #[tokio::test]
    async fn a_stale_admin_guard_inside_a_batch_fails_only_its_command() {
        let (_dir, store) = store().await;
        let outcomes = batch(
            &store,
            &[
                vec![guarded("a", 0)],
                vec![guarded("b", 0)],
                vec![event("ApiKey", "c", 1)],
                vec![guarded("d", 1)],
            ],
        )
        .await;
        assert_eq!(outcomes, ["ok", "lost race", "ok", "ok"]);
        assert_eq!(stored(&store).await, ["a", "c", "d"]);
        use crate::unique::AdminGuard;
        assert_eq!(store.admin_guard().await.unwrap(), 2);
    }

    #[tokio::test]
    async fn a_failed_transaction_fails_every_command_of_the_batch() {
        let (_dir, store) = store().await;
        // RAISE(ROLLBACK) ends the whole transaction, as an I/O error would.
        sqlx::query(
            "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.aggregate_id = 'poison'
             BEGIN SELECT RAISE(ROLLBACK, 'disk on fire'); END",
        )
        .execute(store.pool())
        .await
        .unwrap();
        let outcomes = batch(
            &store,
            &[
                vec![event("Role", "a", 1)],
                vec![event("Role", "poison", 1)],
                vec![event("Role", "c", 1)],
            ],
        )
        .await;
        assert_eq!(outcomes, ["batch failed"; 3]);
        assert!(stored(&store).await.is_empty());
        store
            .writer
            .append(vec![event("Role", "a", 1)])
            .await
            .unwrap();
        assert_eq!(stored(&store).await, ["a"]);
    }

    #[tokio::test]
    async fn concurrent_appends_are_all_committed_and_acknowledged() {
        let (_dir, store) = store().await;
        let appends = (0..200).map(|i| {
            let writer = store.writer.clone();
            tokio::spawn(async move {
                writer
                    .append(vec![event("Role", &format!("r{i}"), 1)])
                    .await
            })
        });
        for append in futures::future::join_all(appends).await {
            append.unwrap().unwrap();
        }
        assert_eq!(stored(&store).await.len(), 200);
    }
}
