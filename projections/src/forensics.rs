//! Time travel: what a key was, and which keys could act as a user, at a past instant — folded from
//! the events that had happened by then.
use crate::key_listing::ApiKeyView;
use crate::read_model::{version_key, ReadModel};
use crate::verify::decide;
use crate::ReadModel as Model;
use chrono::{DateTime, SecondsFormat, Utc};
use domain::{RoleName, UserId};
use serde::Serialize;
use uuid::Uuid;

mod secrets;

pub use secrets::{history, secrets_at, SecretAt};

/// A key at an instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyAt {
    pub api_key_id: Uuid,
    pub at: String,
    /// `NOT_CREATED`, `DELETED` or `LIVE`.
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    pub expired: bool,
    /// The user's roles at that instant.
    pub user_roles: Vec<RoleName>,
    /// Whether the key would have authenticated: `VALID`, or why not.
    pub verification: &'static str,
    pub could_authenticate: bool,
    /// Its secrets then (current, and a rotation's previous one in grace) by hash prefix.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretAt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposure_source: Option<String>,
    /// The key's settings then (`roles` scope, `rateLimit`, `allowedCidrs`, `meta`; each only when
    /// set): what the key could do, not only whether it authenticated.
    #[serde(flatten)]
    pub settings: domain::KeyPolicy,
    /// The key's events up to the instant, as audit records (filled by [`KeyAt::with_history`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<crate::audit::AuditRecord>,
}

impl KeyAt {
    /// This answer with the key's history: `events` are the key's, oldest first.
    pub fn with_history(mut self, events: &[crate::RecordedEvent], at: DateTime<Utc>) -> Self {
        self.history = history(events, at);
        self
    }
}

/// A user at an instant: every live key of theirs and whether it could authenticate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAt {
    pub user_id: String,
    pub at: String,
    pub roles: Vec<RoleName>,
    pub keys: Vec<KeyAt>,
}

pub(crate) fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, false)
}

fn key_at(model: &Model, view: &ApiKeyView, at: DateTime<Utc>) -> KeyAt {
    let roles = model.directory.roles_of(&view.user_id);
    let verdict = decide(
        ReadModel::lookup_entry(view).as_ref(),
        roles.clone(),
        None,
        at,
        // The request's address is not in the log: the allowlist is not judged in a replay.
        None,
    );
    KeyAt {
        api_key_id: view.api_key_id,
        at: stamp(at),
        state: "LIVE",
        api_key_name: Some(view.api_key_name.clone()),
        user_id: Some(view.user_id.to_string()),
        description: Some(view.description.clone()),
        is_active: Some(view.is_active),
        expires_at: view.expires_at.map(stamp),
        expired: view.expires_at.is_some_and(|e| at >= e),
        user_roles: roles,
        verification: verdict.code.as_str(),
        could_authenticate: verdict.principal.is_some(),
        secrets: secrets_at(model, view, at),
        rotated_at: view.secret.rotated_at.map(stamp),
        exposed_at: view.secret.exposure.as_ref().map(|e| stamp(e.at)),
        exposure_source: view.secret.exposure.as_ref().map(|e| e.source.clone()),
        settings: view.policy.clone(),
        history: vec![],
    }
}

/// The key `id` in `model`, a fold of the events up to `at`.
pub fn key(model: &Model, id: Uuid, at: DateTime<Utc>) -> KeyAt {
    if let Some(view) = model.listing.get(&id) {
        return key_at(model, view, at);
    }
    let existed = model.version(&version_key("ApiKey", &id.to_string())) > 0;
    KeyAt {
        api_key_id: id,
        at: stamp(at),
        state: if existed { "DELETED" } else { "NOT_CREATED" },
        api_key_name: None,
        user_id: None,
        description: None,
        is_active: None,
        expires_at: None,
        expired: false,
        user_roles: vec![],
        verification: "NOT_FOUND",
        could_authenticate: false,
        secrets: vec![],
        rotated_at: None,
        exposed_at: None,
        exposure_source: None,
        settings: domain::KeyPolicy::default(),
        history: vec![],
    }
}

/// Every live key of `user` in `model`, a fold of the events up to `at`.
pub fn user(model: &Model, user: &UserId, at: DateTime<Utc>) -> UserAt {
    UserAt {
        user_id: user.to_string(),
        at: stamp(at),
        roles: model.directory.roles_of(user),
        keys: model
            .listing
            .iter()
            .filter(|v| &v.user_id == user)
            .map(|v| key_at(model, v, at))
            .collect(),
    }
}

/// Parses an instant: RFC 3339 with offset, or a naive date-time / date read as UTC.
pub fn parse_instant(raw: &str) -> Option<DateTime<Utc>> {
    let iso = raw.trim().replacen(' ', "T", 1);
    if let Ok(at) = DateTime::parse_from_rfc3339(&iso) {
        return Some(at.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(&iso, format) {
            return Some(naive.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(&iso, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}
