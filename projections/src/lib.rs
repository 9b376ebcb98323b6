//! Read models of apikeyd, folded from the event log: the in-memory key lookup that authentication
//! uses, the key listing, roles and user roles, and the audit records derived from every event.
//!
//! # Layout
//! - [`event`]: a recorded event as read back from any store, decoded into [`event::DomainEvent`].
//! - [`read_model`]: [`ReadModel`], the fold of all events; pure, comparable, rebuildable.
//!   - [`key_lookup`]: hash → compact key entry, O(1), the authentication hot path; also every
//!     key's version and a name digest for the uniqueness pre-check.
//!   - [`key_listing`]: key id → [`key_listing::ApiKeyView`], what the listing routes return (kept
//!     in memory only when the view store cannot answer listings itself).
//!   - [`secret_state`]: a key's previous secret in grace, last rotation and leak report.
//! - [`key_views`]: the port the key routes read through, in memory or from persisted views.
//!   - [`role_directory`]: roles and the roles each user holds.
//!   - `imported`: the listing row of a key imported from another system (VAMS).
//! - [`verify`]: decide whether a presented key authenticates, and as whom (allowlist and role
//!   scope included).
//! - [`key_rate`]: per-key rate limits, exact per node or leased from a shared count (ADR 020).
//! - [`audit`]: one [`audit::AuditRecord`] per event.
//!   - [`audit_vams`]: the same records as VAMS's `[AUTHCHANGES]` audit lines, and back.
//! - [`forensics`]: a key or a user as it was at a past instant.
//! - [`projector`]: keeps the read model, the persisted views and the audit sink caught up with the
//!   event log through checkpoints, so a failing store never loses an update.
//! - [`miss`]: bounded store look-ups for keys memory does not know yet (multi-node).
//! - [`usage`]: last use and usage counts, recorded on verification and flushed to a store table of
//!   their own (not events).
//! - [`directory`]: the domain's `Directory` service answered from the read model.
#![forbid(unsafe_code)]

pub mod audit;
pub mod audit_vams;
pub mod directory;
pub mod event;
pub mod forensics;
pub mod key_listing;
pub mod key_lookup;
pub mod key_rate;
pub mod key_views;
pub mod miss;
pub mod projector;
pub mod read_model;
pub mod role_directory;
pub mod secret_state;
pub mod usage;
pub mod verify;

pub use event::{DomainEvent, RecordedEvent};
pub use projector::{
    AuditSink, Chain, EventFeed, Projector, StoreCause, StoreError, ViewChanges, ViewStore,
};
pub use read_model::ReadModel;
