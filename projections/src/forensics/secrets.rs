//! Which secrets a key had at an instant, and which of them would have authenticated: the answer a
//! responder needs after a rotation or a leak report. Secrets are named by hash prefix only.
use super::stamp;
use crate::audit::{event_time, AuditRecord};
use crate::key_listing::ApiKeyView;
use crate::read_model::ReadModel;
use crate::verify::decide;
use crate::RecordedEvent;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One secret of a key at an instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretAt {
    /// `current`, or `previous` (a rotation's old secret during its grace).
    pub role: &'static str,
    /// The first 8 hex digits of the secret's SHA-256.
    pub hash_prefix: String,
    /// When it stops: the grace's end for a previous secret, the key's expiry for the current one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// Whether presenting it then would have authenticated.
    pub valid: bool,
}

/// The secrets of `view` in `model` (a fold up to `at`).
pub fn secrets_at(model: &ReadModel, view: &ApiKeyView, at: DateTime<Utc>) -> Vec<SecretAt> {
    let roles = model.directory.roles_of(&view.user_id);
    let valid = |hash: domain::KeyHash| {
        model.lookup.get_at(&hash, at).is_some_and(|entry| {
            decide(entry, roles.clone(), None, at, None)
                .principal
                .is_some()
        })
    };
    let current = SecretAt {
        role: "current",
        hash_prefix: view.key_hash.prefix(),
        valid_until: view.expires_at.map(stamp),
        valid: valid(view.key_hash),
    };
    let previous = view.secret.previous_key.map(|grace| SecretAt {
        role: "previous",
        hash_prefix: grace.key_hash.prefix(),
        valid_until: Some(stamp(grace.until)),
        valid: valid(grace.key_hash),
    });
    std::iter::once(current).chain(previous).collect()
}

/// The audit records of a key's events up to `at`, oldest first: its creation, updates, rotations
/// and leak reports.
pub fn history(events: &[RecordedEvent], at: DateTime<Utc>) -> Vec<AuditRecord> {
    events
        .iter()
        .filter(|e| event_time(&e.event) <= at)
        .map(AuditRecord::from_event)
        .collect()
}
