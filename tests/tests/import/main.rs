//! `apikeyd import vams` end to end: VAMS 2.5.1's three tables on DynamoDB Local (exact key schema
//! and GSIs, filled the way VAMS fills them), imported by the real binary into the embedded and into
//! the AWS backend while the server runs; then the original plaintext keys authenticate through that
//! server. Re-runs are idempotent, a dry run writes nothing, broken input is named.
//!
//! Needs `APIKEYD_EMULATORS` (DynamoDB Local) and the binary (`cargo build -p api --bin apikeyd`);
//! without the emulators every test prints why it is skipped and passes.
//!
//! # Layout
//! - `env`: the emulators or a skip, bounded polling (shared with the `aws` suite).
//! - `vams`: the VAMS tables and items, and keys made as VAMS makes them.
//! - `fixture`: one deployment with a key of every kind and what each must do after the import.
//! - `migrate`: import, authenticate, re-run, changes in VAMS, into each backend.
//! - `live`: the import beside a running `apikeyd serve` on the embedded store, seen without restart.
//! - `bad_input`: a missing table, a wrong schema, a dry run.
//! - `measure`: the import rate into the embedded store (`--ignored`; docs/BENCHMARKS.md).
#![forbid(unsafe_code)]

#[path = "../aws/env.rs"]
#[allow(dead_code)]
mod env;
mod fixture;
mod vams;

mod bad_input;
mod live;
mod measure;
mod migrate;
