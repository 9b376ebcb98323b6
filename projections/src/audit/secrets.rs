//! Audit records of rotations (`apiKeyRotate`) and leak reports (`apiKeyExposed`). Secrets appear
//! by the first eight hex digits of their hash only, as refused keys do.
use super::{key_subject, Subject};
use domain::api_key::ApiKeyEvent;
use serde_json::json;

/// The actor of a leak report: reports are unauthenticated, as refused keys are.
pub const REPORTER: &str = "anonymous";

/// A rotation: the old and new secret's hash prefixes and when the old one stops.
pub(super) fn rotated(event: &ApiKeyEvent) -> Subject {
    let ApiKeyEvent::ApiKeyRotated {
        api_key_id,
        api_key_name,
        user_id,
        key_hash,
        previous_key_hash,
        previous_key_expires_at,
        grace_period_seconds,
        rotated_by,
        ..
    } = event
    else {
        unreachable!("audit::subject passes only this event here")
    };
    Subject {
        changed_fields: vec!["apiKeyHash".to_owned()],
        changes: json!({
            "keyHashPrefix": {"old": previous_key_hash.prefix(), "new": key_hash.prefix()},
            "previousKeyExpiresAt": previous_key_expires_at,
            "gracePeriodSeconds": grace_period_seconds.seconds(),
        }),
        ..key_subject(
            "apiKeyRotate",
            rotated_by.as_ref(),
            api_key_id,
            api_key_name.as_ref(),
            user_id.as_ref(),
        )
    }
}

/// A leak report: the key deactivated, where the secret was found and who reported it.
pub(super) fn exposed(event: &ApiKeyEvent) -> Subject {
    let ApiKeyEvent::ApiKeyExposed {
        api_key_id,
        api_key_name,
        user_id,
        key_hash,
        source,
        reporter_ip,
        was_active,
        ..
    } = event
    else {
        unreachable!("audit::subject passes only this event here")
    };
    Subject {
        changed_fields: vec!["isActive".to_owned()],
        changes: json!({
            "isActive": {"old": was_active, "new": false},
            "keyHashPrefix": key_hash.prefix(),
            "source": source.as_ref(),
            "reporterIp": reporter_ip,
        }),
        ..key_subject(
            "apiKeyExposed",
            REPORTER,
            api_key_id,
            api_key_name.as_ref(),
            user_id.as_ref(),
        )
    }
}
