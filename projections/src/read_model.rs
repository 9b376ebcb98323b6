//! The fold of every event into the views: pure, deterministic and comparable, so a rebuild from the
//! log can be checked against what is persisted.
use crate::event::{DomainEvent, RecordedEvent};
use crate::key_listing::{ApiKeyView, KeyChange, KeyListing, KeyPatch};
use crate::key_lookup::{KeyLookup, LookupEntry};
use crate::role_directory::{RoleDirectory, RoleView, UserRolesView};
use crate::secret_state::{self, SecretPatch, SecretState};
use chrono::{DateTime, Utc};
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
#[derive(Debug, Clone)]
pub struct ReadModel {
    /// Live keys for listing: empty in a [`ReadModel::compact`] model, whose rows live in the
    /// persisted views instead.
    pub listing: KeyListing,
    /// Every key by hash for authentication, with its version and name digest.
    pub lookup: KeyLookup,
    /// Roles and user roles.
    pub directory: RoleDirectory,
    /// Last sequence folded per role and user (`Type:id`; keys keep theirs in the lookup), so
    /// re-reads and out-of-order deliveries are harmless.
    versions: HashMap<String, u64>,
    keeps_listing: bool,
}

impl Default for ReadModel {
    fn default() -> Self {
        Self {
            listing: KeyListing::default(),
            lookup: KeyLookup::default(),
            directory: RoleDirectory::default(),
            versions: HashMap::new(),
            keeps_listing: true,
        }
    }
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

const API_KEY: &str = "ApiKey";

impl Touched {
    /// The aggregate this row belongs to, as a versions-map key.
    pub fn version_key(&self) -> String {
        match self {
            Self::ApiKey(id) => version_key(API_KEY, &id.to_string()),
            Self::Role(name) => version_key("Role", name.as_ref()),
            Self::UserRoles(user) => version_key("UserRoles", user.as_ref()),
        }
    }
}

/// A versions-map key naming a key aggregate, as its id.
fn key_id_of(key: &str) -> Option<Uuid> {
    key.strip_prefix("ApiKey:")?.parse().ok()
}

impl ReadModel {
    /// A model without the listing rows: what a server whose view store answers listings keeps.
    pub fn compact() -> Self {
        Self {
            keeps_listing: false,
            ..Self::default()
        }
    }

    /// What a node of the AWS backend keeps: no listing rows, and a key lookup bounded to
    /// `capacity` recently used keys (every other key is one read of the store's lookup table).
    pub fn cached(capacity: usize) -> Self {
        Self {
            lookup: KeyLookup::bounded(capacity),
            ..Self::compact()
        }
    }

    /// Last sequence folded for an aggregate (0 when none).
    pub fn version(&self, key: &str) -> u64 {
        match key_id_of(key) {
            Some(id) => self.lookup.version(&id),
            None => self.versions.get(key).copied().unwrap_or(0),
        }
    }

    fn aggregate_version(&self, aggregate_type: &str, aggregate_id: &str) -> u64 {
        match (aggregate_type, aggregate_id.parse::<Uuid>()) {
            (API_KEY, Ok(id)) => self.lookup.version(&id),
            _ => self.version(&version_key(aggregate_type, aggregate_id)),
        }
    }

    fn evicted_version(&self, aggregate_type: &str, aggregate_id: &str) -> Option<u64> {
        match (aggregate_type, aggregate_id.parse::<Uuid>()) {
            (API_KEY, Ok(id)) => self.lookup.evicted_version(&id),
            _ => None,
        }
    }

    /// Before an aggregate's whole history is folded (a gap): a key the bounded lookup evicted is
    /// folded as new again.
    pub fn forget_evicted(&mut self, aggregate_type: &str, aggregate_id: &str) {
        if let (API_KEY, Ok(id)) = (aggregate_type, aggregate_id.parse::<Uuid>()) {
            self.lookup.forget_evicted(&id);
        }
    }

    fn set_aggregate_version(&mut self, aggregate_type: &str, aggregate_id: &str, version: u64) {
        match (aggregate_type, aggregate_id.parse::<Uuid>()) {
            (API_KEY, Ok(id)) => self.lookup.set_version(id, version),
            _ => {
                self.versions
                    .insert(version_key(aggregate_type, aggregate_id), version);
            }
        }
    }

    /// Whether any event of this aggregate has been folded (a deleted one included).
    pub fn knows(&self, aggregate: &Touched) -> bool {
        match aggregate {
            Touched::ApiKey(id) => self.lookup.version(id) > 0,
            other => self.version(&other.version_key()) > 0,
        }
    }

    /// Records a version read back from a store.
    pub fn set_version(&mut self, key: String, version: u64) {
        match key_id_of(&key) {
            Some(id) => self.lookup.set_version(id, version),
            None => {
                self.versions.insert(key, version);
            }
        }
    }

    /// Every known aggregate version.
    pub fn versions(&self) -> impl Iterator<Item = (String, u64)> + '_ {
        let keys = self
            .lookup
            .versions()
            .map(|(id, v)| (version_key(API_KEY, &id.to_string()), v));
        self.versions
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .chain(keys)
    }

    /// Whether a live key has exactly this name.
    pub fn name_in_use(&self, name: &str) -> bool {
        self.lookup.name_in_use(name)
    }

