//! Adapters of apikeyd: the stores behind the framework traits, the audit sinks and key material.
//!
//! # Layout
//! - [`sqlite`]: the embedded backend. One SQLite file (WAL) holding the event log, the unique-name
//!   claims, the persisted views and the consumers' checkpoints.
//! - [`dynamo`]: the AWS backend on DynamoDB (event log, feed, unique claims, lookup and views).
//! - [`cloudwatch`]: the audit stream in CloudWatch Logs.
//! - [`audit_reader`]: reading the audit trail back with filters.
//! - [`audit_file`]: the local JSON-lines audit sink.
//! - [`bulk`]: committing many new aggregates in one transaction (imports), through the same code
//!   as a normal commit.
//! - [`vams`]: reading a VAMS deployment's API-key, role and user-role tables (migration).
//! - [`chain`]: the per-aggregate hash chain of stored events and its verification.
//! - [`key_material`]: generating plaintext keys from the OS CSPRNG.
//! - [`stored_time`]: the one text form of an instant in every store and file.
//! - [`unique`]: which event fields must be unique among live aggregates, enforced by the store.
#![forbid(unsafe_code)]

pub mod audit_file;
pub mod audit_reader;
pub mod bulk;
pub mod chain;
pub mod cloudwatch;
pub mod dynamo;
pub mod key_material;
pub mod sqlite;
pub mod stored_policy;
pub mod stored_time;
pub mod unique;
pub mod vams;

pub use dynamo::DynamoStore;
pub use sqlite::SqliteStore;
pub use unique::{AdminGuard, TransactionTooLarge, UniqueRule, UniqueViolation, ADMIN_GUARD_META};
