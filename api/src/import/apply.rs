//! Carrying out a plan. New aggregates (keys, users) are decided by their aggregate's own `handle`
//! and committed many per transaction through the store's bulk path; a batch the store refuses is
//! retried item by item through the command bus, which decides again on what was stored meanwhile.
//! Updates and users known here always go through the bus.
use super::plan::{Plan, UserImport};
use crate::commands::{CommandBus, Metadata};
use crate::config::Settings;
use crate::error::{ApiError, DomainErrorStatus};
use crate::progress::Progress;
use crate::startup::Backend;
use async_trait::async_trait;
use chrono::Utc;
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{PersistenceError, SerializedEvent};
use cqrs_es::{Aggregate, AggregateError, EventEnvelope};
use domain::api_key::{ApiKey, ApiKeyCommand, ImportApiKey};
use domain::role::RoleCommand;
use domain::services::Services;
use domain::user_roles::{UserRoles, UserRolesCommand};
use domain::{Actor, ImportSource};
use infra::bulk::StreamCommit;
use infra::vams::{ItemError, VamsApiKey, VamsTables};
use projections::audit::meta;
use projections::directory::ReadModelDirectory;
use projections::Projector;
use std::sync::Arc;

/// The store's bulk commit for the configured backend.
pub async fn open_bulk(settings: &Settings) -> anyhow::Result<Arc<dyn StreamCommit>> {
    Ok(crate::stores::Store::open(settings).await?.bulk())
}

/// What the writes did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Keys imported.
    pub keys: usize,
    /// Imported keys brought up to date.
    pub key_updates: usize,
    /// Roles imported.
    pub roles: usize,
    /// Roles overwritten.
    pub role_updates: usize,
    /// (user, role) pairs imported.
    pub user_roles: usize,
    /// Items the domain refused at write time (a key created meanwhile took a name, …).
    pub refused: Vec<ItemError>,
}

/// An aggregate the bulk path writes, and how to send one of its commands through the bus instead.
#[async_trait]
trait Target: Aggregate<Services = Services> {
    async fn one(
        bus: &dyn CommandBus,
        id: &str,
        command: Self::Command,
        meta: Metadata,
    ) -> Result<(), AggregateError<Self::Error>>;
}

#[async_trait]
impl Target for ApiKey {
    async fn one(
        bus: &dyn CommandBus,
        id: &str,
        command: ApiKeyCommand,
        meta: Metadata,
    ) -> Result<(), AggregateError<domain::api_key::ApiKeyError>> {
        bus.api_key(id, command, meta).await
    }
}

#[async_trait]
impl Target for UserRoles {
    async fn one(
        bus: &dyn CommandBus,
        id: &str,
        command: UserRolesCommand,
        meta: Metadata,
    ) -> Result<(), AggregateError<domain::user_roles::UserRolesError>> {
        bus.user_roles(id, command, meta).await
    }
}

/// One command for a new aggregate, with the item it came from.
struct Pending<C> {
    id: String,
    command: C,
    table: String,
    item: String,
    /// What it counts for in the report: 1 key, or the user's roles.
    weight: usize,
}

/// Writes a plan into the configured backend.
pub struct Writer<'a> {
    bus: &'a dyn CommandBus,
    projector: Arc<Projector>,
    store: Arc<dyn StreamCommit>,
    services: Services,
    tables: &'a VamsTables,
    progress: &'a Progress,
    meta: Metadata,
    outcome: Outcome,
}

impl<'a> Writer<'a> {
    /// A writer on `backend`'s bus and projector and `store`'s bulk commit.
    pub fn new(
        backend: &'a Backend,
        store: Arc<dyn StreamCommit>,
        admin_roles: &[String],
        tables: &'a VamsTables,
        progress: &'a Progress,
    ) -> Self {
        let meta = Metadata::from([
            (meta::AUTH_METHOD.to_owned(), "import".to_owned()),
            (
                meta::REQUEST_ID.to_owned(),
                uuid::Uuid::new_v4().to_string(),
            ),
        ]);
        Self {
            bus: backend.bus.as_ref(),
            projector: backend.projector.clone(),
            store,
            services: Services::new(Arc::new(ReadModelDirectory::without_catch_up(
                backend.projector.clone(),
                admin_roles,
            ))),
            tables,
            progress,
            meta,
            outcome: Outcome::default(),
        }
    }

