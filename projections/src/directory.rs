//! The domain's `Directory` answered from the in-memory read model, folded up to the log's end first
//! so a decision always sees every committed event (including those other processes appended). It
//! never waits for the persisted views: a failing view table cannot fail a command.
use crate::projector::Projector;
use crate::read_model::ReadModel;
use async_trait::async_trait;
use domain::admin_access::{AdminAccess, AdminKey};
use domain::services::{Directory, DirectoryUnavailable};
use domain::{ApiKeyName, RoleName, UserId};
use std::collections::BTreeSet;
use std::sync::Arc;

/// A [`Directory`] over the projector's model.
pub struct ReadModelDirectory {
    projector: Arc<Projector>,
    admin_roles: BTreeSet<RoleName>,
}

impl ReadModelDirectory {
    /// A directory over `projector`'s model; `admin_roles` are the configured admin role names
    /// (names that are not valid role names can never be held and are ignored).
    pub fn new(projector: Arc<Projector>, admin_roles: &[String]) -> Self {
        let admin_roles = admin_roles
            .iter()
            .filter_map(|r| RoleName::parse(r).ok())
            .collect();
        Self {
            projector,
            admin_roles,
        }
    }

    async fn fresh(&self) -> Result<(), DirectoryUnavailable> {
        self.projector
            .catch_up_memory()
            .await
            .map_err(|e| DirectoryUnavailable(e.to_string()))
    }
}

/// Every active key of a user holding one of `admin_roles`.
pub fn admin_access(model: &ReadModel, admin_roles: &BTreeSet<RoleName>) -> AdminAccess {
    let is_admin = |user: &UserId| {
        model
            .directory
            .users
            .get(user)
            .is_some_and(|u| !u.roles.is_disjoint(admin_roles))
    };
    let keys = model
        .lookup
        .iter()
        .filter(|(_, k)| k.is_active && is_admin(k.user_id))
        .map(|(_, k)| AdminKey {
            api_key_id: k.api_key_id,
            user_id: k.user_id.clone(),
            expires_at: k.expires_at,
        })
        .collect();
    AdminAccess {
        admin_roles: admin_roles.clone(),
        keys,
    }
}

#[async_trait]
impl Directory for ReadModelDirectory {
    async fn roles_of(&self, user: &UserId) -> Result<Vec<RoleName>, DirectoryUnavailable> {
        self.fresh().await?;
        Ok(self.projector.read().directory.roles_of(user))
    }

    async fn holders_of(&self, role: &RoleName) -> Result<Vec<UserId>, DirectoryUnavailable> {
        self.fresh().await?;
        Ok(self.projector.read().directory.holders_of(role))
    }

    async fn role_exists(&self, role: &RoleName) -> Result<bool, DirectoryUnavailable> {
        self.fresh().await?;
        Ok(self.projector.read().directory.roles.contains_key(role))
    }

    async fn key_name_in_use(&self, name: &ApiKeyName) -> Result<bool, DirectoryUnavailable> {
        self.fresh().await?;
        Ok(self.projector.read().name_in_use(name.as_ref()))
    }

    async fn admin_access(&self) -> Result<AdminAccess, DirectoryUnavailable> {
        self.fresh().await?;
        Ok(admin_access(&self.projector.read(), &self.admin_roles))
    }
}
