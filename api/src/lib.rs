//! The apikeyd service: HTTP API (VAMS wire contract), authentication, configuration and start-up.
//!
//! # Layout
//! - [`config`]: settings from flags, environment and an optional file.
//! - [`startup`]: [`startup::Application`] wires stores, projections and the HTTP server.
//! - [`commands`]: the command bus over the cqrs-es frameworks, backend-agnostic.
//! - [`auth`]: the `Caller`/`AdminCaller` extractors (bearer keys).
//! - [`auth_audit`]: refused authentications in the audit trail, bounded.
//! - [`error`]: [`error::ApiError`], the only place that knows HTTP status codes.
//! - [`routes`]: one module per route family.
//! - [`bootstrap`]: the first-start admin.
//! - [`cli`]: the `apikeyd` command line.
//! - [`client`]: the client commands (`setup`, `auth`, `api-key`, `role`) talking to a server.
//! - [`console`]: escaping data for people, and stdout that may be a pipe closed early.
//! - [`telemetry`]: tracing set-up (every line redacted) and the access log.
//! - [`import`]: `apikeyd import vams`, migrating a running VAMS's keys, roles and user roles.
//! - [`tools`]: events, forensics and audit commands working on the store directly.
//! - [`progress`]: progress bars of long commands, on a terminal only.
//! - [`bench_baseline`]: `apikeyd bench sqlite-commits`, the raw SQLite commit rate (baseline).
//! - [`bench_seed`]: `apikeyd bench seed`, many keys in the embedded store quickly (benchmarks).
//! - [`request_id`]: the per-request id in spans, events and the `X-Request-Id` response header.
//! - [`client_info`]: [`client_info::ClientInfo`], the client address (trusted-proxy rule) and request
//!   id computed once per request.
//! - [`connections`]: the per-peer connection cap.
//! - [`redact`]: key-shaped strings removed from logs, audit records and error messages.
//! - [`metrics`]: Prometheus `/metrics`.
//! - [`limits`]: refused keys rate-limited per client IP; header, body-time and connection caps.
//! - [`openapi`]: the OpenAPI 3 document at `/openapi.json`.
#![forbid(unsafe_code)]

pub mod auth;
pub mod auth_audit;
pub mod bench_baseline;
pub mod bench_seed;
pub mod body;
pub mod bootstrap;
pub mod cli;
pub mod client;
pub mod client_info;
pub mod commands;
pub mod config;
pub mod connections;
pub mod console;
pub mod error;
pub mod import;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod progress;
pub mod redact;
pub mod request_id;
pub mod routes;
pub mod startup;
pub mod state;
pub mod stores;
pub mod telemetry;
pub mod tools;
pub mod usage_flush;
