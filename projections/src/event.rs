//! Events as read back from an event store, in the store's global order.
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::api_key::{ApiKey, ApiKeyEvent};
use domain::role::{Role, RoleEvent};
use domain::user_roles::{UserRoles, UserRolesEvent};
use std::collections::HashMap;

/// An event of any aggregate.
// Key events carry a key's settings with old and new values; events are folded by reference and
// dropped, never stored in bulk in this form, so boxing them would only add an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum DomainEvent {
    /// An API key changed.
    ApiKey(ApiKeyEvent),
    /// A role changed.
    Role(RoleEvent),
    /// A user's roles changed.
    UserRoles(UserRolesEvent),
}

/// The payload could not be read as an event of a known aggregate.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode {aggregate_type} event: {reason}")]
pub struct DecodeError {
    /// Aggregate type as stored.
    pub aggregate_type: String,
    /// Why.
    pub reason: String,
}

impl DomainEvent {
    /// Decodes a stored payload by its aggregate type.
    pub fn decode(aggregate_type: &str, payload: serde_json::Value) -> Result<Self, DecodeError> {
        Self::decode_from(aggregate_type, payload)
    }

    /// Decodes a payload stored as JSON text, without building a `serde_json::Value` first (the
    /// replay of a million events spends much of its time here).
    pub fn decode_str(aggregate_type: &str, payload: &str) -> Result<Self, DecodeError> {
        let mut text = serde_json::Deserializer::from_str(payload);
        let event = Self::decode_from(aggregate_type, &mut text)?;
        text.end().map_err(|e| DecodeError {
            aggregate_type: aggregate_type.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(event)
    }

    fn decode_from<'de, D>(aggregate_type: &str, payload: D) -> Result<Self, DecodeError>
    where
        D: serde::Deserializer<'de, Error = serde_json::Error>,
    {
        use serde::Deserialize;
        let fail = |reason: String| DecodeError {
            aggregate_type: aggregate_type.to_owned(),
            reason,
        };
        match aggregate_type {
            t if t == ApiKey::TYPE => ApiKeyEvent::deserialize(payload).map(Self::ApiKey),
            t if t == Role::TYPE => RoleEvent::deserialize(payload).map(Self::Role),
            t if t == UserRoles::TYPE => UserRolesEvent::deserialize(payload).map(Self::UserRoles),
            other => return Err(fail(format!("unknown aggregate type {other}"))),
        }
        .map_err(|e| fail(e.to_string()))
    }
}

/// One committed event with its place in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// Where the event sits in the store's feed; cursors compare as strings (the SQLite store pads
    /// its integer position, the DynamoDB store uses a commit timestamp).
    pub cursor: String,
    /// `ApiKey`, `Role` or `UserRoles`.
    pub aggregate_type: String,
    /// The aggregate instance.
    pub aggregate_id: String,
    /// 1-based sequence within the aggregate.
    pub sequence: u64,
    /// The decoded event.
    pub event: DomainEvent,
    /// Request context recorded with the command (request id, source IP, auth method, actor roles).
    pub metadata: HashMap<String, String>,
    /// When the store committed it.
    pub recorded_at: DateTime<Utc>,
}

impl RecordedEvent {
    /// A stable, unique id: readers de-duplicate audit records by it.
    pub fn event_id(&self) -> String {
        format!(
            "{}:{}:{}",
            self.aggregate_type, self.aggregate_id, self.sequence
        )
    }
}
