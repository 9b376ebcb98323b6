//! Why an API key command was refused.
use crate::admin_access::LastAdminKey;
use crate::services::DirectoryUnavailable;

/// Refusals of the API key aggregate. Messages match VAMS where VAMS has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyError {
    /// Unknown or deleted key.
    #[error("API key not found")]
    NotFound,
    /// A create for an id that already exists.
    #[error("API key already exists")]
    AlreadyExists,
    /// Another live key has this name.
    #[error("An API key with the name '{0}' already exists. Please choose a different name.")]
    NameTaken(String),
    /// The user has no role to act with.
    #[error("User '{0}' has no roles assigned. Cannot create API key for a user without roles.")]
    UserHasNoRoles(String),
    /// A role scope naming a role the key's user does not hold.
    #[error("role '{role}' is not held by user '{user}'; a key's roles must be roles of its user")]
    RoleNotHeld {
        /// The role.
        role: String,
        /// The user.
        user: String,
    },
    /// An update that names no field.
    #[error("At least one of 'description', 'expiresAt', or 'isActive' must be provided")]
    NothingToUpdate,
    /// Deactivating, expiring or deleting the last live admin key would lock every admin out.
    #[error(transparent)]
    LastAdminKey(#[from] LastAdminKey),
    /// An import of a key that was deleted here after an earlier import.
    #[error("API key '{0}' was deleted in apikeyd after it was imported; not imported again")]
    DeletedAfterImport(String),
    /// An import that would change what never changes on a key (name, user, hash).
    #[error("API key '{id}' differs in {fields}, which never change on a key; not imported")]
    ImportConflict {
        /// The key's id.
        id: String,
        /// The differing fields, as on the wire.
        fields: String,
    },
    /// A rotation of a key whose expiry the lifetime policy does not accept.
    #[error(transparent)]
    Lifetime(#[from] crate::lifetime::LifetimeError),
    /// A lookup the decision needs could not be made.
    #[error("{0}")]
    Unavailable(#[from] DirectoryUnavailable),
}
