//! Who issued a command.
use crate::UserId;
use serde::{Deserialize, Serialize};

/// The caller behind a command: a user id, or the system itself (first-start bootstrap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Actor(String);

/// The actor recorded for changes apikeyd makes by itself.
pub const SYSTEM_ACTOR: &str = "system";

impl Actor {
    /// A caller authenticated as `user`.
    pub fn user(user: &UserId) -> Self {
        Self(user.as_ref().to_owned())
    }

    /// apikeyd itself, e.g. the first-start bootstrap or an operator's CLI.
    pub fn system() -> Self {
        Self(SYSTEM_ACTOR.to_owned())
    }

    /// An actor another system recorded (an import's `createdBy`), kept as it was written there.
    pub fn recorded(name: &str) -> Self {
        Self(name.to_owned())
    }
}

impl AsRef<str> for Actor {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
