//! The API key aggregate: all decisions in `handle`, none in `apply`.
use super::{ApiKeyChanges, ApiKeyCommand, ApiKeyError, ApiKeyEvent, Change};
use super::{CreateApiKey, DeleteApiKey, UpdateApiKey};
use crate::admin_access::{AccessChange, KeyAfter};
use crate::services::Services;
use crate::{ApiKeyName, Description, Expiration, UserId};
use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

mod import;
mod policy;
mod rotation;

pub use rotation::Grace;

/// An API key's write-side state: just what decisions need.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    state: Lifecycle,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
enum Lifecycle {
    #[default]
    New,
    Live(LiveKey),
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LiveKey {
    id: Uuid,
    name: ApiKeyName,
    user_id: UserId,
    description: Description,
    expires_at: Option<Expiration>,
    is_active: bool,
    /// Kept so an import can never swap the hash of a live key.
    key_hash: crate::KeyHash,
    /// The previous secret while a rotation's grace runs.
    #[serde(default)]
    previous: Option<Grace>,
    /// Set by a leak report, cleared by the next rotation.
    #[serde(default)]
    exposed: bool,
    /// Role scope, rate limit, networks and metadata (boxed: most keys have none, and the state
    /// stays small).
    #[serde(default)]
    policy: Box<crate::KeyPolicy>,
}

impl Aggregate for ApiKey {
    const TYPE: &'static str = "ApiKey";
    type Command = ApiKeyCommand;
    type Event = ApiKeyEvent;
    type Error = ApiKeyError;
    type Services = Services;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            ApiKeyCommand::Create(create) => self.create(create, services).await?,
            ApiKeyCommand::Update(update) => self.update(update, services).await?,
            ApiKeyCommand::Delete(delete) => self.delete(delete, services).await?,
            ApiKeyCommand::Import(import) => self.import(import, services).await?,
            ApiKeyCommand::Rotate(rotate) => self.rotate(rotate)?,
            ApiKeyCommand::Expose(expose) => self.expose(expose)?,
        };
        if let Some(event) = event {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            ApiKeyEvent::ApiKeyCreated {
                api_key_id,
                api_key_name,
                user_id,
                description,
                expires_at,
                key_hash,
                policy,
                ..
            } => {
                self.state = Lifecycle::Live(LiveKey {
                    id: api_key_id,
                    name: api_key_name,
                    user_id,
                    description,
                    expires_at,
                    is_active: true,
                    key_hash,
                    previous: None,
                    exposed: false,
                    policy: Box::new(policy),
                })
            }
            ApiKeyEvent::ApiKeyImported { .. } => self.state = import::live_from(event),
            ApiKeyEvent::ApiKeyUpdated { changes, .. }
            | ApiKeyEvent::ApiKeyImportUpdated { changes, .. } => {
                if let Lifecycle::Live(key) = &mut self.state {
                    key.apply(changes);
                }
            }
            ApiKeyEvent::ApiKeyDeleted { .. } => self.state = Lifecycle::Deleted,
            ApiKeyEvent::ApiKeyRotated { .. } | ApiKeyEvent::ApiKeyExposed { .. } => {
                if let Lifecycle::Live(key) = &mut self.state {
                    key.apply_secret_event(event);
                }
            }
        }
    }
}

impl LiveKey {
    fn apply(&mut self, changes: ApiKeyChanges) {
        if changes.changes_policy() {
            *self.policy = changes.policy_after(&self.policy);
        }
        if let Some(c) = changes.description {
            self.description = c.new;
        }
        if let Some(c) = changes.expires_at {
            self.expires_at = c.new;
        }
        if let Some(c) = changes.is_active {
            self.is_active = c.new;
            // Deactivating stops every secret; reactivating does not revive a grace.
            if !c.new {
                self.previous = None;
            }
        }
    }
}

impl LiveKey {
    /// The fields that would change; `None` leaves a field as it is.
    fn changes_to(
        &self,
        description: Option<Description>,
        expires_at: Option<Option<Expiration>>,
        is_active: Option<bool>,
    ) -> ApiKeyChanges {
        ApiKeyChanges {
            description: change(&self.description, description),
            expires_at: change(&self.expires_at, expires_at),
            is_active: change(&self.is_active, is_active),
            ..ApiKeyChanges::default()
        }
    }

