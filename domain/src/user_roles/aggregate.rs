//! The user-roles aggregate.
use super::{UserRolesCommand, UserRolesError, UserRolesEvent};
use crate::admin_access::AccessChange;
use crate::services::Services;
use crate::{Actor, RoleName, UserId};
use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The roles one user holds.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRoles {
    roles: BTreeSet<RoleName>,
}

impl Aggregate for UserRoles {
    const TYPE: &'static str = "UserRoles";
    type Command = UserRolesCommand;
    type Event = UserRolesEvent;
    type Error = UserRolesError;
    type Services = Services;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let events = match command {
            UserRolesCommand::Assign {
                user_id,
                roles,
                actor,
                at,
            } => {
                let wanted = self.existing_roles(roles, services).await?;
                if wanted.iter().any(|r| self.roles.contains(r)) {
                    return Err(UserRolesError::AlreadyAssigned);
                }
                vec![assigned(&user_id, wanted, &actor, at)]
            }
            UserRolesCommand::Replace {
                user_id,
                roles,
                actor,
                at,
            } => {
                let wanted = self.existing_roles(roles, services).await?;
                let added = wanted.difference(&self.roles).cloned().collect();
                let removed = self.roles.difference(&wanted).cloned().collect();
                vec![
                    assigned(&user_id, added, &actor, at),
                    revoked(&user_id, removed, &actor, at),
                ]
            }
            UserRolesCommand::RemoveAll { user_id, actor, at } => {
                vec![revoked(&user_id, self.roles.clone(), &actor, at)]
            }
            UserRolesCommand::Revoke {
                user_id,
                role,
                actor,
                at,
            } => {
                let held = self.roles.iter().filter(|r| **r == role).cloned().collect();
                vec![revoked(&user_id, held, &actor, at)]
            }
            UserRolesCommand::Import {
                user_id,
                roles,
                assigned_at,
                source,
            } => {
                let wanted = self.existing_roles(roles, services).await?;
                let added: BTreeSet<RoleName> = wanted.difference(&self.roles).cloned().collect();
                vec![
                    (!added.is_empty()).then(|| UserRolesEvent::UserRolesImported {
                        user_id,
                        roles: added.into_iter().collect(),
                        assigned_at,
                        source,
                    }),
                ]
            }
        };
        let events: Vec<UserRolesEvent> = events.into_iter().flatten().collect();
        self.keep_admin_access(&events, services).await?;
        for event in events {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            UserRolesEvent::RolesAssigned { roles, .. }
            | UserRolesEvent::UserRolesImported { roles, .. } => self.roles.extend(roles),
            UserRolesEvent::RolesRevoked { roles, .. } => {
                for role in roles {
                    self.roles.remove(&role);
                }
            }
        }
    }
}

impl UserRoles {
    /// Refuses events that take an admin role from the holder of the last live admin key.
    async fn keep_admin_access(
        &self,
        events: &[UserRolesEvent],
        services: &Services,
    ) -> Result<(), UserRolesError> {
        let Some(UserRolesEvent::RolesRevoked {
            user_id,
            revoked_at,
            ..
        }) = events
            .iter()
            .find(|e| matches!(e, UserRolesEvent::RolesRevoked { .. }))
        else {
            return Ok(());
        };
        let mut after = self.clone();
        for event in events {
            after.apply(event.clone());
        }
        let access = services.directory.admin_access().await?;
        let change = AccessChange::UserRoles {
            user_id,
            roles: &after.roles,
        };
        Ok(access.check(&change, *revoked_at)?)
    }

    /// De-duplicates `roles`, refusing an empty list or any role that is not defined.
    async fn existing_roles(
        &self,
        roles: Vec<RoleName>,
        services: &Services,
    ) -> Result<BTreeSet<RoleName>, UserRolesError> {
        if roles.is_empty() {
            return Err(UserRolesError::NoRoles);
        }
        let wanted: BTreeSet<RoleName> = roles.into_iter().collect();
        for role in &wanted {
            if !services.directory.role_exists(role).await? {
                return Err(UserRolesError::RoleDoesNotExist(role.to_string()));
            }
        }
        Ok(wanted)
    }
}

