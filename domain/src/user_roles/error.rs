//! Why a user-roles command was refused.
use crate::admin_access::LastAdminKey;
use crate::services::DirectoryUnavailable;

/// Refusals of the user-roles aggregate, worded as VAMS words them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserRolesError {
    /// An assign or replace with no role.
    #[error("roleName must be a non-empty list of role names")]
    NoRoles,
    /// A named role is not defined.
    #[error("VAMS General Error: Role '{0}' does not exist in the system")]
    RoleDoesNotExist(String),
    /// An assign of a role the user already holds.
    #[error("VAMS General Error: One or more roles already exist for this user")]
    AlreadyAssigned,
    /// Taking the role would leave no live admin key.
    #[error(transparent)]
    LastAdminKey(#[from] LastAdminKey),
    /// The role lookup could not be made.
    #[error("{0}")]
    Unavailable(#[from] DirectoryUnavailable),
}
