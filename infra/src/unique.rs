//! Uniqueness across aggregates, enforced by the event store in the same write as the event.
//!
//! An aggregate only sees itself, so "no two live keys share a name" cannot be decided by one
//! aggregate. A pre-check against the read model gives a friendly error in the common case; the
//! store's claim, written atomically with the event, is what makes two racing creates (threads or
//! nodes) impossible to both win.
//!
//! The admin guard is the same idea for an invariant over many aggregates ("some live admin key
//! remains", docs/adr/013-admin-guard.md): one version item that every command able to take admin
//! access away advances, in its commit, from the version it observed before deciding. Two such
//! commands deciding on the same state cannot both commit; the loser retries on the new state.
use cqrs_es::persist::{PersistenceError, SerializedEvent};
use serde_json::Value;
use std::future::Future;

/// A field of one event type that must be unique among live aggregates of one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UniqueRule {
    /// Aggregate type the rule applies to.
    pub aggregate_type: &'static str,
    /// The claim's namespace.
    pub scope: &'static str,
    /// Event that claims the value.
    pub claim_on: &'static str,
    /// JSON pointer to the value inside the serialized event.
    pub pointer: &'static str,
    /// Events that release the aggregate's claim.
    pub release_on: &'static [&'static str],
    /// JSON pointer to the released value inside a releasing event, relative to the event's
    /// variant (stores keyed by value need it; stores indexed by owner do not).
    pub release_field: &'static str,
}

/// Live API keys have distinct names; deleting a key frees its name.
pub const API_KEY_NAME: UniqueRule = UniqueRule {
    aggregate_type: "ApiKey",
    scope: "apiKeyName",
    claim_on: "ApiKeyCreated",
    pointer: "/ApiKeyCreated/api_key_name",
    release_on: &["ApiKeyDeleted"],
    release_field: "api_key_name",
};

/// An imported key claims its name in the same scope; deleting it frees the name through
/// [`API_KEY_NAME`]'s release (claims are released by owner, whichever event took them).
pub const IMPORTED_API_KEY_NAME: UniqueRule = UniqueRule {
    aggregate_type: "ApiKey",
    scope: "apiKeyName",
    claim_on: "ApiKeyImported",
    pointer: "/ApiKeyImported/api_key_name",
    release_on: &[],
    release_field: "api_key_name",
};

/// Every rule apikeyd enforces.
pub const RULES: &[UniqueRule] = &[API_KEY_NAME, IMPORTED_API_KEY_NAME];

/// What one event does to the claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimAction {
    /// Take `value` in `scope` for the aggregate.
    Claim { scope: &'static str, value: String },
    /// Drop the aggregate's claim in `scope` (`value` when the event names it).
    Release {
        scope: &'static str,
        value: Option<String>,
    },
}

impl UniqueRule {
    /// The action this rule takes for an event, if any.
    pub fn action(
        &self,
        aggregate_type: &str,
        event_type: &str,
        payload: &Value,
    ) -> Option<ClaimAction> {
        if aggregate_type != self.aggregate_type {
            return None;
        }
        if event_type == self.claim_on {
            let value = payload.pointer(self.pointer)?.as_str()?.to_owned();
            return Some(ClaimAction::Claim {
                scope: self.scope,
                value,
            });
        }
        self.release_on.contains(&event_type).then(|| {
            let value = payload
                .get(event_type)
                .and_then(|v| v.get(self.release_field))
                .and_then(Value::as_str)
                .map(str::to_owned);
            ClaimAction::Release {
                scope: self.scope,
                value,
            }
        })
    }
}

/// Metadata key carrying the admin-guard version a guarded command observed before deciding.
pub const ADMIN_GUARD_META: &str = "adminGuard";

/// The guard item's scope and value among the claims (its version is stored as the owner).
pub(crate) const ADMIN_GUARD_SCOPE: &str = "adminGuard";
/// See [`ADMIN_GUARD_SCOPE`].
pub(crate) const ADMIN_GUARD_VALUE: &str = "version";

/// A store holding the admin guard.
pub trait AdminGuard {
    /// The guard's current version (0 before any guarded commit), read consistently.
    fn admin_guard(&self) -> impl Future<Output = Result<u64, PersistenceError>> + Send;
}

