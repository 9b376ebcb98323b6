//! Deleting a role takes it from every holder in the same commit: the holders' revocations and the
//! role's deletion are decided by their aggregates and appended in one store transaction, so a
//! failure anywhere leaves every holder as they were.
use super::{backoff, Frameworks, Metadata, CONFLICT_ATTEMPTS};
use crate::error::ApiError;
use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{PersistedEventRepository, PersistedEventStore, SerializedEvent};
use cqrs_es::{Aggregate, AggregateError, DomainEvent, EventStore};
use domain::role::{Role, RoleCommand, RoleError};
use domain::services::Services;
use domain::user_roles::{UserRoles, UserRolesCommand, UserRolesError};
use domain::{Actor, RoleName, UserId};
use infra::{AdminGuard, TransactionTooLarge, ADMIN_GUARD_META};

/// Why a role deletion was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum RoleDeletionError {
    /// The role's own decision or the commit.
    #[error(transparent)]
    Role(AggregateError<RoleError>),
    /// A holder's revocation.
    #[error(transparent)]
    Holder(AggregateError<UserRolesError>),
}

impl From<RoleDeletionError> for ApiError {
    fn from(error: RoleDeletionError) -> Self {
        match error {
            RoleDeletionError::Role(AggregateError::UnexpectedError(e)) => {
                match e.downcast_ref::<TransactionTooLarge>() {
                    Some(too_large) => ApiError::Conflict(format!(
                        "The role has too many holders to delete atomically ({too_large}); \
                         remove it from some holders first"
                    )),
                    None => ApiError::Internal(e.to_string()),
                }
            }
            RoleDeletionError::Role(e) => e.into(),
            RoleDeletionError::Holder(e) => e.into(),
        }
    }
}

/// Decides `command` on aggregate `id` and returns its events, serialized for the store, without
/// committing them.
async fn decide<A, R>(
    repo: &R,
    services: &Services,
    id: &str,
    command: A::Command,
    meta: &Metadata,
) -> Result<Vec<SerializedEvent>, AggregateError<A::Error>>
where
    A: Aggregate<Services = Services>,
    R: PersistedEventRepository + Clone,
{
    let store = PersistedEventStore::<R, A>::new_event_store(repo.clone());
    let mut context = store.load_aggregate(id).await?;
    let sink = EventSink::default();
    context
        .aggregate
        .handle(command, services, &sink)
        .await
        .map_err(AggregateError::UserError)?;
    let metadata = serde_json::to_value(meta)?;
    let mut serialized = Vec::new();
    for (i, event) in sink.collect().await.into_iter().enumerate() {
        serialized.push(SerializedEvent::new(
            id.to_owned(),
            context.current_sequence + i + 1,
            A::TYPE.to_owned(),
            event.event_type(),
            event.event_version(),
            serde_json::to_value(&event)?,
            metadata.clone(),
        ));
    }
    Ok(serialized)
}

impl<R: PersistedEventRepository + AdminGuard + Clone + 'static> Frameworks<R> {
    /// Revokes `role` from every holder and deletes it, in one commit; returns the holders. Retried
    /// with backoff while other nodes win the race.
    pub(super) async fn delete_role_with_holders(
        &self,
        role: &RoleName,
        actor: &Actor,
        at: DateTime<Utc>,
        meta: Metadata,
    ) -> Result<Vec<UserId>, RoleDeletionError> {
        let mut attempt = 1;
        loop {
            match self.try_delete_role(role, actor, at, &meta).await {
                Err(RoleDeletionError::Role(AggregateError::AggregateConflict))
                    if attempt < CONFLICT_ATTEMPTS =>
                {
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    /// One attempt. Holders are read, locked, then read again (one assigned meanwhile starts the
    /// attempt over); the commit carries the admin guard, as every revocation does
    /// (docs/adr/013-admin-guard.md), taken after the aggregates' locks like everywhere else.
    async fn try_delete_role(
        &self,
        role: &RoleName,
        actor: &Actor,
        at: DateTime<Utc>,
        meta: &Metadata,
    ) -> Result<Vec<UserId>, RoleDeletionError> {
        let (holders, _locks) = loop {
            let holders = self.holders_of(role).await?;
            let mut ids = vec![(Role::TYPE, role.as_ref())];
            ids.extend(holders.iter().map(|u| (UserRoles::TYPE, u.as_ref())));
            let locks = self.locks.acquire_all(&ids).await;
            if self.holders_of(role).await? == holders {
                break (holders, locks);
            }
        };
        let _guard = self.locks.admin_guard.lock().await;
        let mut meta = meta.clone();
        let version = self.repo.admin_guard().await;
        let version = version.map_err(|e| RoleDeletionError::Role(e.into()))?;
        meta.insert(ADMIN_GUARD_META.to_owned(), version.to_string());
        let events = self
            .decide_deletion(role, &holders, actor, at, &meta)
            .await?;
        let committed = self.repo.persist::<Role>(&events, None).await;
        committed.map_err(|e| RoleDeletionError::Role(e.into()))?;
        self.after_commit.dispatch(role.as_ref(), &[]).await;
        Ok(holders)
    }

    /// Users holding `role` now.
    async fn holders_of(&self, role: &RoleName) -> Result<Vec<UserId>, RoleDeletionError> {
        let holders = self.services.directory.holders_of(role).await;
        holders.map_err(|e| RoleDeletionError::Holder(AggregateError::UserError(e.into())))
    }

    /// Every holder's revocation, then the role's deletion, decided but not committed.
    async fn decide_deletion(
        &self,
        role: &RoleName,
        holders: &[UserId],
        actor: &Actor,
        at: DateTime<Utc>,
        meta: &Metadata,
    ) -> Result<Vec<SerializedEvent>, RoleDeletionError> {
        let mut events = Vec::new();
        for user_id in holders {
            let revoke = UserRolesCommand::Revoke {
                user_id: user_id.clone(),
                role: role.clone(),
                actor: actor.clone(),
                at,
            };
            let decided =
                decide::<UserRoles, R>(&self.repo, &self.services, user_id.as_ref(), revoke, meta);
            events.extend(decided.await.map_err(RoleDeletionError::Holder)?);
        }
        let delete = RoleCommand::Delete {
            actor: actor.clone(),
            at,
        };
        let decided = decide::<Role, R>(&self.repo, &self.services, role.as_ref(), delete, meta);
        events.extend(decided.await.map_err(RoleDeletionError::Role)?);
        Ok(events)
    }
}
