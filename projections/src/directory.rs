//! The domain's `Directory` answered from the in-memory read model. It never waits for the persisted
//! views: a failing view table cannot fail a command.
//!
//! Answers that let a create go ahead (the user holds a role, the name is free) come from memory as
//! it is: this node folds its own commits at once, the store enforces name uniqueness in the commit
//! itself, and another node's change arrives within the feed poll. Answers that would refuse, and
//! every answer a role change or the admin guard decides on, first fold the log up to its end, so a
//! command is never refused, and admin access never judged, on a stale view.
use crate::key_listing::ApiKeyView;
use crate::key_views::UserKeys;
use crate::projector::Projector;
use crate::read_model::ReadModel;
use crate::role_directory::UserRolesView;
use async_trait::async_trait;
use domain::admin_access::{administers, AdminAccess, AdminKey};
use domain::services::{Directory, DirectoryUnavailable};
use domain::{ApiKeyName, RoleName, UserId};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Working admin keys read from the store per admin user at most: a command takes away one key,
/// one user's roles or one role, so knowing that a few more work is as good as knowing them all.
const ENOUGH_ADMIN_KEYS: usize = 16;

/// A [`Directory`] over the projector's model.
pub struct ReadModelDirectory {
    projector: Arc<Projector>,
    admin_roles: BTreeSet<RoleName>,
    /// Fold the log's end in before each answer (commands); off for a writer that catches up
    /// itself between batches and lets the store's claims decide a race (imports).
    catch_up: bool,
    /// Where the admin guard finds the keys a bounded key cache does not hold.
    user_keys: Option<Arc<dyn UserKeys>>,
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
            catch_up: true,
            user_keys: None,
        }
    }

    /// The same directory answering from the model as it stands, without a catch-up per question.
    pub fn without_catch_up(projector: Arc<Projector>, admin_roles: &[String]) -> Self {
        Self {
            catch_up: false,
            ..Self::new(projector, admin_roles)
        }
    }

    /// The same directory reading `user_keys` for the admin users' keys that the model's bounded
    /// key cache does not hold.
    pub fn with_user_keys(self, user_keys: Arc<dyn UserKeys>) -> Self {
        Self {
            user_keys: Some(user_keys),
            ..self
        }
    }

    /// [`admin_access`] of the model, completed from the persisted views when the model's key
    /// lookup is a bounded cache: each admin user's keys the cache lacks are read from the store
    /// (admin users are few; the keys the cache holds are at least as new as the store's rows).
    async fn complete_admin_access(&self) -> Result<AdminAccess, DirectoryUnavailable> {
        let (mut access, admins) = {
            let model = self.projector.read();
            let access = admin_access(&model, &self.admin_roles);
            let admins: Vec<(UserId, BTreeSet<RoleName>)> = match model.lookup.capacity() {
                Some(_) => model
                    .directory
                    .users
                    .values()
                    .map(|u| (u.user_id.clone(), held_admin_roles(u, &self.admin_roles)))
                    .filter(|(_, held)| !held.is_empty())
                    .collect(),
                None => Vec::new(),
            };
            (access, admins)
        };
        let Some(store) = self.user_keys.as_ref().filter(|_| !admins.is_empty()) else {
            return Ok(access);
        };
        let now = chrono::Utc::now();
        let mut stored = Vec::with_capacity(admins.len());
        for (user, held) in &admins {
            // Keys that administer now: active, unexpired, scoped to a held admin role if at all.
            let keep = |v: &ApiKeyView| {
                v.is_active
                    && v.expires_at.is_none_or(|at| at > now)
                    && administers(held.iter(), v.policy.roles.as_ref())
            };
            let keys = store.keys_of(user, &keep, ENOUGH_ADMIN_KEYS).await;
            stored.push(keys.map_err(|e| DirectoryUnavailable(e.to_string()))?);
        }
        let model = self.projector.read();
        for ((user, held), views) in admins.into_iter().zip(stored) {
            // A key memory knows, live or deleted, is judged by memory (at least as new).
            let missing = views
                .into_iter()
                .filter(|v| model.lookup.version(&v.api_key_id) == 0);
            access.keys.extend(missing.map(|v| AdminKey {
                api_key_id: v.api_key_id,
                user_id: user.clone(),
                expires_at: v.expires_at,
                held: held.clone(),
                scope: v.policy.roles.clone(),
            }));
        }
        Ok(access)
    }

    async fn fresh(&self) -> Result<(), DirectoryUnavailable> {
        if !self.catch_up {
            return Ok(());
        }
        self.projector
            .catch_up_memory()
            .await
            .map_err(|e| DirectoryUnavailable(e.to_string()))
    }
}

/// Every active key of a user holding one of `admin_roles`.
pub fn admin_access(model: &ReadModel, admin_roles: &BTreeSet<RoleName>) -> AdminAccess {
    let held = |user: &UserId| -> BTreeSet<RoleName> {
        model
            .directory
            .users
            .get(user)
            .map_or_else(BTreeSet::new, |u| held_admin_roles(u, admin_roles))
    };
    let keys = model
        .lookup
        .iter()
        .filter(|(_, k)| k.is_active)
        .filter_map(|(_, k)| {
            let held = held(k.user_id);
            (!held.is_empty()).then(|| AdminKey {
                api_key_id: k.api_key_id,
                user_id: k.user_id.clone(),
                expires_at: k.expires_at,
                held,
                scope: k.policy.and_then(|p| p.roles.clone()),
            })
        })
        .collect();
    AdminAccess {
        admin_roles: admin_roles.clone(),
        keys,
    }
}

/// The admin roles among a user's roles.
fn held_admin_roles(user: &UserRolesView, admin_roles: &BTreeSet<RoleName>) -> BTreeSet<RoleName> {
    user.roles.intersection(admin_roles).cloned().collect()
}

#[async_trait]
impl Directory for ReadModelDirectory {
    async fn roles_of(&self, user: &UserId) -> Result<Vec<RoleName>, DirectoryUnavailable> {
        let known = self.projector.read().directory.roles_of(user);
        if !known.is_empty() {
            return Ok(known);
        }
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
        if !self.projector.read().name_in_use(name.as_ref()) {
            return Ok(false);
        }
        self.fresh().await?;
        Ok(self.projector.read().name_in_use(name.as_ref()))
    }

    async fn admin_access(&self) -> Result<AdminAccess, DirectoryUnavailable> {
        self.fresh().await?;
        self.complete_admin_access().await
    }
}
