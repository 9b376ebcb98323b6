//! The fold of every event into the views: pure, deterministic and comparable, so a rebuild from the
//! log can be checked against what is persisted.
use crate::event::{DomainEvent, RecordedEvent};
use crate::key_listing::{ApiKeyView, KeyListing};
use crate::key_lookup::{KeyLookup, LookupEntry};
use crate::role_directory::{RoleDirectory, RoleView, UserRolesView};
use domain::api_key::{ApiKeyChanges, ApiKeyEvent};
use domain::role::RoleEvent;
use domain::user_roles::UserRolesEvent;
use domain::{Expiration, RoleName, UserId};
use std::collections::HashMap;
use uuid::Uuid;

/// The row an event changed, so only that row is written back to the persisted views.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Touched {
    /// A key's listing and lookup rows.
    ApiKey(Uuid),
    /// A role row.
    Role(RoleName),
    /// A user's roles row.
    UserRoles(UserId),
}

/// What folding one event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The event was new and changed this row.
    Changed(Touched),
    /// Already folded in (a feed re-read): nothing to do.
    Duplicate,
    /// Earlier events of this aggregate are missing; fetch them from the store first.
    Gap {
        /// Aggregate type.
        aggregate_type: String,
        /// Aggregate id.
        aggregate_id: String,
    },
}

/// Every view, folded from the log.
#[derive(Debug, Default, Clone)]
pub struct ReadModel {
    /// Live keys for listing.
    pub listing: KeyListing,
    /// Live keys by hash for authentication.
    pub lookup: KeyLookup,
    /// Roles and user roles.
    pub directory: RoleDirectory,
    /// Last sequence folded per aggregate (`Type:id`), deleted ones included, so re-reads and
    /// out-of-order deliveries are harmless.
    versions: HashMap<String, u64>,
}

/// Views compare by content; the version bookkeeping is not a view.
impl PartialEq for ReadModel {
    fn eq(&self, other: &Self) -> bool {
        self.listing == other.listing
            && self.lookup == other.lookup
            && self.directory == other.directory
    }
}

/// The key of an aggregate in the versions map.
pub fn version_key(aggregate_type: &str, aggregate_id: &str) -> String {
    format!("{aggregate_type}:{aggregate_id}")
}

impl Touched {
    /// The aggregate this row belongs to, as a versions-map key.
    pub fn version_key(&self) -> String {
        match self {
            Self::ApiKey(id) => version_key("ApiKey", &id.to_string()),
            Self::Role(name) => version_key("Role", name.as_ref()),
            Self::UserRoles(user) => version_key("UserRoles", user.as_ref()),
        }
    }
}

impl ReadModel {
    /// Last sequence folded for an aggregate (0 when none).
    pub fn version(&self, key: &str) -> u64 {
        self.versions.get(key).copied().unwrap_or(0)
    }

    /// Whether any event of this aggregate has been folded (a deleted one included).
    pub fn knows(&self, aggregate: &Touched) -> bool {
        self.version(&aggregate.version_key()) > 0
    }

    /// Records a version read back from a store.
    pub fn set_version(&mut self, key: String, version: u64) {
        self.versions.insert(key, version);
    }

    /// Every known aggregate version.
    pub fn versions(&self) -> impl Iterator<Item = (&String, &u64)> {
        self.versions.iter()
    }

    /// Folds one event in, in per-aggregate sequence order.
    pub fn apply(&mut self, recorded: &RecordedEvent) -> Applied {
        let key = version_key(&recorded.aggregate_type, &recorded.aggregate_id);
        let known = self.version(&key);
        if recorded.sequence <= known {
            return Applied::Duplicate;
        }
        if recorded.sequence > known + 1 {
            return Applied::Gap {
                aggregate_type: recorded.aggregate_type.clone(),
                aggregate_id: recorded.aggregate_id.clone(),
            };
        }
        self.versions.insert(key, recorded.sequence);
        Applied::Changed(self.fold(recorded))
    }

    fn fold(&mut self, recorded: &RecordedEvent) -> Touched {
        let version = recorded.sequence;
        match &recorded.event {
            DomainEvent::ApiKey(event) => Touched::ApiKey(self.apply_key(event, version)),
            DomainEvent::Role(event) => Touched::Role(self.apply_role(event, version)),
            DomainEvent::UserRoles(event) => Touched::UserRoles(self.apply_user(event, version)),
        }
    }

    /// Rebuilds the lookup from the listing (the persisted lookup must equal this).
    pub fn lookup_entry(view: &ApiKeyView) -> LookupEntry {
        LookupEntry {
            api_key_id: view.api_key_id,
            user_id: view.user_id.clone(),
            is_active: view.is_active,
            expires_at: view.expires_at,
        }
    }