    fn source(&self, table: &str) -> ImportSource {
        ImportSource {
            system: "vams".into(),
            table: table.to_owned(),
            imported_by: Actor::system(),
            imported_at: Utc::now(),
        }
    }

    /// Roles, then user roles, then keys, so every key's user holds its roles when the key lands.
    /// An unreachable store stops the run (what was committed stays; a re-run continues).
    pub async fn apply(mut self, plan: &Plan) -> anyhow::Result<Outcome> {
        self.progress.phase("importing", plan.steps() as u64);
        self.roles(plan).await?;
        self.projector.catch_up().await?;
        let users = plan
            .new_users
            .iter()
            .map(|u| self.user_command(u))
            .collect();
        self.outcome.user_roles += self.bulk::<UserRoles>(users).await?;
        for user in &plan.user_additions {
            let pending = self.user_command(user);
            self.outcome.user_roles += self.single::<UserRoles>(pending).await?;
            self.progress.advance(1);
        }
        let keys = plan.new_keys.iter().map(|k| self.key_command(k)).collect();
        self.outcome.keys += self.bulk::<ApiKey>(keys).await?;
        for key in &plan.key_updates {
            let pending = self.key_command(key);
            self.outcome.key_updates += self.single::<ApiKey>(pending).await?;
            self.progress.advance(1);
        }
        self.projector.catch_up().await?;
        self.projector.flush_audit().await?;
        Ok(self.outcome)
    }

    async fn roles(&mut self, plan: &Plan) -> anyhow::Result<()> {
        let roles = plan.new_roles.iter().map(|r| (r, false));
        for (role, update) in roles.chain(plan.role_updates.iter().map(|r| (r, true))) {
            let name = role.definition.role_name.to_string();
            let command = RoleCommand::Import {
                id: role.id,
                definition: role.definition.clone(),
                created_at: role.created_on,
                source: self.source(&self.tables.roles),
            };
            match self.bus.role(&name, command, self.meta.clone()).await {
                Ok(()) if update => self.outcome.role_updates += 1,
                Ok(()) => self.outcome.roles += 1,
                Err(e) => {
                    self.refused(&self.tables.roles.clone(), &format!("roleName={name}"), e)?
                }
            }
            self.progress.advance(1);
        }
        Ok(())
    }

    fn user_command(&self, user: &UserImport) -> Pending<UserRolesCommand> {
        Pending {
            id: user.user_id.to_string(),
            command: UserRolesCommand::Import {
                user_id: user.user_id.clone(),
                roles: user.roles.clone(),
                assigned_at: user.assigned_at,
                source: self.source(&self.tables.user_roles),
            },
            table: self.tables.user_roles.clone(),
            item: format!("userId={}", user.user_id),
            weight: user.roles.len(),
        }
    }

    fn key_command(&self, key: &VamsApiKey) -> Pending<ApiKeyCommand> {
        Pending {
            id: key.api_key_id.to_string(),
            command: ApiKeyCommand::Import(ImportApiKey {
                api_key_id: key.api_key_id,
                name: key.name.clone(),
                user_id: key.user_id.clone(),
                description: key.description.clone(),
                key_hash: key.key_hash,
                expires_at: key.expires_at.map(|e| e.expiration),
                is_active: key.is_active,
                created_by: Actor::recorded(&key.created_by),
                created_at: key.created_at,
                updated_at: key.updated_at,
                source: self.source(&self.tables.api_keys),
            }),
            table: self.tables.api_keys.clone(),
            item: format!("apiKeyId={}", key.api_key_id),
            weight: 1,
        }
    }

