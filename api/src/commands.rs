//! The command bus: one cqrs-es framework per aggregate over any event repository, behind a trait so
//! routes do not know which backend they run on.
use async_trait::async_trait;
use cqrs_es::persist::{PersistedEventRepository, PersistedEventStore};
use cqrs_es::{Aggregate, AggregateError, CqrsFramework, Query};
use domain::api_key::{ApiKey, ApiKeyCommand, ApiKeyError};
use domain::role::{Role, RoleCommand, RoleError};
use domain::services::Services;
use domain::user_roles::{UserRoles, UserRolesCommand, UserRolesError};
use std::collections::HashMap;

/// Request context stored with every event (request id, source IP, auth method, actor roles).
pub type Metadata = HashMap<String, String>;

/// How often a command is retried after losing an optimistic-concurrency race: the retry reloads
/// the aggregate, so it decides on the state that won.
const CONFLICT_ATTEMPTS: usize = 3;

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
}

/// The frameworks for one repository type.
pub struct Frameworks<R: PersistedEventRepository + Clone + 'static> {
    api_key: CqrsFramework<ApiKey, PersistedEventStore<R, ApiKey>>,
    role: CqrsFramework<Role, PersistedEventStore<R, Role>>,
    user_roles: CqrsFramework<UserRoles, PersistedEventStore<R, UserRoles>>,
}

impl<R: PersistedEventRepository + Clone + 'static> Frameworks<R> {
    /// Builds the three frameworks; `query` runs after every commit.
    pub fn new<Q>(repo: R, services: Services, query: impl Fn() -> Q) -> Self
    where
        Q: Query<ApiKey> + Query<Role> + Query<UserRoles> + 'static,
    {
        Self {
            api_key: CqrsFramework::new(
                PersistedEventStore::new_event_store(repo.clone()),
                vec![Box::new(query())],
                services.clone(),
            ),
            role: CqrsFramework::new(
                PersistedEventStore::new_event_store(repo.clone()),
                vec![Box::new(query())],
                services.clone(),
            ),
            user_roles: CqrsFramework::new(
                PersistedEventStore::new_event_store(repo),
                vec![Box::new(query())],
                services,
            ),
        }
    }
}

async fn execute<A, R>(
    framework: &CqrsFramework<A, PersistedEventStore<R, A>>,
    id: &str,
    command: A::Command,
    meta: Metadata,
) -> Result<(), AggregateError<A::Error>>
where
    A: Aggregate + 'static,
    A::Command: Clone,
    R: PersistedEventRepository,
{
    let mut attempt = 1;
    loop {
        match framework
            .execute_with_metadata(id, command.clone(), meta.clone())
            .await
        {
            Err(AggregateError::AggregateConflict) if attempt < CONFLICT_ATTEMPTS => attempt += 1,
            result => return result,
        }
    }
}

#[async_trait]
impl<R: PersistedEventRepository + Clone + 'static> CommandBus for Frameworks<R> {
    async fn api_key(
        &self,
        id: &str,
        command: ApiKeyCommand,
        meta: Metadata,
    ) -> Result<(), AggregateError<ApiKeyError>> {
        execute(&self.api_key, id, command, meta).await
    }

    async fn role(
        &self,
        id: &str,
        command: RoleCommand,
        meta: Metadata,
    ) -> Result<(), AggregateError<RoleError>> {
        execute(&self.role, id, command, meta).await
    }

    async fn user_roles(
        &self,
        id: &str,
        command: UserRolesCommand,
        meta: Metadata,
    ) -> Result<(), AggregateError<UserRolesError>> {
        execute(&self.user_roles, id, command, meta).await
    }
}
