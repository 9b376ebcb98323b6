//! What every handler shares.
use crate::commands::CommandBus;
use projections::{EventFeed, Projector};
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
}
