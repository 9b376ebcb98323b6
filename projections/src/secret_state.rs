//! A key's secrets beyond the current one: the previous secret of a rotation while its grace runs,
//! when the key was last rotated, and a leak report against it. Kept apart from the VAMS fields of
//! [`ApiKeyView`] so a key that was never rotated or reported stores nothing more.
use crate::key_listing::{ApiKeyView, KeyPatch};
use chrono::{DateTime, Utc};
use domain::api_key::Grace;
use domain::KeyHash;
use serde::{Deserialize, Serialize};

/// A leak report that deactivated the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exposure {
    /// When it was reported.
    pub at: DateTime<Utc>,
    /// Where the reporter found it.
    pub source: String,
}

/// Rotation and exposure facts of one key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretState {
    /// The previous secret while its grace runs (it may have ended since: compare `until`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_key: Option<Grace>,
    /// The last rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<DateTime<Utc>>,
    /// The leak report since the last rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure: Option<Exposure>,
}

impl SecretState {
    /// Nothing recorded (what a listing row then omits).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// What one event changes of a key's secrets; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecretPatch {
    /// A new current secret (a rotation).
    pub key_hash: Option<KeyHash>,
    /// `Some(None)` ends a grace.
    pub previous_key: Option<Option<Grace>>,
    /// A rotation's time.
    pub rotated_at: Option<DateTime<Utc>>,
    /// `Some(None)` clears a report (a rotation replaced the reported secret).
    pub exposure: Option<Option<Exposure>>,
}

impl SecretPatch {
    /// Ends any grace: what a deactivation does.
    pub fn end_grace() -> Self {
        Self {
            previous_key: Some(None),
            ..Self::default()
        }
    }

    /// Writes the patched fields into `view`.
    pub fn apply_to(&self, view: &mut ApiKeyView) {
        if let Some(hash) = self.key_hash {
            view.key_hash = hash;
        }
        if let Some(previous) = self.previous_key {
            view.secret.previous_key = previous;
        }
        if let Some(at) = self.rotated_at {
            view.secret.rotated_at = Some(at);
        }
        if let Some(exposure) = &self.exposure {
            view.secret.exposure.clone_from(exposure);
        }
    }

    /// This patch followed by `later`.
    pub fn then(self, later: SecretPatch) -> SecretPatch {
        SecretPatch {
            key_hash: later.key_hash.or(self.key_hash),
            previous_key: later.previous_key.or(self.previous_key),
            rotated_at: later.rotated_at.or(self.rotated_at),
            exposure: later.exposure.or(self.exposure),
        }
    }
}

/// The row patch of a rotation: a new current secret, the previous one in grace (if any is left),
/// any report cleared (it named a secret the key no longer has as its current one).
pub fn rotation_patch(
    key_hash: KeyHash,
    previous_key_hash: KeyHash,
    previous_key_expires_at: DateTime<Utc>,
    rotated_at: DateTime<Utc>,
    version: u64,
) -> KeyPatch {
    let grace = Grace::after_rotation(previous_key_hash, previous_key_expires_at, rotated_at);
    KeyPatch {
        policy: domain::PolicyUpdate::default(),
        description: None,
        expires_at: None,
        is_active: None,
        secret: SecretPatch {
            key_hash: Some(key_hash),
            previous_key: Some(grace),
            rotated_at: Some(rotated_at),
            exposure: Some(None),
        },
        updated_at: rotated_at,
        version,
    }
}

/// The row patch of a leak report: deactivated, grace ended, the report kept.
pub fn exposure_patch(source: &str, exposed_at: DateTime<Utc>, version: u64) -> KeyPatch {
    KeyPatch {
        policy: domain::PolicyUpdate::default(),
        description: None,
        expires_at: None,
        is_active: Some(false),
        secret: SecretPatch {
            previous_key: Some(None),
            exposure: Some(Some(Exposure {
                at: exposed_at,
                source: source.to_owned(),
            })),
            ..SecretPatch::default()
        },
        updated_at: exposed_at,
        version,
    }
}
