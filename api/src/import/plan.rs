//! What an import will do with each VAMS item, decided against the current read model. The same plan
//! is printed by `--dry-run` and carried out by a real run, so the two cannot disagree.
use super::records::Records;
use chrono::{DateTime, Utc};
use domain::user_roles::UserRolesEvent;
use domain::{ExpiryForm, RoleName, UserId};
use infra::vams::{ItemError, VamsApiKey, VamsRole, VamsUserRole};
use projections::{DomainEvent, EventFeed, ReadModel, StoreError};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// An item the import does not write as new, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    /// `apiKey`, `role` or `userRole`.
    pub kind: &'static str,
    /// The item's id (key id, role name, `user/role`).
    pub id: String,
    /// The key's name, for keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `unchanged`, `changedInVams`, `changedInApikeyd`, `deletedInApikeyd`, `revokedInApikeyd`,
    /// `nameTaken`, `idConflict`, `expired`.
    pub reason: &'static str,
    /// The fields concerned, as on the wire.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// More about it (the key holding a name, an expiry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A value VAMS stored that apikeyd had to interpret.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversion {
    pub api_key_id: String,
    pub api_key_name: String,
    /// `expiresAt` or `isActive`.
    pub field: &'static str,
    /// As VAMS stored it.
    pub from: String,
    /// As apikeyd holds it now.
    pub to: String,
    /// Why, and what VAMS did with it.
    pub note: &'static str,
}

/// Roles one user gains.
#[derive(Debug, Clone, PartialEq)]
pub struct UserImport {
    pub user_id: UserId,
    pub roles: Vec<RoleName>,
    /// The earliest `createdOn` of those roles in VAMS.
    pub assigned_at: DateTime<Utc>,
}

/// The whole plan.
#[derive(Debug, Default)]
pub struct Plan {
    /// Roles to import (none of that name here).
    pub new_roles: Vec<VamsRole>,
    /// Roles to overwrite with VAMS's fields (`--update-changed`).
    pub role_updates: Vec<VamsRole>,
    /// Users unknown here: committed in bulk.
    pub new_users: Vec<UserImport>,
    /// Users known here who gain roles: one command each.
    pub user_additions: Vec<UserImport>,
    /// Keys to import: committed in bulk.
    pub new_keys: Vec<VamsApiKey>,
    /// Imported keys to bring up to date (`--update-changed`).
    pub key_updates: Vec<VamsApiKey>,
    /// Items left as they are.
    pub skipped: Vec<Note>,
    /// Items changed in VAMS since they were imported (updated with `--update-changed`).
    pub changed: Vec<Note>,
    /// Keys whose name a different key here holds, or whose id holds a different key.
    pub collisions: Vec<Note>,
    /// Keys imported although their expiry has passed (they stay refused as expired).
    pub expired: Vec<Note>,
    /// Values interpreted on the way in.
    pub conversions: Vec<Conversion>,
    /// Items that cannot be imported.
    pub errors: Vec<ItemError>,
    /// Items read: keys, roles, user roles.
    pub read: (usize, usize, usize),
    /// Whether changes in VAMS are applied.
    pub update_changed: bool,
}

fn note(kind: &'static str, id: String, reason: &'static str) -> Note {
    Note {
        kind,
        id,
        name: None,
        reason,
        fields: vec![],
        detail: None,
    }
}

impl Plan {
    /// Classifies every record against `model`. `feed` is asked only about users known here who
    /// lack a VAMS role (was it revoked here?).
    pub async fn build(
        model: &ReadModel,
        feed: &dyn EventFeed,
        records: Records,
        update_changed: bool,
    ) -> Result<Self, StoreError> {
        let mut plan = Plan {
            errors: records.errors,
            read: records.read,
            update_changed,
            ..Default::default()
        };
        plan.roles(model, records.roles);
        plan.user_roles(model, feed, records.user_roles).await?;
        plan.keys(model, records.keys);
        Ok(plan)
    }

    fn roles(&mut self, model: &ReadModel, roles: Vec<VamsRole>) {
        for role in roles {
            let name = role.definition.role_name.clone();
            let version =
                model.version(&projections::read_model::version_key("Role", name.as_ref()));
            match model.directory.roles.get(&name) {
                Some(here) if here.definition == role.definition => {
                    self.skipped
                        .push(note("role", name.to_string(), "unchanged"))
                }
                Some(here) => {
                    let mut changed = note("role", name.to_string(), "changedInVams");
                    changed.fields = role_fields(&here.definition, &role.definition);
                    self.changed.push(changed);
                    if self.update_changed {
                        self.role_updates.push(role);
                    }
                }
                None if version > 0 => {
                    self.skipped
                        .push(note("role", name.to_string(), "deletedInApikeyd"))
                }
                None => self.new_roles.push(role),
            }
        }
    }

