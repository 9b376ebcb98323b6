//! The command bus: one cqrs-es framework per aggregate over any event repository, behind a trait so
//! routes do not know which backend they run on.
//!
//! Commands on one aggregate queue behind each other in this process (a per-aggregate lock), so
//! ordinary contention never surfaces as a conflict; commands that can take admin access away also
//! queue behind each other and carry the store's admin-guard version (docs/adr/013-admin-guard.md).
//! What still conflicts (another node won) is retried with jittered backoff on the new state.
mod fresh;
mod role_deletion;

pub use fresh::FreshAware;
pub use role_deletion::RoleDeletionError;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::persist::{PersistedEventRepository, PersistedEventStore};
use cqrs_es::{Aggregate, AggregateError, CqrsFramework, Query};
use domain::api_key::{ApiKey, ApiKeyCommand, ApiKeyError};
use domain::role::{Role, RoleCommand, RoleError};
use domain::services::Services;
use domain::user_roles::{UserRoles, UserRolesCommand, UserRolesError};
use domain::{Actor, RoleName, UserId};
use infra::{AdminGuard, ADMIN_GUARD_META};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard};

/// Request context stored with every event (request id, source IP, auth method, actor roles).
pub type Metadata = HashMap<String, String>;

/// How often a command is tried when it keeps losing optimistic-concurrency races to other nodes:
/// each retry reloads the aggregate, so it decides on the state that won.
const CONFLICT_ATTEMPTS: u32 = 8;

/// First backoff ceiling after a lost race; it doubles per attempt up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_millis(10);

/// Largest pause between two attempts.
const MAX_BACKOFF: Duration = Duration::from_millis(500);

/// Aggregate locks per process: aggregates hash onto a fixed set, so memory stays bounded however
/// many aggregates exist (two aggregates sharing a lock merely queue behind each other).
const LOCK_SHARDS: usize = 256;

/// Executes commands against the aggregates.
#[async_trait]
pub trait CommandBus: Send + Sync {
    /// Runs a command on an API key.
    async fn api_key(
        &self,
        id: &str,
        command: ApiKeyCommand,
        meta: Metadata,
    ) -> Result<(), AggregateError<ApiKeyError>>;
    /// Runs a command on a role.
    async fn role(
        &self,
        id: &str,
        command: RoleCommand,
        meta: Metadata,
    ) -> Result<(), AggregateError<RoleError>>;
    /// Runs a command on a user's roles.
    async fn user_roles(
        &self,
        id: &str,
        command: UserRolesCommand,
        meta: Metadata,
    ) -> Result<(), AggregateError<UserRolesError>>;
    /// Takes a role from every holder and deletes it, atomically; returns the former holders.
    async fn delete_role(
        &self,
        role: &RoleName,
        actor: Actor,
        at: DateTime<Utc>,
        meta: Metadata,
    ) -> Result<Vec<UserId>, RoleDeletionError>;
}

/// The locks commands of this process queue on.
struct Locks {
    aggregates: Vec<Mutex<()>>,
    admin_guard: Mutex<()>,
}

impl Locks {
    fn new() -> Self {
        Self {
            aggregates: (0..LOCK_SHARDS).map(|_| Mutex::new(())).collect(),
            admin_guard: Mutex::new(()),
        }
    }

    fn shard(aggregate_type: &str, id: &str) -> usize {
        let mut hasher = DefaultHasher::new();
        (aggregate_type, id).hash(&mut hasher);
        (hasher.finish() % LOCK_SHARDS as u64) as usize
    }

    /// Waits for the locks of several aggregates, in shard order so that two such commands cannot
    /// deadlock (and never for the admin guard's, which single-aggregate commands take last).
    async fn acquire_all(&self, aggregates: &[(&str, &str)]) -> Vec<MutexGuard<'_, ()>> {
        let shards: std::collections::BTreeSet<usize> = aggregates
            .iter()
            .map(|(t, id)| Self::shard(t, id))
            .collect();
        let mut guards = Vec::with_capacity(shards.len());
        for shard in shards {
            guards.push(self.aggregates[shard].lock().await);
        }
        guards
    }

    /// Waits for the lock of one aggregate, then (for a guarded command) for the admin guard's.
    /// Always in that order, and at most one aggregate per command, so no two commands deadlock.
    async fn acquire(
        &self,
        aggregate_type: &str,
        id: &str,
        guarded: bool,
    ) -> (MutexGuard<'_, ()>, Option<MutexGuard<'_, ()>>) {
        let aggregate = self.aggregates[Self::shard(aggregate_type, id)]
            .lock()
            .await;
        let guard = match guarded {
            true => Some(self.admin_guard.lock().await),
            false => None,
        };
        (aggregate, guard)
    }
}

