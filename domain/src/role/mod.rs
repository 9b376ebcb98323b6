//! The role aggregate: a named set of permissions users are given (id = role name).
mod aggregate;
mod commands;
mod error;
mod events;
mod import;

pub use aggregate::Role;
pub use commands::{RoleCommand, RoleDefinition};
pub use error::RoleError;
pub use events::RoleEvent;