    async fn user_roles(
        &mut self,
        model: &ReadModel,
        feed: &dyn EventFeed,
        items: Vec<VamsUserRole>,
    ) -> Result<(), StoreError> {
        let defined: BTreeSet<&RoleName> = model
            .directory
            .roles
            .keys()
            .chain(self.new_roles.iter().map(|r| &r.definition.role_name))
            .collect();
        let mut by_user: BTreeMap<UserId, Vec<VamsUserRole>> = BTreeMap::new();
        for item in items {
            by_user.entry(item.user_id.clone()).or_default().push(item);
        }
        let mut wanted: Vec<(UserId, Vec<VamsUserRole>)> = Vec::new();
        for (user, items) in by_user {
            let held: BTreeSet<RoleName> = model.directory.roles_of(&user).into_iter().collect();
            let mut missing = Vec::new();
            for item in items {
                let id = format!("{}/{}", item.user_id, item.role_name);
                if held.contains(&item.role_name) {
                    self.skipped.push(note("userRole", id, "unchanged"));
                } else if !defined.contains(&item.role_name) {
                    self.errors.push(ItemError {
                        table: "UserRolesStorageTable".into(),
                        item: format!("userId={},roleName={}", item.user_id, item.role_name),
                        reason: format!(
                            "role '{}' exists neither in VAMS's roles table nor in apikeyd",
                            item.role_name
                        ),
                    });
                } else {
                    missing.push(item);
                }
            }
            if !missing.is_empty() {
                wanted.push((user, missing));
            }
        }
        for (user, missing) in wanted {
            self.user(model, feed, user, missing).await?;
        }
        Ok(())
    }

    /// A user gaining `missing`: new here (bulk), or known (one command), leaving out the roles an
    /// operator revoked here after an earlier import.
    async fn user(
        &mut self,
        model: &ReadModel,
        feed: &dyn EventFeed,
        user: UserId,
        mut missing: Vec<VamsUserRole>,
    ) -> Result<(), StoreError> {
        let known = model.version(&projections::read_model::version_key(
            "UserRoles",
            user.as_ref(),
        )) > 0;
        if known {
            let revoked = revoked_here(feed, &user).await?;
            missing.retain(|item| {
                let gone = revoked.contains(&item.role_name);
                if gone {
                    let id = format!("{}/{}", item.user_id, item.role_name);
                    self.skipped.push(note("userRole", id, "revokedInApikeyd"));
                }
                !gone
            });
        }
        let Some(assigned_at) = missing.iter().map(|i| i.created_on).min() else {
            return Ok(());
        };
        let import = UserImport {
            user_id: user,
            roles: missing.into_iter().map(|i| i.role_name).collect(),
            assigned_at,
        };
        match known {
            true => self.user_additions.push(import),
            false => self.new_users.push(import),
        }
        Ok(())
    }

    fn keys(&mut self, model: &ReadModel, keys: Vec<VamsApiKey>) {
        let now = Utc::now();
        // Names held here, then names this run claims: a second VAMS key of one name collides too.
        let mut claimed: HashMap<String, String> = model
            .listing
            .iter()
            .map(|v| (v.api_key_name.clone(), v.api_key_id.to_string()))
            .collect();
        for key in keys {
            let id = key.api_key_id.to_string();
            let version = model.version(&projections::read_model::version_key("ApiKey", &id));
            if let Some(here) = model.listing.get(&key.api_key_id) {
                self.known_key(here, key);
                continue;
            }
            if version > 0 {
                self.skipped.push(key_note(&key, "deletedInApikeyd"));
                continue;
            }
            let name = key.name.to_string();
            if let Some(holder) = claimed.get(&name) {
                let mut collision = key_note(&key, "nameTaken");
                collision.detail = Some(format!("the name is held by API key {holder}"));
                self.collisions.push(collision);
                continue;
            }
            claimed.insert(name, id);
            self.conversions(&key);
            if key.expires_at.is_some_and(|e| e.expiration.has_passed(now)) {
                let mut expired = key_note(&key, "expired");
                expired.detail = key.expires_at.map(|e| e.expiration.to_wire());
                self.expired.push(expired);
            }
            self.new_keys.push(key);
        }
    }

