//! The apikeyd service: HTTP API (VAMS wire contract), authentication, configuration and start-up.
//!
//! # Layout
//! - [`config`]: settings from flags, environment and an optional file.
//! - [`startup`]: [`startup::Application`] wires stores, projections and the HTTP server.
//! - [`commands`]: the command bus over the cqrs-es frameworks, backend-agnostic.
//! - [`auth`]: the `Caller`/`AdminCaller` extractors (bearer keys).
//! - [`error`]: [`error::ApiError`], the only place that knows HTTP status codes.
//! - [`routes`]: one module per route family.
//! - [`bootstrap`]: the first-start admin.
//! - [`cli`]: the `apikeyd` command line.
//! - [`client`]: the client commands (`setup`, `auth`, `api-key`, `role`) talking to a server.
//! - [`telemetry`]: tracing set-up.
#![forbid(unsafe_code)]

pub mod auth;
pub mod body;
pub mod bootstrap;
pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod error;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
