//! The role aggregate.
use super::{RoleCommand, RoleDefinition, RoleError, RoleEvent};
use crate::services::Services;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

/// A role's write-side state.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    current: Option<RoleDefinition>,
}

impl Aggregate for Role {
    const TYPE: &'static str = "Role";
    type Command = RoleCommand;
    type Event = RoleEvent;
    type Error = RoleError;
    type Services = Services;

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match (command, &self.current) {
            (
                RoleCommand::Import {
                    id,
                    definition,
                    created_at,
                    source,
                },
                current,
            ) => match super::import::event(current.as_ref(), id, definition, created_at, source) {
                Some(event) => event,
                None => return Ok(()),
            },
            (RoleCommand::Create { .. }, Some(_)) => return Err(RoleError::AlreadyExists),
            (
                RoleCommand::Create {
                    id,
                    definition,
                    actor,
                    at,
                },
                None,
            ) => RoleEvent::RoleCreated {
                id,
                definition,
                created_by: actor,
                created_at: at,
            },
            (RoleCommand::Update { .. } | RoleCommand::Delete { .. }, None) => {
                return Err(RoleError::NotFound)
            }
            (
                RoleCommand::Update {
                    definition,
                    actor,
                    at,
                },
                Some(_),
            ) => RoleEvent::RoleUpdated {
                definition,
                updated_by: actor,
                updated_at: at,
            },
            (RoleCommand::Delete { actor, at }, Some(current)) => RoleEvent::RoleDeleted {
                role_name: current.role_name.clone(),
                deleted_by: actor,
                deleted_at: at,
            },
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.current = match event {
            RoleEvent::RoleCreated { definition, .. }
            | RoleEvent::RoleUpdated { definition, .. }
            | RoleEvent::RoleImported { definition, .. }
            | RoleEvent::RoleImportUpdated { definition, .. } => Some(definition),
            RoleEvent::RoleDeleted { .. } => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin_access::AdminAccess;
    use crate::services::{Directory, DirectoryUnavailable};
    use crate::{Actor, ApiKeyName, Description, RoleName, UserId};
    use async_trait::async_trait;
    use chrono::{DateTime, TimeZone, Utc};
    use cqrs_es::test::TestFramework;
    use std::sync::Arc;
    use uuid::Uuid;

    struct NoDirectory;

    #[async_trait]
    impl Directory for NoDirectory {
        async fn roles_of(&self, _: &UserId) -> Result<Vec<RoleName>, DirectoryUnavailable> {
            Ok(vec![])
        }
        async fn holders_of(&self, _: &RoleName) -> Result<Vec<UserId>, DirectoryUnavailable> {
            Ok(vec![])
        }
        async fn role_exists(&self, _: &RoleName) -> Result<bool, DirectoryUnavailable> {
            Ok(false)
        }
        async fn key_name_in_use(&self, _: &ApiKeyName) -> Result<bool, DirectoryUnavailable> {
            Ok(false)
        }
        async fn admin_access(&self) -> Result<AdminAccess, DirectoryUnavailable> {
            Ok(AdminAccess::default())
        }
    }

    fn framework() -> TestFramework<Role> {
        TestFramework::with(Services::new(Arc::new(NoDirectory)))
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    fn definition(description: &str) -> RoleDefinition {
        RoleDefinition {
            role_name: RoleName::parse("auditor").unwrap(),
            description: Description::parse(description).unwrap(),
            source: None,
            source_identifier: None,
            mfa_required: false,
        }
    }

    fn created() -> RoleEvent {
        RoleEvent::RoleCreated {
            id: Uuid::nil(),
            definition: definition("reads"),
            created_by: Actor::system(),
            created_at: at(),
        }
    }

    fn create() -> RoleCommand {
        RoleCommand::Create {
            id: Uuid::nil(),
            definition: definition("reads"),
            actor: Actor::system(),
            at: at(),
        }
    }

    fn delete() -> RoleCommand {
        RoleCommand::Delete {
            actor: Actor::system(),
            at: at(),
        }
    }

    fn deleted() -> RoleEvent {
        RoleEvent::RoleDeleted {
            role_name: RoleName::parse("auditor").unwrap(),
            deleted_by: Actor::system(),
            deleted_at: at(),
        }
    }

    #[tokio::test]
    async fn create_defines_role() {
        framework()
            .given_no_previous_events()
            .when_async(create())
            .await
            .then_expect_events(vec![created()]);
    }

    #[tokio::test]
    async fn create_existing_is_refused() {
        framework()
            .given(vec![created()])
            .when_async(create())
            .await
            .then_expect_error(RoleError::AlreadyExists);
    }

    #[tokio::test]
    async fn deleted_role_can_be_created_again() {
        framework()
            .given(vec![created(), deleted()])
            .when_async(create())
            .await
            .then_expect_events(vec![created()]);
    }

    #[tokio::test]
    async fn update_overwrites_definition() {
        framework()
            .given(vec![created()])
            .when_async(RoleCommand::Update {
                definition: definition("writes"),
                actor: Actor::system(),
                at: at(),
            })
            .await
            .then_expect_events(vec![RoleEvent::RoleUpdated {
                definition: definition("writes"),
                updated_by: Actor::system(),
                updated_at: at(),
            }]);
    }

    #[tokio::test]
    async fn update_or_delete_unknown_is_not_found() {
        framework()
            .given_no_previous_events()
            .when_async(delete())
            .await
            .then_expect_error(RoleError::NotFound);
        framework()
            .given(vec![created(), deleted()])
            .when_async(RoleCommand::Update {
                definition: definition("x"),
                actor: Actor::system(),
                at: at(),
            })
            .await
            .then_expect_error(RoleError::NotFound);
    }

    #[tokio::test]
    async fn delete_removes_role() {
        framework()
            .given(vec![created()])
            .when_async(delete())
            .await
            .then_expect_events(vec![deleted()]);
    }

    fn source() -> crate::ImportSource {
        crate::ImportSource {
            system: "vams".into(),
            table: "vams-RolesStorageTable".into(),
            imported_by: Actor::system(),
            imported_at: at(),
        }
    }

    fn import(description: &str) -> RoleCommand {
        RoleCommand::Import {
            id: Uuid::from_u128(9),
            definition: definition(description),
            created_at: at(),
            source: source(),
        }
    }

    #[tokio::test]
    async fn import_defines_a_new_role_with_its_id() {
        framework()
            .given_no_previous_events()
            .when_async(import("reads"))
            .await
            .then_expect_events(vec![RoleEvent::RoleImported {
                id: Uuid::from_u128(9),
                definition: definition("reads"),
                created_at: at(),
                source: source(),
            }]);
    }

    #[tokio::test]
    async fn import_of_an_identical_role_records_nothing() {
        framework()
            .given(vec![created()])
            .when_async(import("reads"))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn import_of_a_differing_role_overwrites_it() {
        framework()
            .given(vec![created()])
            .when_async(import("writes"))
            .await
            .then_expect_events(vec![RoleEvent::RoleImportUpdated {
                definition: definition("writes"),
                source: source(),
            }]);
    }
}
