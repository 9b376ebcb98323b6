//! HTTP routes, one module per family, and the helpers they share.
pub mod admin_ui;
pub mod api_keys;
pub mod exposures;
pub mod forensics;
pub mod health;
pub mod key_settings;
pub mod lifetime;
pub mod meta;
pub mod roles;
pub mod rotation;
pub mod usage;
pub mod user_roles;
pub mod verify;

use crate::error::ApiError;
use actix_web::web;
use chrono::{DateTime, SecondsFormat, Utc};

/// Every route.
pub fn config(cfg: &mut web::ServiceConfig) {
    // The gateway's per-request routes first: actix tries resources in order, and every
    // parameterised one before a match costs a regex run on the hot path.
    cfg.configure(verify::config)
        .configure(meta::config)
        .configure(api_keys::config)
        .configure(rotation::config)
        .configure(exposures::config)
        .configure(roles::config)
        .configure(user_roles::config)
        .configure(health::config)
        .configure(forensics::config)
        .configure(admin_ui::config);
}

/// Timestamps as VAMS (Python `isoformat`) writes them: microseconds and `+00:00`.
pub fn wire_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, false)
}

/// A required string field, or VAMS-style 400.
pub fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, ApiError> {
    value
        .as_deref()
        .ok_or_else(|| ApiError::BadRequest(format!("{field} is required")))
}

/// A parse error of a domain value as a 400.
pub fn bad(e: domain::ParseError) -> ApiError {
    ApiError::BadRequest(e.0)
}
