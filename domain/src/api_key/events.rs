//! What happened to an API key. Events carry the actor, the time and resulting values; never a plaintext.
use crate::key_policy::{AllowedCidrs, KeyMeta, KeyRoles, RateLimit};
use crate::{
    Actor, ApiKeyName, Description, Expiration, ExposureSource, GracePeriod, ImportSource, KeyHash,
    KeyPolicy, UserId,
};
use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Events of the API key aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ApiKeyEvent {
    /// A key was issued.
    ApiKeyCreated {
        api_key_id: Uuid,
        api_key_name: ApiKeyName,
        user_id: UserId,
        description: Description,
        key_hash: KeyHash,
        expires_at: Option<Expiration>,
        created_by: Actor,
        created_at: DateTime<Utc>,
        /// Role scope, rate limit, networks and metadata, when any is set (absent from events
        /// written before keys had settings, and from those of keys without any).
        #[serde(default, skip_serializing_if = "KeyPolicy::is_empty")]
        policy: KeyPolicy,
    },
    /// One or more mutable fields changed; only changed fields are present.
    ApiKeyUpdated {
        api_key_id: Uuid,
        api_key_name: ApiKeyName,
        user_id: UserId,
        changes: ApiKeyChanges,
        updated_by: Actor,
        updated_at: DateTime<Utc>,
    },
    /// The key was deleted; its name is free again.
    ApiKeyDeleted {
        api_key_id: Uuid,
        api_key_name: ApiKeyName,
        user_id: UserId,
        deleted_by: Actor,
        deleted_at: DateTime<Utc>,
    },
    /// A key was copied from another system (a VAMS migration): its id, hash, state and times as
    /// that system had them. The plaintext never left that system's caller.
    ApiKeyImported {
        api_key_id: Uuid,
        api_key_name: ApiKeyName,
        user_id: UserId,
        description: Description,
        key_hash: KeyHash,
        expires_at: Option<Expiration>,
        is_active: bool,
        /// `createdBy` as the other system recorded it.
        created_by: Actor,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        source: ImportSource,
    },
    /// A later import brought the changes the other system made to an imported key; only changed
    /// fields are present. `updated_at` is that system's time of the change.
    ApiKeyImportUpdated {
        api_key_id: Uuid,
        api_key_name: ApiKeyName,
        user_id: UserId,
        changes: ApiKeyChanges,
        updated_at: DateTime<Utc>,
        source: ImportSource,
    },
    /// The key got a new secret (`key_hash`); the previous one (`previous_key_hash`) authenticates
    /// until `previous_key_expires_at` (equal to `rotated_at` when it stopped at once). Any older
    /// secret still in grace stopped at `rotated_at`.
    ApiKeyRotated {
        api_key_id: Uuid,
        api_key_name: ApiKeyName,
        user_id: UserId,
        key_hash: KeyHash,
        previous_key_hash: KeyHash,
        previous_key_expires_at: DateTime<Utc>,
        /// The grace asked for (the end may be earlier: the key's expiry).
        grace_period_seconds: GracePeriod,
        rotated_by: Actor,
        rotated_at: DateTime<Utc>,
    },
    /// A leak report presented one of the key's secrets (`key_hash`): the key was deactivated and
    /// any grace ended. Reports are anonymous; the reporter's address is kept.
    ApiKeyExposed {
        api_key_id: Uuid,
        api_key_name: ApiKeyName,
        user_id: UserId,
        key_hash: KeyHash,
        source: ExposureSource,
        reporter_ip: String,
        /// Whether the key was active before the report.
        was_active: bool,
        exposed_at: DateTime<Utc>,
    },
}

/// A field's value before and after an update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change<T> {
    /// Before.
    pub old: T,
    /// After.
    pub new: T,
}

/// The fields an update changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Change<Description>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Change<Option<Expiration>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_active: Option<Change<bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Change<Option<KeyRoles>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<Change<Option<RateLimit>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_cidrs: Option<Change<Option<AllowedCidrs>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Change<Option<KeyMeta>>>,
}

impl ApiKeyChanges {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self.field_names().is_empty()
    }

    /// Whether any of the key's settings (scope, limit, networks, metadata) changed.
    pub fn changes_policy(&self) -> bool {
        self.roles.is_some()
            || self.rate_limit.is_some()
            || self.allowed_cidrs.is_some()
            || self.meta.is_some()
    }

    /// The settings the change sets or clears, without their old values.
    pub fn policy_update(&self) -> crate::PolicyUpdate {
        fn new<T: Clone>(c: &Option<Change<Option<T>>>) -> Option<Option<T>> {
            c.as_ref().map(|c| c.new.clone())
        }
        crate::PolicyUpdate {
            roles: new(&self.roles),
            rate_limit: new(&self.rate_limit),
            allowed_cidrs: new(&self.allowed_cidrs),
            meta: new(&self.meta),
        }
    }

    /// The settings after the change, from those before.
    pub fn policy_after(&self, before: &KeyPolicy) -> KeyPolicy {
        before.updated(&self.policy_update())
    }

    /// Names of the changed fields, as on the wire.
    pub fn field_names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.description.is_some() {
            names.push("description");
        }
        if self.expires_at.is_some() {
            names.push("expiresAt");
        }
        if self.is_active.is_some() {
            names.push("isActive");
        }
        for (set, name) in [
            (self.roles.is_some(), "roles"),
            (self.rate_limit.is_some(), "rateLimit"),
            (self.allowed_cidrs.is_some(), "allowedCidrs"),
            (self.meta.is_some(), "meta"),
        ] {
            if set {
                names.push(name);
            }
        }
        names
    }
}

impl DomainEvent for ApiKeyEvent {
    fn event_type(&self) -> String {
        match self {
            Self::ApiKeyCreated { .. } => "ApiKeyCreated",
            Self::ApiKeyUpdated { .. } => "ApiKeyUpdated",
            Self::ApiKeyDeleted { .. } => "ApiKeyDeleted",
            Self::ApiKeyImported { .. } => "ApiKeyImported",
            Self::ApiKeyImportUpdated { .. } => "ApiKeyImportUpdated",
            Self::ApiKeyRotated { .. } => "ApiKeyRotated",
            Self::ApiKeyExposed { .. } => "ApiKeyExposed",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