    /// Refuses `changes` when they deactivate or expire the last live admin key (an update or a
    /// re-import); changes to the description alone never ask.
    async fn keep_admin_access_after(
        &self,
        changes: &ApiKeyChanges,
        at: DateTime<Utc>,
        services: &Services,
        origin: Option<std::net::IpAddr>,
    ) -> Result<(), ApiKeyError> {
        // New networks that exclude the address the change comes from: the administrator making
        // it could not use the key afterwards, so the key counts as gone.
        let shuts_out = changes.allowed_cidrs.as_ref().is_some_and(|c| {
            c.new
                .as_ref()
                .zip(origin)
                .is_some_and(|(cidrs, ip)| !cidrs.contains(ip))
        });
        if changes.is_active.is_none()
            && changes.expires_at.is_none()
            && changes.roles.is_none()
            && !shuts_out
        {
            return Ok(());
        }
        let after = KeyAfter {
            is_active: !shuts_out && changes.is_active.as_ref().map_or(self.is_active, |c| c.new),
            expires_at: changes
                .expires_at
                .as_ref()
                .map_or(self.expires_at, |c| c.new)
                .map(|e| e.at()),
            scope: changes
                .roles
                .as_ref()
                .map_or_else(|| self.policy.roles.clone(), |c| c.new.clone()),
        };
        self.keep_admin_access(Some(after), at, services).await
    }

    /// Refuses to leave this key as `after` (`None`: deleted) when it is the last live admin key.
    async fn keep_admin_access(
        &self,
        after: Option<KeyAfter>,
        at: DateTime<Utc>,
        services: &Services,
    ) -> Result<(), ApiKeyError> {
        let access = services.directory.admin_access().await?;
        let change = AccessChange::Key {
            api_key_id: self.id,
            after,
        };
        Ok(access.check(&change, at)?)
    }
}

/// `Some(Change)` when `new` differs from `old`.
fn change<T: PartialEq + Clone>(old: &T, new: Option<T>) -> Option<Change<T>> {
    new.filter(|n| n != old).map(|n| Change {
        old: old.clone(),
        new: n,
    })
}

impl ApiKey {
    async fn create(
        &self,
        cmd: CreateApiKey,
        services: &Services,
    ) -> Result<Option<ApiKeyEvent>, ApiKeyError> {
        if !matches!(self.state, Lifecycle::New) {
            return Err(ApiKeyError::AlreadyExists);
        }
        if services.directory.key_name_in_use(&cmd.name).await? {
            return Err(ApiKeyError::NameTaken(cmd.name.to_string()));
        }
        let held = services.directory.roles_of(&cmd.user_id).await?;
        if held.is_empty() {
            return Err(ApiKeyError::UserHasNoRoles(cmd.user_id.to_string()));
        }
        policy::scope_within(cmd.policy.roles.as_ref(), &held, &cmd.user_id)?;
        Ok(Some(ApiKeyEvent::ApiKeyCreated {
            api_key_id: cmd.api_key_id,
            api_key_name: cmd.name,
            user_id: cmd.user_id,
            description: cmd.description,
            key_hash: cmd.key_hash,
            expires_at: cmd.expires_at,
            created_by: cmd.actor,
            created_at: cmd.at,
            policy: cmd.policy,
        }))
    }

    /// An update that changes nothing is accepted and records nothing.
    async fn update(
        &self,
        cmd: UpdateApiKey,
        services: &Services,
    ) -> Result<Option<ApiKeyEvent>, ApiKeyError> {
        let Lifecycle::Live(key) = &self.state else {
            return Err(ApiKeyError::NotFound);
        };
        if cmd.description.is_none()
            && cmd.expires_at.is_none()
            && cmd.is_active.is_none()
            && cmd.policy.is_empty()
        {
            return Err(ApiKeyError::NothingToUpdate);
        }
        let settings = key.policy_changes(&cmd.policy, services).await?;
        let changes = ApiKeyChanges {
            roles: settings.roles,
            rate_limit: settings.rate_limit,
            allowed_cidrs: settings.allowed_cidrs,
            meta: settings.meta,
            ..key.changes_to(cmd.description, cmd.expires_at, cmd.is_active)
        };
        if changes.is_empty() {
            return Ok(None);
        }
        key.keep_admin_access_after(&changes, cmd.at, services, cmd.origin)
            .await?;
        Ok(Some(ApiKeyEvent::ApiKeyUpdated {
            api_key_id: key.id,
            api_key_name: key.name.clone(),
            user_id: key.user_id.clone(),
            changes,
            updated_by: cmd.actor,
            updated_at: cmd.at,
        }))
    }

