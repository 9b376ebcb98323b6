//! What every handler shares.
use crate::commands::CommandBus;
use crate::limits::Limits;
use crate::metrics::Metrics;
use projections::{EventFeed, Projector, ViewStore};
use std::sync::Arc;

/// Shared application state.
pub struct AppState {
    /// Executes commands.
    pub bus: Arc<dyn CommandBus>,
    /// The read model and its upkeep.
    pub projector: Arc<Projector>,
    /// The event log (history, per-key audit).
    pub feed: Arc<dyn EventFeed>,
    /// Rate-limited store look-ups for keys memory does not know (AWS backend).
    pub misses: Option<Arc<projections::miss::MissGuard>>,
    /// Roles that may manage keys, roles and user roles.
    pub admin_roles: Vec<String>,
    /// The base URL clients should use.
    pub public_url: String,
    /// Request body cap.
    pub max_body_bytes: usize,
    /// Persisted views and consumer checkpoints (backlog metrics).
    pub views: Arc<dyn ViewStore>,
    /// The key listing (list, console pages, get).
    pub keys: Arc<dyn projections::key_views::KeyViews>,
    /// Checkpoint names of the audit sinks (backlog metrics).
    pub audit_sinks: Vec<String>,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Abuse limits.
    pub limits: Limits,
    /// Refused authentications to the audit trail, bounded (none without an audit sink).
    pub auth_audit: Option<Arc<crate::auth_audit::AuthFailureAudit>>,
    /// How refused bearer keys are answered (`APIKEYD_VAMS_REFUSAL_STATUS`).
    pub refusal_status: crate::error::RefusalStatus,
    /// `APIKEYD_MAX_KEY_LIFETIME_DAYS`, when set.
    pub max_key_lifetime: Option<domain::lifetime::MaxKeyLifetime>,
    /// Keys' last use and usage counts (recorded on every successful verification).
    pub last_use: Arc<crate::usage_flush::LastUse>,
    /// Per-key rate limits: exact on one node, leased from a shared count on the AWS backend.
    pub key_rate: Arc<projections::key_rate::KeyRateLimiter>,
}
