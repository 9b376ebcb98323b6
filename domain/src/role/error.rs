//! Why a role command was refused.

/// Refusals of the role aggregate, worded as VAMS words them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    /// Create for a live role.
    #[error("VAMS General Error: Role already exists")]
    AlreadyExists,
    /// Update or delete of an unknown role.
    #[error("VAMS General Error: Role does not exist")]
    NotFound,
}