/// The guard version a commit observed, when its command is guarded (all events of one commit
/// carry the same metadata).
pub(crate) fn observed_guard(events: &[SerializedEvent]) -> Result<Option<u64>, PersistenceError> {
    let Some(raw) = events
        .first()
        .and_then(|e| e.metadata.get(ADMIN_GUARD_META))
    else {
        return Ok(None);
    };
    raw.as_str()
        .and_then(|v| v.parse().ok())
        .map(Some)
        .ok_or_else(|| {
            PersistenceError::UnknownError(format!("invalid {ADMIN_GUARD_META}: {raw}").into())
        })
}

/// Parses a stored guard version.
pub(crate) fn guard_version(stored: Option<&str>) -> Result<u64, PersistenceError> {
    stored.map_or(Ok(0), |v| {
        v.parse().map_err(|_| {
            PersistenceError::DeserializationError(format!("invalid admin guard: {v}").into())
        })
    })
}

/// One commit holds more writes than the store can make atomically.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{items} writes exceed one transaction (at most {limit})")]
pub struct TransactionTooLarge {
    /// Writes the commit needs.
    pub items: usize,
    /// Writes one transaction can hold.
    pub limit: usize,
}

/// Another live aggregate holds the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{scope} '{value}' is already taken")]
pub struct UniqueViolation {
    /// The rule's scope.
    pub scope: String,
    /// The contested value.
    pub value: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use domain::api_key::ApiKeyEvent;
    use domain::{Actor, ApiKeyName, Description, KeyHash, UserId};

    #[test]
    fn pointer_matches_the_serialized_create_event() {
        let event = ApiKeyEvent::ApiKeyCreated {
            api_key_id: uuid::Uuid::nil(),
            api_key_name: ApiKeyName::parse("deploy").unwrap(),
            user_id: UserId::parse("alice").unwrap(),
            description: Description::parse("d").unwrap(),
            key_hash: KeyHash::of("x"),
            expires_at: None,
            created_by: Actor::system(),
            created_at: Utc::now(),
            policy: Default::default(),
        };
        let payload = serde_json::to_value(&event).unwrap();
        assert_eq!(
            API_KEY_NAME.action("ApiKey", "ApiKeyCreated", &payload),
            Some(ClaimAction::Claim {
                scope: "apiKeyName",
                value: "deploy".into()
            })
        );
        let deleted = serde_json::to_value(ApiKeyEvent::ApiKeyDeleted {
            api_key_id: uuid::Uuid::nil(),
            api_key_name: ApiKeyName::parse("deploy").unwrap(),
            user_id: UserId::parse("alice").unwrap(),
            deleted_by: Actor::system(),
            deleted_at: Utc::now(),
        })
        .unwrap();
        assert_eq!(
            API_KEY_NAME.action("ApiKey", "ApiKeyDeleted", &deleted),
            Some(ClaimAction::Release {
                scope: "apiKeyName",
                value: Some("deploy".into())
            })
        );
        assert_eq!(API_KEY_NAME.action("Role", "ApiKeyCreated", &payload), None);
    }

    #[test]
    fn an_imported_key_claims_its_name_in_the_same_scope() {
        let at = Utc::now();
        let event = ApiKeyEvent::ApiKeyImported {
            api_key_id: uuid::Uuid::nil(),
            api_key_name: ApiKeyName::parse("ci").unwrap(),
            user_id: UserId::parse("alice").unwrap(),
            description: Description::parse("d").unwrap(),
            key_hash: KeyHash::of("x"),
            expires_at: None,
            is_active: false,
            created_by: Actor::recorded("unknown"),
            created_at: at,
            updated_at: at,
            source: domain::ImportSource {
                system: "vams".into(),
                table: "t".into(),
                imported_by: Actor::system(),
                imported_at: at,
            },
        };
        let payload = serde_json::to_value(&event).unwrap();
        let claims: Vec<_> = RULES
            .iter()
            .filter_map(|r| r.action("ApiKey", "ApiKeyImported", &payload))
            .collect();
        assert_eq!(
            claims,
            vec![ClaimAction::Claim {
                scope: "apiKeyName",
                value: "ci".into()
            }]
        );
    }
}