    /// Commits new aggregates in batches; returns the weight of what was written.
    async fn bulk<A: Target>(&mut self, pending: Vec<Pending<A::Command>>) -> anyhow::Result<usize>
    where
        A::Command: Clone,
        A::Error: DomainErrorStatus,
    {
        let mut written = 0;
        let mut pending = pending.into_iter().peekable();
        while pending.peek().is_some() {
            let batch: Vec<_> = pending.by_ref().take(self.store.max_streams()).collect();
            let steps = batch.len() as u64;
            written += self.batch::<A>(batch).await?;
            self.projector.catch_up().await?;
            self.progress.advance(steps);
        }
        Ok(written)
    }

    async fn batch<A: Target>(&mut self, batch: Vec<Pending<A::Command>>) -> anyhow::Result<usize>
    where
        A::Command: Clone,
        A::Error: DomainErrorStatus,
    {
        let mut decided = Vec::new();
        for item in batch {
            match decide::<A>(&self.services, &item.id, item.command.clone(), &self.meta).await {
                Ok(events) if events.is_empty() => {}
                Ok(events) => decided.push((item, events)),
                Err(e) => self.refused(&item.table, &item.item, e)?,
            }
        }
        let streams: Vec<&[SerializedEvent]> = decided.iter().map(|(_, e)| e.as_slice()).collect();
        match self.store.commit_streams(&streams).await {
            Ok(()) => Ok(decided.iter().map(|(item, _)| item.weight).sum()),
            Err(PersistenceError::ConnectionError(e)) => Err(anyhow::anyhow!(
                "store unavailable; nothing of this batch was written: {e}"
            )),
            // A sequence or a name was taken meanwhile: let each item be decided again on its own.
            Err(_) => {
                let mut written = 0;
                for (item, _) in decided {
                    written += self.single::<A>(item).await?;
                }
                Ok(written)
            }
        }
    }

    async fn single<A: Target>(&mut self, item: Pending<A::Command>) -> anyhow::Result<usize>
    where
        A::Error: DomainErrorStatus,
    {
        match A::one(self.bus, &item.id, item.command, self.meta.clone()).await {
            Ok(()) => Ok(item.weight),
            Err(e) => self.refused(&item.table, &item.item, e).map(|()| 0),
        }
    }

    /// A refused item is recorded and the run goes on; an unreachable store or a bug stops it.
    fn refused<E: DomainErrorStatus>(
        &mut self,
        table: &str,
        item: &str,
        error: AggregateError<E>,
    ) -> anyhow::Result<()> {
        match ApiError::from(error) {
            ApiError::Unavailable(e) => Err(anyhow::anyhow!("store unavailable: {e}")),
            ApiError::Internal(e) => Err(anyhow::anyhow!("import failed: {e}")),
            other => {
                self.outcome.refused.push(ItemError {
                    table: table.to_owned(),
                    item: item.to_owned(),
                    reason: other.to_string(),
                });
                Ok(())
            }
        }
    }
}

/// The events a command produces on a new aggregate, serialized as the framework would store them.
async fn decide<A: Aggregate>(
    services: &A::Services,
    id: &str,
    command: A::Command,
    meta: &Metadata,
) -> Result<Vec<SerializedEvent>, AggregateError<A::Error>> {
    let mut aggregate = A::default();
    let sink = EventSink::default();
    aggregate
        .handle(command, services, &sink)
        .await
        .map_err(AggregateError::UserError)?;
    let mut serialized = Vec::new();
    for (index, payload) in sink.collect().await.into_iter().enumerate() {
        let envelope = EventEnvelope::<A> {
            aggregate_id: id.to_owned(),
            sequence: index + 1,
            payload,
            metadata: meta.clone(),
        };
        serialized.push(
            SerializedEvent::try_from(&envelope)
                .map_err(|e| AggregateError::UnexpectedError(Box::new(e)))?,
        );
    }
    Ok(serialized)
}