    /// Folds one event in, in per-aggregate sequence order.
    pub fn apply(&mut self, recorded: &RecordedEvent) -> Applied {
        let (aggregate_type, aggregate_id) = (&recorded.aggregate_type, &recorded.aggregate_id);
        let known = self.aggregate_version(aggregate_type, aggregate_id);
        if known == 0 {
            if let Some(evicted) = self.evicted_version(aggregate_type, aggregate_id) {
                // A key the bounded lookup let go: what it had folded is a duplicate, anything
                // newer comes with the key's whole history.
                return match recorded.sequence <= evicted {
                    true => Applied::Duplicate,
                    false => Applied::Gap {
                        aggregate_type: aggregate_type.clone(),
                        aggregate_id: aggregate_id.clone(),
                    },
                };
            }
        }
        if recorded.sequence <= known {
            return Applied::Duplicate;
        }
        if recorded.sequence > known + 1 {
            return Applied::Gap {
                aggregate_type: aggregate_type.clone(),
                aggregate_id: aggregate_id.clone(),
            };
        }
        let touched = self.fold(recorded);
        self.set_aggregate_version(aggregate_type, aggregate_id, recorded.sequence);
        Applied::Changed(touched)
    }

    fn fold(&mut self, recorded: &RecordedEvent) -> Touched {
        let version = recorded.sequence;
        match &recorded.event {
            DomainEvent::ApiKey(event) => {
                let (id, change) = key_change(event, version);
                self.apply_key(&id, &change);
                Touched::ApiKey(id)
            }
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
            policy: LookupEntry::policy_of(&view.policy),
        }
    }

    /// Folds one change of a key's row into the lookup (and the listing, when kept).
    pub fn apply_key(&mut self, id: &Uuid, change: &KeyChange) {
        match change {
            KeyChange::Put(view) => {
                self.lookup
                    .insert(view.key_hash, Self::lookup_entry(view), &view.api_key_name);
                self.lookup.set_grace(id, view.secret.previous_key);
            }
            KeyChange::Patch(patch) => {
                if let Some(key) = self.lookup.by_id(id) {
                    let is_active = patch.is_active.unwrap_or(key.is_active);
                    let expires_at = patch.expires_at.unwrap_or(key.expires_at);
                    let policy = (!patch.policy.is_empty()).then(|| {
                        let before = key.policy.map(|p| (**p).clone()).unwrap_or_default();
                        LookupEntry::policy_of(&before.updated(&patch.policy))
                    });
                    self.lookup.update(id, is_active, expires_at);
                    if let Some(hash) = patch.secret.key_hash {
                        self.lookup.rehash(id, hash);
                    }
                    if let Some(grace) = patch.secret.previous_key {
                        self.lookup.set_grace(id, grace);
                    }
                    if let Some(policy) = policy {
                        self.lookup.set_policy(id, policy);
                    }
                }
            }
            KeyChange::Delete => self.lookup.remove(id),
        }
        if self.keeps_listing {
            self.listing.apply(id, change);
        }
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

/// What a key event does to its row.
pub fn key_change(event: &ApiKeyEvent, version: u64) -> (Uuid, KeyChange) {
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
            policy,
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
                secret: SecretState::default(),
                policy: policy.clone(),
            };
            (*api_key_id, KeyChange::Put(view))
        }
        ApiKeyEvent::ApiKeyImported {
            api_key_id,
            api_key_name,
            user_id,
            description,
            key_hash,
            expires_at,
            is_active,
            created_by,
            created_at,
            updated_at,
            ..
        } => {
            // Its state and times as the other system had them.
            let view = ApiKeyView {
                api_key_id: *api_key_id,
                api_key_name: api_key_name.to_string(),
                user_id: user_id.clone(),
                description: description.as_ref().to_owned(),
                key_hash: *key_hash,
                created_by: created_by.as_ref().to_owned(),
                created_at: *created_at,
                updated_at: *updated_at,
                expires_at: expires_at.map(|e| e.at()),
                is_active: *is_active,
                version,
                secret: SecretState::default(),
                policy: domain::KeyPolicy::default(),
            };
            (*api_key_id, KeyChange::Put(view))
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
        } => (
            *api_key_id,
            KeyChange::Patch(patch_of(changes, *updated_at, version)),
        ),
        ApiKeyEvent::ApiKeyDeleted { api_key_id, .. } => (*api_key_id, KeyChange::Delete),
        ApiKeyEvent::ApiKeyRotated {
            api_key_id,
            key_hash,
            previous_key_hash,
            previous_key_expires_at,
            rotated_at,
            ..
        } => (
            *api_key_id,
            KeyChange::Patch(secret_state::rotation_patch(
                *key_hash,
                *previous_key_hash,
                *previous_key_expires_at,
                *rotated_at,
                version,
            )),
        ),
        ApiKeyEvent::ApiKeyExposed {
            api_key_id,
            source,
            exposed_at,
            ..
        } => (
            *api_key_id,
            KeyChange::Patch(secret_state::exposure_patch(
                source.as_ref(),
                *exposed_at,
                version,
            )),
        ),
    }
}

fn patch_of(changes: &ApiKeyChanges, updated_at: DateTime<Utc>, version: u64) -> KeyPatch {
    KeyPatch {
        description: changes
            .description
            .as_ref()
            .map(|c| c.new.as_ref().to_owned()),
        expires_at: changes
            .expires_at
            .as_ref()
            .map(|c| c.new.map(|e: Expiration| e.at())),
        is_active: changes.is_active.as_ref().map(|c| c.new),
        // Deactivating stops every secret; reactivating does not revive a grace.
        secret: match changes.is_active.as_ref().map(|c| c.new) {
            Some(false) => SecretPatch::end_grace(),
            _ => SecretPatch::default(),
        },
        policy: changes.policy_update(),
        updated_at,
        version,
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
