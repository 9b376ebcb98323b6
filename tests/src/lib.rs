//! Black-box end-to-end test support for apikeyd: boot the real app (or the real `apikeyd` binary) on
//! port 0 against a fresh store and talk to it over HTTP only, exactly as vamscli, the web console and
//! gateways do.
//!
//! The suite itself lives in `tests/api/` (one integration-test binary, one module per topic). Nothing
//! here reaches into `domain`, `infra` or `projections`: the same tests must pass against every backend,
//! chosen with `APIKEYD_TEST_BACKEND` (see [`backend`]).
//!
//! Tests that run the binary need it built first: `cargo build -p api --bin apikeyd`.
//!
//! # Layout
//! - [`backend`]: the store the app under test runs on, and what the binary needs to find it.
//! - [`app`]: [`spawn_app`] / [`TestApp`], the in-process server with its data dir and client.
//! - [`call`]: [`Api`] (address, admin key, client), a request builder defaulting to the admin key,
//!   and [`Reply`], a response read whole with the assertions every test uses.
//! - [`keys`], [`roles`], [`auth`], [`rotation`]: typed request helpers, one per route.
//! - [`rate_window`]: the fixed rate-limit window in force, and room left in it before a test fills it.
//! - [`expect`]: [`Expect`], the message an invalid-input case must get.
//! - [`snapshot`]: the three management views at once, to prove nothing was written or lost.
//! - [`binary`]: runs `apikeyd serve`, `apikeyd projections …`, `apikeyd --help`.
//! - [`secrets`]: finding key material and its hash in bytes (the plaintext scan) and reading the audit
//!   file.
#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod backend;
pub mod binary;
pub mod call;
pub mod expect;
pub mod keys;
pub mod rate_window;
pub mod roles;
pub mod rotation;
pub mod secrets;
pub mod snapshot;

pub use app::{spawn_app, spawn_app_on, spawn_app_with, TestApp};
pub use backend::Backend;
pub use call::{Api, Auth, Reply};
pub use expect::Expect;
pub use keys::CreatedKey;