    /// A key this store already has under the same id.
    fn known_key(&mut self, here: &projections::key_listing::ApiKeyView, key: VamsApiKey) {
        let fixed = [
            ("apiKeyName", here.api_key_name == key.name.as_ref()),
            ("userId", here.user_id == key.user_id),
            ("apiKeyHash", here.key_hash == key.key_hash),
        ];
        let conflicts: Vec<String> = fixed
            .iter()
            .filter(|(_, same)| !same)
            .map(|(f, _)| (*f).to_owned())
            .collect();
        if !conflicts.is_empty() {
            let mut collision = key_note(&key, "idConflict");
            collision.fields = conflicts;
            collision.detail = Some("a different key holds this id here".into());
            self.collisions.push(collision);
            return;
        }
        let fields = key_fields(here, &key);
        if fields.is_empty() {
            self.skipped.push(key_note(&key, "unchanged"));
            return;
        }
        let newer_in_vams = key.updated_at > here.updated_at;
        let mut changed = key_note(
            &key,
            if newer_in_vams {
                "changedInVams"
            } else {
                "changedInApikeyd"
            },
        );
        changed.fields = fields;
        if !newer_in_vams {
            self.skipped.push(changed);
            return;
        }
        self.changed.push(changed);
        if self.update_changed {
            self.conversions(&key);
            self.key_updates.push(key);
        }
    }

    fn conversions(&mut self, key: &VamsApiKey) {
        let base = |field, from: &str, to: String, note| Conversion {
            api_key_id: key.api_key_id.to_string(),
            api_key_name: key.name.to_string(),
            field,
            from: from.to_owned(),
            to,
            note,
        };
        if let (Some(raw), Some(expiry)) = (&key.expires_at_raw, key.expires_at) {
            let note = match expiry.form {
                ExpiryForm::Exact => None,
                ExpiryForm::NaiveDateTime => {
                    Some("date-time without offset, read as UTC; VAMS never enforced it")
                }
                ExpiryForm::DateOnly => {
                    Some("date only, read as 23:59:59 UTC that day; VAMS never enforced it")
                }
            };
            if let Some(note) = note {
                self.conversions
                    .push(base("expiresAt", raw, expiry.expiration.to_wire(), note));
            }
        }
        if let Some(raw) = &key.unusual_is_active {
            self.conversions.push(base(
                "isActive",
                raw,
                "false".into(),
                "only the string \"true\" is active, as VAMS's authorizer decides",
            ));
        }
    }

    /// Commands the plan sends (one per key, role and user): the progress bar's length.
    pub fn steps(&self) -> usize {
        self.new_keys.len()
            + self.key_updates.len()
            + self.new_roles.len()
            + self.role_updates.len()
            + self.new_users.len()
            + self.user_additions.len()
    }
}

fn key_note(key: &VamsApiKey, reason: &'static str) -> Note {
    Note {
        name: Some(key.name.to_string()),
        ..note("apiKey", key.api_key_id.to_string(), reason)
    }
}

/// The mutable fields on which an imported key and VAMS's item differ.
fn key_fields(here: &projections::key_listing::ApiKeyView, key: &VamsApiKey) -> Vec<String> {
    let expiry = key.expires_at.map(|e| e.expiration.at());
    [
        ("description", here.description == key.description.as_ref()),
        ("expiresAt", here.expires_at == expiry),
        ("isActive", here.is_active == key.is_active),
    ]
    .iter()
    .filter(|(_, same)| !same)
    .map(|(f, _)| (*f).to_owned())
    .collect()
}

fn role_fields(
    here: &domain::role::RoleDefinition,
    vams: &domain::role::RoleDefinition,
) -> Vec<String> {
    [
        ("description", here.description == vams.description),
        ("source", here.source == vams.source),
        (
            "sourceIdentifier",
            here.source_identifier == vams.source_identifier,
        ),
        ("mfaRequired", here.mfa_required == vams.mfa_required),
    ]
    .iter()
    .filter(|(_, same)| !same)
    .map(|(f, _)| (*f).to_owned())
    .collect()
}

/// Roles revoked from `user` in apikeyd at some point (not re-added by an import).
async fn revoked_here(
    feed: &dyn EventFeed,
    user: &UserId,
) -> Result<BTreeSet<RoleName>, StoreError> {
    let mut revoked = BTreeSet::new();
    for event in feed.aggregate_events("UserRoles", user.as_ref()).await? {
        if let DomainEvent::UserRoles(UserRolesEvent::RolesRevoked { roles, .. }) = event.event {
            revoked.extend(roles);
        }
    }
    Ok(revoked)
}
