//! Rotation (a new secret, the previous one in grace) and leak reports (deactivate at once).
use super::{ApiKey, Lifecycle, LiveKey};
use crate::api_key::{ApiKeyError, ApiKeyEvent, ExposeApiKey, RotateApiKey};
use crate::{GracePeriod, KeyHash};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A previous secret and when it stops authenticating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grace {
    /// Its hash.
    pub key_hash: KeyHash,
    /// When it stops.
    pub until: DateTime<Utc>,
}

impl Grace {
    /// The grace a rotation leaves: none when it ends at once.
    pub fn after_rotation(
        previous_key_hash: KeyHash,
        until: DateTime<Utc>,
        rotated_at: DateTime<Utc>,
    ) -> Option<Self> {
        (until > rotated_at).then_some(Self {
            key_hash: previous_key_hash,
            until,
        })
    }
}

impl LiveKey {
    /// Folds a rotation or an exposure.
    pub(super) fn apply_secret_event(&mut self, event: ApiKeyEvent) {
        match event {
            ApiKeyEvent::ApiKeyRotated {
                key_hash,
                previous_key_hash,
                previous_key_expires_at,
                rotated_at,
                ..
            } => {
                self.previous =
                    Grace::after_rotation(previous_key_hash, previous_key_expires_at, rotated_at);
                self.key_hash = key_hash;
                self.exposed = false;
            }
            ApiKeyEvent::ApiKeyExposed { .. } => {
                self.is_active = false;
                self.previous = None;
                self.exposed = true;
            }
            _ => {}
        }
    }

    /// Whether `hash` is a secret of this key at `at`: the current one or one still in grace.
    fn has_secret(&self, hash: &KeyHash, at: DateTime<Utc>) -> bool {
        self.key_hash == *hash
            || self
                .previous
                .is_some_and(|g| g.key_hash == *hash && g.until > at)
    }
}

impl ApiKey {
    /// A new secret. The previous one keeps its grace only on an active key (deactivation stops
    /// every secret, and reactivating later must not revive one); any older grace ends now, so at
    /// most two secrets are ever live. The admin guard is not asked: the new secret is live with
    /// the key's own expiry, so even the last admin key rotated with no grace locks nobody out.
    /// Under a lifetime policy the key's expiry must be within it (the new secret must not outlive
    /// the limit).
    pub(super) fn rotate(&self, cmd: RotateApiKey) -> Result<Option<ApiKeyEvent>, ApiKeyError> {
        let Lifecycle::Live(key) = &self.state else {
            return Err(ApiKeyError::NotFound);
        };
        if let Some(policy) = cmd.max_lifetime {
            policy.check(key.expires_at.as_ref(), cmd.at)?;
        }
        let grace = if key.is_active {
            cmd.grace
        } else {
            GracePeriod::NONE
        };
        Ok(Some(ApiKeyEvent::ApiKeyRotated {
            api_key_id: key.id,
            api_key_name: key.name.clone(),
            user_id: key.user_id.clone(),
            key_hash: cmd.key_hash,
            previous_key_hash: key.key_hash,
            previous_key_expires_at: grace.ends(cmd.at, key.expires_at.map(|e| e.at())),
            grace_period_seconds: cmd.grace,
            rotated_by: cmd.actor,
            rotated_at: cmd.at,
        }))
    }

    /// Deactivates the key a leak report named, whatever the admin guard would say: a leaked admin
    /// key is worse than none (`apikeyd recover` gets admins back in). A report of a key already
    /// deactivated by an earlier report records nothing; a secret that is not (or no longer) the
    /// key's is not found.
    pub(super) fn expose(&self, cmd: ExposeApiKey) -> Result<Option<ApiKeyEvent>, ApiKeyError> {
        let Lifecycle::Live(key) = &self.state else {
            return Err(ApiKeyError::NotFound);
        };
        if !key.has_secret(&cmd.key_hash, cmd.at) {
            return Err(ApiKeyError::NotFound);
        }
        if key.exposed && !key.is_active {
            return Ok(None);
        }
        Ok(Some(ApiKeyEvent::ApiKeyExposed {
            api_key_id: key.id,
            api_key_name: key.name.clone(),
            user_id: key.user_id.clone(),
            key_hash: cmd.key_hash,
            source: cmd.source,
            reporter_ip: cmd.reporter_ip,
            was_active: key.is_active,
            exposed_at: cmd.at,
        }))
    }
}