    async fn delete(
        &self,
        cmd: DeleteApiKey,
        services: &Services,
    ) -> Result<Option<ApiKeyEvent>, ApiKeyError> {
        let Lifecycle::Live(key) = &self.state else {
            return Err(ApiKeyError::NotFound);
        };
        key.keep_admin_access(None, cmd.at, services).await?;
        Ok(Some(ApiKeyEvent::ApiKeyDeleted {
            api_key_id: key.id,
            api_key_name: key.name.clone(),
            user_id: key.user_id.clone(),
            deleted_by: cmd.actor,
            deleted_at: cmd.at,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin_access::{AdminAccess, AdminKey, LastAdminKey};
    use crate::services::{Directory, DirectoryUnavailable};
    use crate::{Actor, KeyHash, RoleName};
    use async_trait::async_trait;
    use chrono::{DateTime, TimeZone, Utc};
    use cqrs_es::test::TestFramework;
    use std::sync::Arc;

    /// A directory with fixed answers: `alice` has a role, `bob` has none, `taken` is a used name,
    /// and `admins` are the active admin keys.
    struct FixedDirectory {
        up: bool,
        admins: Vec<AdminKey>,
    }

    #[async_trait]
    impl Directory for FixedDirectory {
        async fn roles_of(&self, user: &UserId) -> Result<Vec<RoleName>, DirectoryUnavailable> {
            if !self.up {
                return Err(DirectoryUnavailable("down".into()));
            }
            Ok(match user.as_ref() {
                "alice" => vec![
                    RoleName::parse("admin").unwrap(),
                    RoleName::parse("ci").unwrap(),
                ],
                _ => vec![],
            })
        }
        async fn holders_of(&self, _: &RoleName) -> Result<Vec<UserId>, DirectoryUnavailable> {
            Ok(vec![])
        }
        async fn role_exists(&self, _: &RoleName) -> Result<bool, DirectoryUnavailable> {
            Ok(true)
        }
        async fn key_name_in_use(&self, name: &ApiKeyName) -> Result<bool, DirectoryUnavailable> {
            if !self.up {
                return Err(DirectoryUnavailable("down".into()));
            }
            Ok(name.as_ref() == "taken")
        }
        async fn admin_access(&self) -> Result<AdminAccess, DirectoryUnavailable> {
            Ok(AdminAccess {
                admin_roles: [RoleName::parse("admin").unwrap()].into(),
                keys: self.admins.clone(),
            })
        }
    }

    fn framework(up: bool) -> TestFramework<ApiKey> {
        with_admin_keys(up, vec![])
    }

    /// Keys `ids` are the active admin keys (all of `alice`, never expiring).
    fn with_admin_keys(up: bool, ids: Vec<Uuid>) -> TestFramework<ApiKey> {
        let admins = ids
            .into_iter()
            .map(|api_key_id| AdminKey {
                api_key_id,
                user_id: UserId::parse("alice").unwrap(),
                expires_at: None,
                held: [RoleName::parse("admin").unwrap()].into(),
                scope: None,
            })
            .collect();
        TestFramework::with(Services::new(Arc::new(FixedDirectory { up, admins })))
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    fn id() -> Uuid {
        Uuid::from_u128(7)
    }

    fn expiry(raw: &str) -> Option<Expiration> {
        Expiration::parse(raw, at()).unwrap()
    }

    fn create_cmd(name: &str, user: &str) -> ApiKeyCommand {
        ApiKeyCommand::Create(CreateApiKey {
            api_key_id: id(),
            name: ApiKeyName::parse(name).unwrap(),
            user_id: UserId::parse(user).unwrap(),
            description: Description::parse("ci").unwrap(),
            expires_at: expiry("2027-01-01"),
            key_hash: KeyHash::of("vams_test"),
            policy: crate::KeyPolicy::default(),
            actor: Actor::system(),
            at: at(),
        })
    }

    fn created() -> ApiKeyEvent {
        ApiKeyEvent::ApiKeyCreated {
            api_key_id: id(),
            api_key_name: ApiKeyName::parse("ci").unwrap(),
            user_id: UserId::parse("alice").unwrap(),
            description: Description::parse("ci").unwrap(),
            key_hash: KeyHash::of("vams_test"),
            expires_at: expiry("2027-01-01"),
            created_by: Actor::system(),
            created_at: at(),
            policy: crate::KeyPolicy::default(),
        }
    }

    fn deleted() -> ApiKeyEvent {
        ApiKeyEvent::ApiKeyDeleted {
            api_key_id: id(),
            api_key_name: ApiKeyName::parse("ci").unwrap(),
            user_id: UserId::parse("alice").unwrap(),
            deleted_by: Actor::system(),
            deleted_at: at(),
        }
    }

    fn updated(changes: ApiKeyChanges) -> ApiKeyEvent {
        ApiKeyEvent::ApiKeyUpdated {
            api_key_id: id(),
            api_key_name: ApiKeyName::parse("ci").unwrap(),
            user_id: UserId::parse("alice").unwrap(),
            changes,
            updated_by: Actor::system(),
            updated_at: at(),
        }
    }

    fn update(
        description: Option<&str>,
        expires: Option<Option<Expiration>>,
        active: Option<bool>,
    ) -> ApiKeyCommand {
        ApiKeyCommand::Update(UpdateApiKey {
            description: description.map(|d| Description::parse(d).unwrap()),
            expires_at: expires,
            is_active: active,
            policy: crate::PolicyUpdate::default(),
            origin: None,
            actor: Actor::system(),
            at: at(),
        })
    }

    #[tokio::test]
    async fn create_issues_key_for_user_with_roles() {
        framework(true)
            .given_no_previous_events()
            .when_async(create_cmd("ci", "alice"))
            .await
            .then_expect_events(vec![created()]);
    }

    #[tokio::test]
    async fn create_refuses_user_without_roles() {
        framework(true)
            .given_no_previous_events()
            .when_async(create_cmd("ci", "bob"))
            .await
            .then_expect_error(ApiKeyError::UserHasNoRoles("bob".into()));
    }

    #[tokio::test]
    async fn create_refuses_taken_name() {
        framework(true)
            .given_no_previous_events()
            .when_async(create_cmd("taken", "alice"))
            .await
            .then_expect_error(ApiKeyError::NameTaken("taken".into()));
    }

    #[tokio::test]
    async fn create_twice_is_refused() {
        framework(true)
            .given(vec![created()])
            .when_async(create_cmd("ci", "alice"))
            .await
            .then_expect_error(ApiKeyError::AlreadyExists);
    }

    #[tokio::test]
    async fn create_fails_closed_when_directory_is_down() {
        framework(false)
            .given_no_previous_events()
            .when_async(create_cmd("ci", "alice"))
            .await
            .then_expect_error(ApiKeyError::Unavailable(DirectoryUnavailable(
                "down".into(),
            )));
    }

    #[tokio::test]
    async fn update_records_only_changed_fields_with_old_and_new() {
        framework(true)
            .given(vec![created()])
            .when_async(update(Some("ci"), Some(None), Some(false)))
            .await
            .then_expect_events(vec![updated(ApiKeyChanges {
                description: None,
                expires_at: Some(Change {
                    old: expiry("2027-01-01"),
                    new: None,
                }),
                is_active: Some(Change {
                    old: true,
                    new: false,
                }),
                ..ApiKeyChanges::default()
            })]);
    }

    #[tokio::test]
    async fn update_that_changes_nothing_records_nothing() {
        framework(true)
            .given(vec![created()])
            .when_async(update(Some("ci"), None, Some(true)))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn update_without_fields_is_refused() {
        framework(true)
            .given(vec![created()])
            .when_async(update(None, None, None))
            .await
            .then_expect_error(ApiKeyError::NothingToUpdate);
    }

    #[tokio::test]
    async fn update_unknown_or_deleted_key_is_not_found() {
        framework(true)
            .given_no_previous_events()
            .when_async(update(Some("x"), None, None))
            .await
            .then_expect_error(ApiKeyError::NotFound);
        framework(true)
            .given(vec![created(), deleted()])
            .when_async(update(None, None, Some(true)))
            .await
            .then_expect_error(ApiKeyError::NotFound);
    }

    #[tokio::test]
    async fn delete_records_name_and_user_for_audit() {
        framework(true)
            .given(vec![created()])
            .when_async(ApiKeyCommand::Delete(DeleteApiKey {
                actor: Actor::system(),
                at: at(),
            }))
            .await
            .then_expect_events(vec![deleted()]);
    }

    #[tokio::test]
    async fn deleted_key_accepts_no_command() {
        let delete = ApiKeyCommand::Delete(DeleteApiKey {
            actor: Actor::system(),
            at: at(),
        });
        framework(true)
            .given(vec![created(), deleted()])
            .when_async(delete)
            .await
            .then_expect_error(ApiKeyError::NotFound);
        framework(true)
            .given(vec![created(), deleted()])
            .when_async(create_cmd("ci", "alice"))
            .await
            .then_expect_error(ApiKeyError::AlreadyExists);
    }

    fn delete_cmd() -> ApiKeyCommand {
        ApiKeyCommand::Delete(DeleteApiKey {
            actor: Actor::system(),
            at: at(),
        })
    }

    #[tokio::test]
    async fn the_last_admin_key_cannot_be_deleted_or_deactivated() {
        for command in [delete_cmd(), update(None, None, Some(false))] {
            with_admin_keys(true, vec![id()])
                .given(vec![created()])
                .when_async(command)
                .await
                .then_expect_error(ApiKeyError::LastAdminKey(LastAdminKey));
        }
    }

    #[tokio::test]
    async fn an_admin_key_goes_while_another_remains() {
        with_admin_keys(true, vec![id(), Uuid::from_u128(8)])
            .given(vec![created()])
            .when_async(delete_cmd())
            .await
            .then_expect_events(vec![deleted()]);
    }

    #[tokio::test]
    async fn the_last_admin_key_may_change_its_description_and_get_a_future_expiry() {
        with_admin_keys(true, vec![id()])
            .given(vec![created()])
            .when_async(update(Some("renamed"), Some(expiry("2028-01-01")), None))
            .await
            .then_expect_events(vec![updated(ApiKeyChanges {
                description: Some(Change {
                    old: Description::parse("ci").unwrap(),
                    new: Description::parse("renamed").unwrap(),
                }),
                expires_at: Some(Change {
                    old: expiry("2027-01-01"),
                    new: expiry("2028-01-01"),
                }),
                is_active: None,
                ..ApiKeyChanges::default()
            })]);
    }

    #[test]
    fn only_commands_that_can_take_access_away_are_guarded() {
        let cases = [
            (create_cmd("ci", "alice"), false),
            (update(Some("x"), None, None), false),
            (update(None, None, Some(true)), false),
            (update(None, None, Some(false)), true),
            (update(None, Some(None), None), true),
            (delete_cmd(), true),
        ];
        for (command, guarded) in cases {
            assert_eq!(command.can_reduce_admin_access(), guarded, "{command:?}");
        }
    }

    fn source() -> crate::ImportSource {
        crate::ImportSource {
            system: "vams".into(),
            table: "vams-ApiKeyStorageTable".into(),
            imported_by: Actor::system(),
            imported_at: at(),
        }
    }

    fn vams_time() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap()
    }

    fn import_cmd(name: &str, description: &str, active: bool, hash: &str) -> ApiKeyCommand {
        ApiKeyCommand::Import(super::super::ImportApiKey {
            api_key_id: id(),
            name: ApiKeyName::parse(name).unwrap(),
            user_id: UserId::parse("bob").unwrap(),
            description: Description::parse(description).unwrap(),
            key_hash: KeyHash::of(hash),
            expires_at: Expiration::parse_recorded("2020-01-01")
                .unwrap()
                .map(|r| r.expiration),
            is_active: active,
            created_by: Actor::recorded("unknown"),
            created_at: vams_time(),
            updated_at: vams_time(),
            source: source(),
        })
    }

    fn imported() -> ApiKeyEvent {
        ApiKeyEvent::ApiKeyImported {
            api_key_id: id(),
            api_key_name: ApiKeyName::parse("vams-ci").unwrap(),
            user_id: UserId::parse("bob").unwrap(),
            description: Description::parse("ci").unwrap(),
            key_hash: KeyHash::of("vams_old"),
            expires_at: Expiration::parse_recorded("2020-01-01")
                .unwrap()
                .map(|r| r.expiration),
            is_active: false,
            created_by: Actor::recorded("unknown"),
            created_at: vams_time(),
            updated_at: vams_time(),
            source: source(),
        }
    }

    #[tokio::test]
    async fn import_keeps_hash_state_and_times_even_expired_and_without_roles() {
        framework(true)
            .given_no_previous_events()
            .when_async(import_cmd("vams-ci", "ci", false, "vams_old"))
            .await
            .then_expect_events(vec![imported()]);
    }

    #[tokio::test]
    async fn import_refuses_a_name_a_live_key_holds() {
        framework(true)
            .given_no_previous_events()
            .when_async(import_cmd("taken", "ci", true, "vams_old"))
            .await
            .then_expect_error(ApiKeyError::NameTaken("taken".into()));
    }

    #[tokio::test]
    async fn reimport_of_an_unchanged_key_records_nothing() {
        framework(true)
            .given(vec![imported()])
            .when_async(import_cmd("vams-ci", "ci", false, "vams_old"))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn reimport_brings_only_the_changed_mutable_fields() {
        framework(true)
            .given(vec![imported()])
            .when_async(import_cmd("vams-ci", "rotated", false, "vams_old"))
            .await
            .then_expect_events(vec![ApiKeyEvent::ApiKeyImportUpdated {
                api_key_id: id(),
                api_key_name: ApiKeyName::parse("vams-ci").unwrap(),
                user_id: UserId::parse("bob").unwrap(),
                changes: ApiKeyChanges {
                    description: Some(Change {
                        old: Description::parse("ci").unwrap(),
                        new: Description::parse("rotated").unwrap(),
                    }),
                    ..Default::default()
                },
                updated_at: vams_time(),
                source: source(),
            }]);
    }

    #[tokio::test]
    async fn reimport_never_swaps_a_hash_or_renames() {
        framework(true)
            .given(vec![imported()])
            .when_async(import_cmd("renamed", "ci", false, "vams_new"))
            .await
            .then_expect_error(ApiKeyError::ImportConflict {
                id: id().to_string(),
                fields: "apiKeyName, apiKeyHash".into(),
            });
    }

    #[tokio::test]
    async fn import_of_a_key_deleted_here_is_refused() {
        framework(true)
            .given(vec![imported(), deleted()])
            .when_async(import_cmd("vams-ci", "ci", false, "vams_old"))
            .await
            .then_expect_error(ApiKeyError::DeletedAfterImport(id().to_string()));
    }

    #[tokio::test]
    async fn reimport_may_not_deactivate_the_last_admin_key() {
        let mut active = imported();
        if let ApiKeyEvent::ApiKeyImported { is_active, .. } = &mut active {
            *is_active = true;
        }
        let command = import_cmd("vams-ci", "ci", false, "vams_old");
        assert!(command.can_reduce_admin_access());
        with_admin_keys(true, vec![id()])
            .given(vec![active])
            .when_async(command)
            .await
            .then_expect_error(ApiKeyError::LastAdminKey(LastAdminKey));
    }

    fn rotate_cmd(new: &str, grace: u32) -> ApiKeyCommand {
        ApiKeyCommand::Rotate(super::super::RotateApiKey {
            key_hash: KeyHash::of(new),
            grace: crate::GracePeriod::from_seconds(grace.into()).unwrap(),
            max_lifetime: None,
            actor: Actor::system(),
            at: at(),
        })
    }

    #[tokio::test]
    async fn under_a_lifetime_policy_only_a_key_expiring_within_it_rotates() {
        let policy = |days| {
            let ApiKeyCommand::Rotate(mut rotate) = rotate_cmd("vams_new", 0) else {
                unreachable!()
            };
            rotate.max_lifetime = Some(crate::lifetime::MaxKeyLifetime::days(days));
            ApiKeyCommand::Rotate(rotate)
        };
        // The key expires 2027-01-01, 36 days after at().
        framework(true)
            .given(vec![created()])
            .when_async(policy(30))
            .await
            .then_expect_error(ApiKeyError::Lifetime(
                crate::lifetime::LifetimeError::TooLate {
                    days: 30,
                    latest: "2026-12-26T12:00:00Z".into(),
                },
            ));
        framework(true)
            .given(vec![created()])
            .when_async(policy(40))
            .await
            .then_expect_events(vec![rotated("vams_test", "vams_new", 0, at())]);
    }

    fn rotated(old: &str, new: &str, grace: u32, until: DateTime<Utc>) -> ApiKeyEvent {
        ApiKeyEvent::ApiKeyRotated {
            api_key_id: id(),
            api_key_name: ApiKeyName::parse("ci").unwrap(),
            user_id: UserId::parse("alice").unwrap(),
            key_hash: KeyHash::of(new),
            previous_key_hash: KeyHash::of(old),
            previous_key_expires_at: until,
            grace_period_seconds: crate::GracePeriod::from_seconds(grace.into()).unwrap(),
            rotated_by: Actor::system(),
            rotated_at: at(),
        }
    }

    fn expose_cmd(secret: &str) -> ApiKeyCommand {
        ApiKeyCommand::Expose(super::super::ExposeApiKey {
            key_hash: KeyHash::of(secret),
            source: crate::ExposureSource::parse("https://paste.example/1").unwrap(),
            reporter_ip: "192.0.2.7".into(),
            at: at(),
        })
    }

    fn exposed(secret: &str, was_active: bool) -> ApiKeyEvent {
        ApiKeyEvent::ApiKeyExposed {
            api_key_id: id(),
            api_key_name: ApiKeyName::parse("ci").unwrap(),
            user_id: UserId::parse("alice").unwrap(),
            key_hash: KeyHash::of(secret),
            source: crate::ExposureSource::parse("https://paste.example/1").unwrap(),
            reporter_ip: "192.0.2.7".into(),
            was_active,
            exposed_at: at(),
        }
    }

    fn hours(n: i64) -> chrono::Duration {
        chrono::Duration::hours(n)
    }

    #[tokio::test]
    async fn rotate_gives_a_new_secret_and_the_previous_one_its_grace() {
        framework(true)
            .given(vec![created()])
            .when_async(rotate_cmd("vams_new", 3600))
            .await
            .then_expect_events(vec![rotated(
                "vams_test",
                "vams_new",
                3600,
                at() + hours(1),
            )]);
    }

    #[tokio::test]
    async fn a_grace_never_outlives_the_key() {
        let expiry = at() + hours(2);
        let mut key = created();
        if let ApiKeyEvent::ApiKeyCreated { expires_at, .. } = &mut key {
            *expires_at = Some(Expiration::from_utc(expiry));
        }
        framework(true)
            .given(vec![key])
            .when_async(rotate_cmd("vams_new", 86_400))
            .await
            .then_expect_events(vec![rotated("vams_test", "vams_new", 86_400, expiry)]);
    }

    #[tokio::test]
    async fn rotating_an_inactive_key_leaves_the_previous_secret_no_grace() {
        let off = updated(ApiKeyChanges {
            is_active: Some(Change {
                old: true,
                new: false,
            }),
            ..Default::default()
        });
        framework(true)
            .given(vec![created(), off])
            .when_async(rotate_cmd("vams_new", 3600))
            .await
            .then_expect_events(vec![rotated("vams_test", "vams_new", 3600, at())]);
    }

    #[tokio::test]
    async fn rotate_of_an_unknown_or_deleted_key_is_not_found() {
        framework(true)
            .given_no_previous_events()
            .when_async(rotate_cmd("vams_new", 0))
            .await
            .then_expect_error(ApiKeyError::NotFound);
        framework(true)
            .given(vec![created(), deleted()])
            .when_async(rotate_cmd("vams_new", 0))
            .await
            .then_expect_error(ApiKeyError::NotFound);
    }

    #[tokio::test]
    async fn the_last_admin_key_may_rotate_with_no_grace() {
        let command = rotate_cmd("vams_new", 0);
        assert!(
            !command.can_reduce_admin_access(),
            "the new secret stays live"
        );
        with_admin_keys(true, vec![id()])
            .given(vec![created()])
            .when_async(command)
            .await
            .then_expect_events(vec![rotated("vams_test", "vams_new", 0, at())]);
    }

    #[tokio::test]
    async fn a_report_of_the_current_or_the_grace_secret_deactivates_the_key() {
        let rotation = rotated("vams_test", "vams_new", 3600, at() + hours(1));
        for secret in ["vams_new", "vams_test"] {
            framework(true)
                .given(vec![created(), rotation.clone()])
                .when_async(expose_cmd(secret))
                .await
                .then_expect_events(vec![exposed(secret, true)]);
        }
    }

    #[tokio::test]
    async fn a_second_rotation_ends_the_older_grace() {
        let first = rotated("vams_test", "vams_new", 3600, at() + hours(1));
        let second = rotated("vams_new", "vams_newer", 3600, at() + hours(1));
        framework(true)
            .given(vec![created(), first, second])
            .when_async(expose_cmd("vams_test"))
            .await
            .then_expect_error(ApiKeyError::NotFound);
    }

    #[tokio::test]
    async fn reports_of_unknown_ended_or_repeated_secrets_change_nothing() {
        framework(true)
            .given(vec![created()])
            .when_async(expose_cmd("vams_other"))
            .await
            .then_expect_error(ApiKeyError::NotFound);
        let ended = rotated("vams_test", "vams_new", 0, at());
        framework(true)
            .given(vec![created(), ended])
            .when_async(expose_cmd("vams_test"))
            .await
            .then_expect_error(ApiKeyError::NotFound);
        framework(true)
            .given(vec![created(), exposed("vams_test", true)])
            .when_async(expose_cmd("vams_test"))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn deactivation_ends_a_grace() {
        let rotation = rotated("vams_test", "vams_new", 3600, at() + hours(1));
        let off = updated(ApiKeyChanges {
            is_active: Some(Change {
                old: true,
                new: false,
            }),
            ..Default::default()
        });
        framework(true)
            .given(vec![created(), rotation, off])
            .when_async(expose_cmd("vams_test"))
            .await
            .then_expect_error(ApiKeyError::NotFound);
    }

    #[tokio::test]
    async fn a_report_deactivates_even_the_last_admin_key() {
        let command = expose_cmd("vams_test");
        assert!(
            command.can_reduce_admin_access(),
            "serialized with the guard"
        );
        with_admin_keys(true, vec![id()])
            .given(vec![created()])
            .when_async(command)
            .await
            .then_expect_events(vec![exposed("vams_test", true)]);
    }

    #[test]
    fn old_events_and_new_ones_round_trip() {
        for event in [
            created(),
            rotated("vams_test", "vams_new", 60, at()),
            exposed("vams_test", false),
        ] {
            let text = serde_json::to_string(&event).unwrap();
            assert!(!text.contains("vams_"), "no plaintext: {text}");
            assert_eq!(serde_json::from_str::<ApiKeyEvent>(&text).unwrap(), event);
        }
    }

    fn scope(roles: &[&str]) -> Option<crate::key_policy::KeyRoles> {
        Some(crate::key_policy::KeyRoles::parse(roles).unwrap())
    }

    fn limited(policy: crate::KeyPolicy) -> ApiKeyEvent {
        let mut event = created();
        if let ApiKeyEvent::ApiKeyCreated { policy: set, .. } = &mut event {
            *set = policy;
        }
        event
    }

    fn create_with(policy: crate::KeyPolicy) -> ApiKeyCommand {
        let ApiKeyCommand::Create(cmd) = create_cmd("ci", "alice") else {
            unreachable!()
        };
        ApiKeyCommand::Create(CreateApiKey { policy, ..cmd })
    }

    fn update_policy(policy: crate::PolicyUpdate) -> ApiKeyCommand {
        let ApiKeyCommand::Update(cmd) = update(None, None, None) else {
            unreachable!()
        };
        ApiKeyCommand::Update(UpdateApiKey { policy, ..cmd })
    }

    fn every_setting() -> crate::KeyPolicy {
        use crate::key_policy::{AllowedCidrs, KeyMeta, RateLimit};
        crate::KeyPolicy {
            roles: scope(&["ci"]),
            rate_limit: Some(RateLimit::new(100, 60).unwrap()),
            allowed_cidrs: Some(AllowedCidrs::parse(["10.0.0.0/8"]).unwrap()),
            meta: Some(KeyMeta::parse(serde_json::json!({"team": "ci"})).unwrap()),
        }
    }

    #[tokio::test]
    async fn create_records_every_setting_in_the_event() {
        framework(true)
            .given_no_previous_events()
            .when_async(create_with(every_setting()))
            .await
            .then_expect_events(vec![limited(every_setting())]);
    }

    #[tokio::test]
    async fn create_refuses_a_scope_naming_a_role_the_user_lacks() {
        let policy = crate::KeyPolicy {
            roles: scope(&["ci", "ops"]),
            ..crate::KeyPolicy::default()
        };
        framework(true)
            .given_no_previous_events()
            .when_async(create_with(policy))
            .await
            .then_expect_error(ApiKeyError::RoleNotHeld {
                role: "ops".into(),
                user: "alice".into(),
            });
    }

    #[tokio::test]
    async fn update_sets_and_clears_settings_with_old_and_new_values() {
        use crate::key_policy::RateLimit;
        let update = crate::PolicyUpdate {
            rate_limit: Some(Some(RateLimit::new(5, 1).unwrap())),
            meta: Some(None),
            // The same scope again: not a change.
            roles: Some(scope(&["ci"])),
            ..crate::PolicyUpdate::default()
        };
        framework(true)
            .given(vec![limited(every_setting())])
            .when_async(update_policy(update))
            .await
            .then_expect_events(vec![updated(ApiKeyChanges {
                rate_limit: Some(Change {
                    old: every_setting().rate_limit,
                    new: Some(RateLimit::new(5, 1).unwrap()),
                }),
                meta: Some(Change {
                    old: every_setting().meta,
                    new: None,
                }),
                ..ApiKeyChanges::default()
            })]);
    }

    #[tokio::test]
    async fn an_update_repeating_every_setting_records_nothing() {
        let p = every_setting();
        let same = crate::PolicyUpdate {
            roles: Some(p.roles),
            rate_limit: Some(p.rate_limit),
            allowed_cidrs: Some(p.allowed_cidrs),
            meta: Some(p.meta),
        };
        framework(true)
            .given(vec![
                limited(every_setting()),
                rotated("vams_test", "vams_new", 60, at()),
            ])
            .when_async(update_policy(same))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn update_refuses_a_scope_naming_a_role_the_user_lacks() {
        let update = crate::PolicyUpdate {
            roles: Some(scope(&["ops"])),
            ..crate::PolicyUpdate::default()
        };
        framework(true)
            .given(vec![created()])
            .when_async(update_policy(update))
            .await
            .then_expect_error(ApiKeyError::RoleNotHeld {
                role: "ops".into(),
                user: "alice".into(),
            });
    }

    #[tokio::test]
    async fn scoping_the_last_admin_key_away_from_the_admin_role_is_refused() {
        let to_ci = crate::PolicyUpdate {
            roles: Some(scope(&["ci"])),
            ..crate::PolicyUpdate::default()
        };
        with_admin_keys(true, vec![id()])
            .given(vec![created()])
            .when_async(update_policy(to_ci.clone()))
            .await
            .then_expect_error(ApiKeyError::LastAdminKey(LastAdminKey));
        let keeps_admin = crate::PolicyUpdate {
            roles: Some(scope(&["admin", "ci"])),
            ..crate::PolicyUpdate::default()
        };
        with_admin_keys(true, vec![id()])
            .given(vec![created()])
            .when_async(update_policy(keeps_admin))
            .await
            .then_expect_events(vec![updated(ApiKeyChanges {
                roles: Some(Change {
                    old: None,
                    new: scope(&["admin", "ci"]),
                }),
                ..ApiKeyChanges::default()
            })]);
    }

    #[test]
    fn events_without_settings_serialize_as_before() {
        let text = serde_json::to_string(&created()).unwrap();
        assert!(!text.contains("policy"), "{text}");
        let read: ApiKeyEvent = serde_json::from_str(&text).unwrap();
        assert_eq!(read, created());
        let changes = ApiKeyChanges {
            meta: Some(Change {
                old: None,
                new: every_setting().meta,
            }),
            ..ApiKeyChanges::default()
        };
        assert_eq!(changes.field_names(), ["meta"]);
        assert_eq!(
            serde_json::to_string(&changes).unwrap(),
            r#"{"meta":{"old":null,"new":{"team":"ci"}}}"#
        );
    }

    #[tokio::test]
    async fn networks_shutting_out_the_administrator_are_refused_on_the_last_admin_key() {
        use crate::key_policy::AllowedCidrs;
        let pin = |origin: &str| {
            let ApiKeyCommand::Update(cmd) = update_policy(crate::PolicyUpdate {
                allowed_cidrs: Some(Some(AllowedCidrs::parse(["10.0.0.0/8"]).unwrap())),
                ..crate::PolicyUpdate::default()
            }) else {
                unreachable!()
            };
            ApiKeyCommand::Update(UpdateApiKey {
                origin: Some(origin.parse().unwrap()),
                ..cmd
            })
        };
        with_admin_keys(true, vec![id()])
            .given(vec![created()])
            .when_async(pin("192.0.2.1"))
            .await
            .then_expect_error(ApiKeyError::LastAdminKey(LastAdminKey));
        // From inside the new networks, or on a key that is not the last admin key: accepted.
        for (admins, origin) in [(vec![id()], "10.1.1.1"), (vec![], "192.0.2.1")] {
            let result = with_admin_keys(true, admins)
                .given(vec![created()])
                .when_async(pin(origin))
                .await
                .inspect_result();
            assert!(result.is_ok(), "{origin}: {result:?}");
        }
    }
}
