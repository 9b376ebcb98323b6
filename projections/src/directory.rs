//! The domain's `Directory` answered from the in-memory read model, folded up to the log's end first
//! so a decision always sees every committed event (including those other processes appended). It
//! never waits for the persisted views: a failing view table cannot fail a command.
use crate::projector::Projector;
use async_trait::async_trait;
use domain::services::{Directory, DirectoryUnavailable};
use domain::{ApiKeyName, RoleName, UserId};
use std::sync::Arc;

/// A [`Directory`] over the projector's model.
pub struct ReadModelDirectory(pub Arc<Projector>);

impl ReadModelDirectory {
    async fn fresh(&self) -> Result<(), DirectoryUnavailable> {
        self.0
            .catch_up_memory()
            .await
            .map_err(|e| DirectoryUnavailable(e.to_string()))
    }
}

#[async_trait]
impl Directory for ReadModelDirectory {
    async fn roles_of(&self, user: &UserId) -> Result<Vec<RoleName>, DirectoryUnavailable> {
        self.fresh().await?;
        Ok(self.0.read().directory.roles_of(user))
    }

    async fn role_exists(&self, role: &RoleName) -> Result<bool, DirectoryUnavailable> {
        self.fresh().await?;
        Ok(self.0.read().directory.roles.contains_key(role))
    }

    async fn key_name_in_use(&self, name: &ApiKeyName) -> Result<bool, DirectoryUnavailable> {
        self.fresh().await?;
        Ok(self.0.read().listing.name_in_use(name.as_ref()))
    }
}
