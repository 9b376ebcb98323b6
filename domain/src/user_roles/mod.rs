//! The user-roles aggregate: the set of roles one user holds (id = user id).
mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::UserRoles;
pub use commands::UserRolesCommand;
pub use error::UserRolesError;
pub use events::UserRolesEvent;
