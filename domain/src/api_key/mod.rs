//! The API key aggregate: a credential that acts as one user.
mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::{ApiKey, Grace};
pub use commands::{
    ApiKeyCommand, CreateApiKey, DeleteApiKey, ExposeApiKey, ImportApiKey, RotateApiKey,
    UpdateApiKey,
};
pub use error::ApiKeyError;
pub use events::{ApiKeyChanges, ApiKeyEvent, Change};