/// A random pause before attempt `attempt + 1` ("full jitter"), so nodes that collided do not
/// collide again in lockstep.
fn backoff(attempt: u32) -> Duration {
    let ceiling = BASE_BACKOFF
        .saturating_mul(1 << attempt.min(16))
        .min(MAX_BACKOFF);
    let random = uuid::Uuid::new_v4().as_u128() as u64;
    Duration::from_micros(random % (ceiling.as_micros() as u64 + 1))
}

/// The frameworks for one repository type.
pub struct Frameworks<R: PersistedEventRepository + Clone + 'static> {
    api_key: CqrsFramework<ApiKey, PersistedEventStore<FreshAware<R>, ApiKey>>,
    role: CqrsFramework<Role, PersistedEventStore<FreshAware<R>, Role>>,
    user_roles: CqrsFramework<UserRoles, PersistedEventStore<FreshAware<R>, UserRoles>>,
    /// What the frameworks load through: new key ids cost no read.
    fresh: FreshAware<R>,
    repo: R,
    services: Services,
    /// Runs after a commit made outside the frameworks (a role deletion).
    after_commit: Box<dyn Query<Role>>,
    locks: Locks,
}

impl<R: PersistedEventRepository + Clone + 'static> Frameworks<R> {
    /// Builds the three frameworks; `query` runs after every commit.
    pub fn new<Q>(repo: R, services: Services, query: impl Fn() -> Q) -> Self
    where
        Q: Query<ApiKey> + Query<Role> + Query<UserRoles> + 'static,
    {
        let fresh = FreshAware::new(repo.clone());
        Self {
            api_key: CqrsFramework::new(
                PersistedEventStore::new_event_store(fresh.clone()),
                vec![Box::new(query())],
                services.clone(),
            ),
            role: CqrsFramework::new(
                PersistedEventStore::new_event_store(fresh.clone()),
                vec![Box::new(query())],
                services.clone(),
            ),
            user_roles: CqrsFramework::new(
                PersistedEventStore::new_event_store(fresh.clone()),
                vec![Box::new(query())],
                services.clone(),
            ),
            fresh,
            repo,
            services,
            after_commit: Box::new(query()),
            locks: Locks::new(),
        }
    }
}

impl<R: PersistedEventRepository + AdminGuard + Clone + 'static> Frameworks<R> {
    /// Runs `command` on one aggregate: queued behind the other commands on it in this process, and
    /// retried with backoff while other nodes win the race. A `guarded` command (one that can take
    /// admin access away) also queues behind the other guarded ones and carries the admin-guard
    /// version read before it decides, which its commit advances on condition it has not moved.
    async fn execute<A>(
        &self,
        framework: &CqrsFramework<A, PersistedEventStore<FreshAware<R>, A>>,
        id: &str,
        command: A::Command,
        guarded: bool,
        meta: Metadata,
    ) -> Result<(), AggregateError<A::Error>>
    where
        A: Aggregate + 'static,
        A::Command: Clone,
    {
        let _locks = self.locks.acquire(A::TYPE, id, guarded).await;
        let mut attempt = 1;
        loop {
            let mut meta = meta.clone();
            if guarded {
                let version = self.repo.admin_guard().await?;
                meta.insert(ADMIN_GUARD_META.to_owned(), version.to_string());
            }
            match framework
                .execute_with_metadata(id, command.clone(), meta)
                .await
            {
                Err(AggregateError::AggregateConflict) if attempt < CONFLICT_ATTEMPTS => {
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
}

#[async_trait]
impl<R: PersistedEventRepository + AdminGuard + Clone + Send + Sync + 'static> CommandBus
    for Frameworks<R>
{
    async fn api_key(
        &self,
        id: &str,
        command: ApiKeyCommand,
        meta: Metadata,
    ) -> Result<(), AggregateError<ApiKeyError>> {
        let guarded = command.can_reduce_admin_access();
        // A create names a fresh random id: its stream is known to be empty.
        let new = matches!(command, ApiKeyCommand::Create(_));
        if new {
            self.fresh.mark(ApiKey::TYPE, id);
        }
        let result = self
            .execute(&self.api_key, id, command, guarded, meta)
            .await;
        if new {
            self.fresh.forget(ApiKey::TYPE, id);
        }
        result
    }

    async fn role(
        &self,
        id: &str,
        command: RoleCommand,
        meta: Metadata,
    ) -> Result<(), AggregateError<RoleError>> {
        self.execute(&self.role, id, command, false, meta).await
    }

    async fn user_roles(
        &self,
        id: &str,
        command: UserRolesCommand,
        meta: Metadata,
    ) -> Result<(), AggregateError<UserRolesError>> {
        let guarded = command.can_reduce_admin_access();
        self.execute(&self.user_roles, id, command, guarded, meta)
            .await
    }

    async fn delete_role(
        &self,
        role: &RoleName,
        actor: Actor,
        at: DateTime<Utc>,
        meta: Metadata,
    ) -> Result<Vec<UserId>, RoleDeletionError> {
        self.delete_role_with_holders(role, &actor, at, meta).await
    }
}
