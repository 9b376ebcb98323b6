//! A key's settings: a role scope must stay within its user's roles when set, and each change is
//! recorded with its old and new value.
use super::{change, LiveKey};
use crate::api_key::{ApiKeyChanges, ApiKeyError};
use crate::key_policy::KeyRoles;
use crate::services::Services;
use crate::{PolicyUpdate, RoleName, UserId};

/// Refuses a scope naming a role `user` does not hold (`held`: the user's roles now). Later
/// revocations narrow the key at use instead (down to `NO_ROLES`).
pub(super) fn scope_within(
    scope: Option<&KeyRoles>,
    held: &[RoleName],
    user: &UserId,
) -> Result<(), ApiKeyError> {
    let Some(missing) = scope
        .into_iter()
        .flat_map(KeyRoles::iter)
        .find(|r| !held.contains(r))
    else {
        return Ok(());
    };
    Err(ApiKeyError::RoleNotHeld {
        role: missing.to_string(),
        user: user.to_string(),
    })
}

impl LiveKey {
    /// The settings `update` changes (only those that differ), checking a new scope against the
    /// user's roles.
    pub(super) async fn policy_changes(
        &self,
        update: &PolicyUpdate,
        services: &Services,
    ) -> Result<ApiKeyChanges, ApiKeyError> {
        if let Some(Some(scope)) = &update.roles {
            let held = services.directory.roles_of(&self.user_id).await?;
            scope_within(Some(scope), &held, &self.user_id)?;
        }
        let p = &self.policy;
        Ok(ApiKeyChanges {
            roles: change(&p.roles, update.roles.clone()),
            rate_limit: change(&p.rate_limit, update.rate_limit),
            allowed_cidrs: change(&p.allowed_cidrs, update.allowed_cidrs.clone()),
            meta: change(&p.meta, update.meta.clone()),
            ..ApiKeyChanges::default()
        })
    }
}
