//! The apikeyd domain: what an API key, a role and a user's roles are, which commands change them and
//! which events record those changes. Pure code: no I/O, no HTTP, no storage.
//!
//! # Layout
//! - [`api_key`], [`role`], [`user_roles`]: one folder per aggregate (`aggregate`, `commands`, `events`,
//!   `error`).
//! - Value types, one per file: [`ApiKeyName`], [`Description`], [`UserId`], [`Expiration`],
//!   [`RoleName`], [`KeyHash`], [`Actor`], [`IsActive`], [`ImportSource`] (where an imported record
//!   came from), [`GracePeriod`] (a rotated secret's grace), [`ExposureSource`] (where a leak was found).
//! - [`key_format`]: the checksummed key format and the VAMS one.
//! - [`key_policy`]: a key's role scope, rate limit, allowed networks and metadata; [`cidr`] the
//!   network ranges it and the trusted-proxy rule use.
//! - [`lifetime`]: the operator's cap on a key's lifetime.
//! - [`characters`]: which characters names and free text may hold (also used to escape output).
//! - [`admin_access`]: the pure decision that no command takes the last live admin key away.
//! - [`services`]: the lookups an aggregate needs from outside (does a user have roles?), implemented in
//!   `infra`.
#![forbid(unsafe_code)]

pub mod actor;
pub mod admin_access;
pub mod api_key;
pub mod api_key_name;
pub mod characters;
pub mod cidr;
pub mod description;
pub mod expiration;
pub mod exposure_source;
pub mod grace_period;
pub mod import_source;
pub mod is_active;
pub mod key_format;
pub mod key_hash;
pub mod key_policy;
pub mod lifetime;
pub mod role;
pub mod role_name;
pub mod services;
pub mod user_id;
pub mod user_roles;

pub use actor::Actor;
pub use api_key_name::ApiKeyName;
pub use description::Description;
pub use expiration::{Expiration, ExpiryForm, RecordedExpiry};
pub use exposure_source::ExposureSource;
pub use grace_period::GracePeriod;
pub use import_source::ImportSource;
pub use is_active::IsActive;
pub use key_hash::{HashPrefix, KeyHash};
pub use key_policy::{KeyPolicy, PolicyUpdate};
pub use role_name::RoleName;
pub use user_id::UserId;

/// A value failed to parse. The message is shown to the caller as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
