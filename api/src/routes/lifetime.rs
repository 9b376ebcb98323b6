//! The lifetime policy (`APIKEYD_MAX_KEY_LIFETIME_DAYS`) as the key routes apply it: create and
//! rotate need an expiry within the limit, and an update may not set one beyond it (or clear it).
use crate::error::ApiError;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use domain::Expiration;

/// Refuses `expiry` (400 naming the limit) when a policy is set and would not accept it at `now`.
pub fn check(
    state: &AppState,
    expiry: Option<&Expiration>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    match state.max_key_lifetime {
        Some(policy) => policy
            .check(expiry, now)
            .map_err(|e| ApiError::BadRequest(e.to_string())),
        None => Ok(()),
    }
}