    fn apply_key(&mut self, event: &ApiKeyEvent, version: u64) -> Uuid {
        match event {
            ApiKeyEvent::ApiKeyCreated {
                api_key_id,
                api_key_name,
                user_id,
                description,
                key_hash,
                expires_at,
                created_by,
                created_at,
            } => {
                let view = ApiKeyView {
                    api_key_id: *api_key_id,
                    api_key_name: api_key_name.to_string(),
                    user_id: user_id.clone(),
                    description: description.as_ref().to_owned(),
                    key_hash: *key_hash,
                    created_by: created_by.as_ref().to_owned(),
                    created_at: *created_at,
                    updated_at: *created_at,
                    expires_at: expires_at.map(|e| e.at()),
                    is_active: true,
                    version,
                };
                self.put_key(view);
                *api_key_id
            }
            ApiKeyEvent::ApiKeyImported { api_key_id, .. } => {
                if let Some(view) = crate::imported::view(event, version) {
                    self.put_key(view);
                }
                *api_key_id
            }
            ApiKeyEvent::ApiKeyUpdated {
                api_key_id,
                changes,
                updated_at,
                ..
            }
            | ApiKeyEvent::ApiKeyImportUpdated {
                api_key_id,
                changes,
                updated_at,
                ..
            } => {
                if let Some(mut view) = self.listing.get(api_key_id).cloned() {
                    fold_changes(&mut view, changes);
                    view.updated_at = *updated_at;
                    view.version = version;
                    self.put_key(view);
                }
                *api_key_id
            }
            ApiKeyEvent::ApiKeyDeleted { api_key_id, .. } => {
                if let Some(view) = self.listing.remove(api_key_id) {
                    self.lookup.remove(&view.key_hash);
                }
                *api_key_id
            }
        }
    }

    fn put_key(&mut self, view: ApiKeyView) {
        self.lookup.insert(view.key_hash, Self::lookup_entry(&view));
        self.listing.upsert(view);
    }

    fn apply_role(&mut self, event: &RoleEvent, version: u64) -> RoleName {
        match event {
            RoleEvent::RoleCreated {
                id,
                definition,
                created_at,
                ..
            }
            | RoleEvent::RoleImported {
                id,
                definition,
                created_at,
                ..
            } => {
                let view = RoleView {
                    id: *id,
                    definition: definition.clone(),
                    created_on: *created_at,
                    version,
                };
                self.directory
                    .roles
                    .insert(definition.role_name.clone(), view);
                definition.role_name.clone()
            }
            RoleEvent::RoleUpdated { definition, .. }
            | RoleEvent::RoleImportUpdated { definition, .. } => {
                if let Some(view) = self.directory.roles.get_mut(&definition.role_name) {
                    view.definition = definition.clone();
                    view.version = version;
                }
                definition.role_name.clone()
            }
            RoleEvent::RoleDeleted { role_name, .. } => {
                self.directory.roles.remove(role_name);
                role_name.clone()
            }
        }
    }

    fn apply_user(&mut self, event: &UserRolesEvent, version: u64) -> UserId {
        match event {
            UserRolesEvent::RolesAssigned {
                user_id,
                roles,
                assigned_at,
                ..
            }
            | UserRolesEvent::UserRolesImported {
                user_id,
                roles,
                assigned_at,
                ..
            } => {
                let entry = self
                    .directory
                    .users
                    .entry(user_id.clone())
                    .or_insert_with(|| UserRolesView {
                        user_id: user_id.clone(),
                        roles: Default::default(),
                        created_on: *assigned_at,
                        version,
                    });
                entry.roles.extend(roles.iter().cloned());
                entry.version = version;
                user_id.clone()
            }
            UserRolesEvent::RolesRevoked { user_id, roles, .. } => {
                if let Some(entry) = self.directory.users.get_mut(user_id) {
                    for role in roles {
                        entry.roles.remove(role);
                    }
                    entry.version = version;
                    if entry.roles.is_empty() {
                        self.directory.users.remove(user_id);
                    }
                }
                user_id.clone()
            }
        }
    }
}

fn fold_changes(view: &mut ApiKeyView, changes: &ApiKeyChanges) {
    if let Some(c) = &changes.description {
        view.description = c.new.as_ref().to_owned();
    }
    if let Some(c) = &changes.expires_at {
        view.expires_at = c.new.map(|e: Expiration| e.at());
    }
    if let Some(c) = &changes.is_active {
        view.is_active = c.new;
    }
}

impl ReadModel {
    /// Human-readable differences between two models (empty when equal).
    pub fn differences(&self, other: &ReadModel) -> Vec<String> {
        let mut out = Vec::new();
        for view in self.listing.iter() {
            match other.listing.get(&view.api_key_id) {
                None => out.push(format!("key {} missing", view.api_key_id)),
                Some(o) if o != view => out.push(format!("key {} differs", view.api_key_id)),
                _ => {}
            }
        }
        for view in other.listing.iter() {
            if self.listing.get(&view.api_key_id).is_none() {
                out.push(format!("key {} should not exist", view.api_key_id));
            }
        }
        if self.lookup != other.lookup {
            out.push(format!(
                "key lookup differs ({} entries expected, {} found)",
                self.lookup.len(),
                other.lookup.len()
            ));
        }
        if self.directory.roles != other.directory.roles {
            out.push("roles differ".to_owned());
        }
        if self.directory.users != other.directory.users {
            out.push("user roles differ".to_owned());
        }
        out
    }
}
