//! End-to-end tests of apikeyd: the real app on port 0 against a fresh store, driven over HTTP only.
//! The backend comes from `APIKEYD_TEST_BACKEND` (default `embedded`); nothing here depends on which.
//! Tests that run the `apikeyd` binary need `cargo build -p api --bin apikeyd` first.
//!
//! # Layout
//! One module per topic: the public and profile routes, each key route, authentication and admin
//! rights, verify/check, revocation, expiry, roles, user roles, malformed input, the name race,
//! restarts and projections, the binary's CLI, the plaintext scan, rotation, the checksummed key
//! format, leak reports, the lifetime policy and per-key settings (scope, rate limit, allowlist, meta).
#![forbid(unsafe_code)]

mod api_keys_create;
mod api_keys_delete;
mod api_keys_list;
mod api_keys_update;
mod api_keys_validation;
mod authentication;
mod bad_input;
mod cli;
mod expiry;
mod expiry_range;
mod exposures;
mod key_format;
mod key_settings;
mod last_admin;
mod last_use;
mod lifetime;
mod name_race;
mod names;
mod plaintext_scan;
mod public_routes;
mod queueing;
mod recovery;
mod refusal_status;
mod restart;
mod revocation;
mod role_deletion;
mod roles;
mod rotation;
mod seed;
mod user_roles;
mod verify_check;
