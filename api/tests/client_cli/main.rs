//! End to end: the real `apikeyd` binary's client commands against a real server on port 0, each
//! run with its own HOME/XDG_CONFIG_HOME and stdin closed (so never a terminal).
//!
//! # Layout
//! - `helpers`: the server, the client runner and its assertions.
//! - `stub`: a scripted HTTP server for answers apikeyd never gives (429, odd versions).
//! - `auth`, `api_keys`, `rotation`, `roles`, `exit_codes`: one module per command family;
//!   `key_settings`: the issue 13 flags of `api-key create|update` (scope, limit, networks, meta).
//! - `output`: server data escaped for people, exact in `--json`.
//! - `closed_pipe`: `apikeyd … | head` ends quietly, client commands and audit tools alike.
mod api_keys;
mod auth;
mod closed_pipe;
mod exit_codes;
mod helpers;
mod key_settings;
mod last_use;
mod output;
mod roles;
mod rotation;
mod stub;