/// An assignment event, or none when there is nothing to add.
fn assigned(
    user_id: &UserId,
    roles: BTreeSet<RoleName>,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Option<UserRolesEvent> {
    (!roles.is_empty()).then(|| UserRolesEvent::RolesAssigned {
        user_id: user_id.clone(),
        roles: roles.into_iter().collect(),
        assigned_by: actor.clone(),
        assigned_at: at,
    })
}

/// A revocation event, or none when there is nothing to remove.
fn revoked(
    user_id: &UserId,
    roles: BTreeSet<RoleName>,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Option<UserRolesEvent> {
    (!roles.is_empty()).then(|| UserRolesEvent::RolesRevoked {
        user_id: user_id.clone(),
        roles: roles.into_iter().collect(),
        revoked_by: actor.clone(),
        revoked_at: at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin_access::{AdminAccess, AdminKey, LastAdminKey};
    use crate::services::{Directory, DirectoryUnavailable};
    use crate::ApiKeyName;
    use async_trait::async_trait;
    use chrono::TimeZone;
    use cqrs_es::test::TestFramework;
    use std::sync::Arc;

    /// Roles `admin` and `reader` exist; `admin` is the admin role and each of `admin_key_owners`
    /// has one active admin key.
    struct Roles {
        admin_key_owners: Vec<&'static str>,
    }

    #[async_trait]
    impl Directory for Roles {
        async fn roles_of(&self, _: &UserId) -> Result<Vec<RoleName>, DirectoryUnavailable> {
            Ok(vec![])
        }
        async fn holders_of(&self, _: &RoleName) -> Result<Vec<UserId>, DirectoryUnavailable> {
            Ok(vec![])
        }
        async fn role_exists(&self, role: &RoleName) -> Result<bool, DirectoryUnavailable> {
            Ok(matches!(role.as_ref(), "admin" | "reader"))
        }
        async fn key_name_in_use(&self, _: &ApiKeyName) -> Result<bool, DirectoryUnavailable> {
            Ok(false)
        }
        async fn admin_access(&self) -> Result<AdminAccess, DirectoryUnavailable> {
            let keys = self.admin_key_owners.iter().enumerate();
            Ok(AdminAccess {
                admin_roles: roles(&["admin"]).into_iter().collect(),
                keys: keys
                    .map(|(i, owner)| AdminKey {
                        api_key_id: uuid::Uuid::from_u128(i as u128),
                        user_id: UserId::parse(owner).unwrap(),
                        expires_at: None,
                        held: roles(&["admin"]).into_iter().collect(),
                        scope: None,
                    })
                    .collect(),
            })
        }
    }

    fn framework() -> TestFramework<UserRoles> {
        with_admin_keys_of(vec![])
    }

    fn with_admin_keys_of(admin_key_owners: Vec<&'static str>) -> TestFramework<UserRoles> {
        TestFramework::with(Services::new(Arc::new(Roles { admin_key_owners })))
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    fn user() -> UserId {
        UserId::parse("alice").unwrap()
    }

    fn roles(names: &[&str]) -> Vec<RoleName> {
        names.iter().map(|n| RoleName::parse(n).unwrap()).collect()
    }

    fn assigned_ev(names: &[&str]) -> UserRolesEvent {
        assigned(
            &user(),
            roles(names).into_iter().collect(),
            &Actor::system(),
            at(),
        )
        .unwrap()
    }

    fn revoked_ev(names: &[&str]) -> UserRolesEvent {
        revoked(
            &user(),
            roles(names).into_iter().collect(),
            &Actor::system(),
            at(),
        )
        .unwrap()
    }

    fn assign(names: &[&str]) -> UserRolesCommand {
        UserRolesCommand::Assign {
            user_id: user(),
            roles: roles(names),
            actor: Actor::system(),
            at: at(),
        }
    }

    fn replace(names: &[&str]) -> UserRolesCommand {
        UserRolesCommand::Replace {
            user_id: user(),
            roles: roles(names),
            actor: Actor::system(),
            at: at(),
        }
    }

    #[tokio::test]
    async fn assign_adds_roles_once() {
        framework()
            .given_no_previous_events()
            .when_async(assign(&["reader", "admin", "reader"]))
            .await
            .then_expect_events(vec![assigned_ev(&["admin", "reader"])]);
    }

    #[tokio::test]
    async fn assign_refusals() {
        let cases: Vec<(Vec<UserRolesEvent>, &[&str], UserRolesError)> = vec![
            (vec![], &[], UserRolesError::NoRoles),
            (
                vec![],
                &["ghost"],
                UserRolesError::RoleDoesNotExist("ghost".into()),
            ),
            (
                vec![assigned_ev(&["admin"])],
                &["admin", "reader"],
                UserRolesError::AlreadyAssigned,
            ),
        ];
        for (given, names, error) in cases {
            framework()
                .given(given)
                .when_async(assign(names))
                .await
                .then_expect_error(error);
        }
    }

    #[tokio::test]
    async fn replace_is_differential() {
        framework()
            .given(vec![assigned_ev(&["admin"])])
            .when_async(replace(&["reader"]))
            .await
            .then_expect_events(vec![assigned_ev(&["reader"]), revoked_ev(&["admin"])]);
        framework()
            .given(vec![assigned_ev(&["admin"])])
            .when_async(replace(&["admin"]))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn remove_all_and_revoke() {
        framework()
            .given(vec![assigned_ev(&["admin", "reader"])])
            .when_async(UserRolesCommand::RemoveAll {
                user_id: user(),
                actor: Actor::system(),
                at: at(),
            })
            .await
            .then_expect_events(vec![revoked_ev(&["admin", "reader"])]);
        framework()
            .given_no_previous_events()
            .when_async(UserRolesCommand::RemoveAll {
                user_id: user(),
                actor: Actor::system(),
                at: at(),
            })
            .await
            .then_expect_events(vec![]);
        framework()
            .given(vec![assigned_ev(&["admin", "reader"])])
            .when_async(UserRolesCommand::Revoke {
                user_id: user(),
                role: RoleName::parse("reader").unwrap(),
                actor: Actor::system(),
                at: at(),
            })
            .await
            .then_expect_events(vec![revoked_ev(&["reader"])]);
    }

    fn remove_all() -> UserRolesCommand {
        UserRolesCommand::RemoveAll {
            user_id: user(),
            actor: Actor::system(),
            at: at(),
        }
    }

    #[tokio::test]
    async fn the_holder_of_the_last_admin_key_keeps_the_admin_role() {
        for command in [replace(&["reader"]), remove_all()] {
            with_admin_keys_of(vec!["alice"])
                .given(vec![assigned_ev(&["admin", "reader"])])
                .when_async(command)
                .await
                .then_expect_error(UserRolesError::LastAdminKey(LastAdminKey));
        }
    }

    #[tokio::test]
    async fn the_admin_role_goes_while_another_admin_key_remains() {
        with_admin_keys_of(vec!["alice", "bob"])
            .given(vec![assigned_ev(&["admin", "reader"])])
            .when_async(remove_all())
            .await
            .then_expect_events(vec![revoked_ev(&["admin", "reader"])]);
    }

    #[tokio::test]
    async fn the_last_admin_may_lose_other_roles() {
        with_admin_keys_of(vec!["alice"])
            .given(vec![assigned_ev(&["admin", "reader"])])
            .when_async(replace(&["admin"]))
            .await
            .then_expect_events(vec![revoked_ev(&["reader"])]);
    }

    fn import(names: &[&str]) -> UserRolesCommand {
        UserRolesCommand::Import {
            user_id: user(),
            roles: roles(names),
            assigned_at: at(),
            source: source(),
        }
    }

    fn source() -> crate::ImportSource {
        crate::ImportSource {
            system: "vams".into(),
            table: "vams-UserRolesStorageTable".into(),
            imported_by: Actor::system(),
            imported_at: at(),
        }
    }

    #[tokio::test]
    async fn import_adds_only_the_roles_not_held() {
        framework()
            .given(vec![assigned_ev(&["admin"])])
            .when_async(import(&["admin", "reader"]))
            .await
            .then_expect_events(vec![UserRolesEvent::UserRolesImported {
                user_id: user(),
                roles: roles(&["reader"]),
                assigned_at: at(),
                source: source(),
            }]);
    }

    #[tokio::test]
    async fn import_of_held_roles_records_nothing() {
        framework()
            .given(vec![assigned_ev(&["admin", "reader"])])
            .when_async(import(&["reader"]))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn import_of_an_undefined_role_is_refused() {
        framework()
            .given_no_previous_events()
            .when_async(import(&["ghost"]))
            .await
            .then_expect_error(UserRolesError::RoleDoesNotExist("ghost".into()));
    }
}
