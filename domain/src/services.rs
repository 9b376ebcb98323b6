//! Lookups the aggregates need from outside, implemented in `infra` over the read models.
use crate::admin_access::AdminAccess;
use crate::{ApiKeyName, RoleName, UserId};
use async_trait::async_trait;
use std::sync::Arc;

/// A lookup could not be answered (store unreachable). Commands fail rather than guess.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("directory unavailable: {0}")]
pub struct DirectoryUnavailable(pub String);

/// What the aggregates ask about users, roles and key names.
#[async_trait]
pub trait Directory: Send + Sync {
    /// Roles currently assigned to `user`.
    async fn roles_of(&self, user: &UserId) -> Result<Vec<RoleName>, DirectoryUnavailable>;
    /// Users holding `role` now.
    async fn holders_of(&self, role: &RoleName) -> Result<Vec<UserId>, DirectoryUnavailable>;
    /// Whether a role of that name exists.
    async fn role_exists(&self, role: &RoleName) -> Result<bool, DirectoryUnavailable>;
    /// Whether a live (not deleted) key already uses this exact name.
    async fn key_name_in_use(&self, name: &ApiKeyName) -> Result<bool, DirectoryUnavailable>;
    /// The admin role names and every active key of a user holding one, for the decision that no
    /// command takes the last live admin key away.
    async fn admin_access(&self) -> Result<AdminAccess, DirectoryUnavailable>;
}

/// The services every aggregate receives.
#[derive(Clone)]
pub struct Services {
    /// Read-side lookups.
    pub directory: Arc<dyn Directory>,
}

impl Services {
    /// Wraps a directory.
    pub fn new(directory: Arc<dyn Directory>) -> Self {
        Self { directory }
    }
}
