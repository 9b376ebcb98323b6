//! What can go wrong in a client command, and the exit code each case maps to.

/// Exit code: the server (or the local profile) said no.
pub const EXIT_REFUSED: u8 = 1;
/// Exit code: the command line or a local input is wrong (clap uses the same code).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: the server could not be reached.
pub const EXIT_UNREACHABLE: u8 = 3;

/// Every failure of a client command. Messages never contain a stored API key.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The command line or a local input is wrong (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The server answered with a non-success status (exit 1).
    #[error("error ({status}): {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The server's `message`, or the status reason when it sent none.
        message: String,
        /// What the user can do about it, when we know.
        hint: Option<String>,
    },
    /// The local state does not allow the command: not set up, no key, key expired, not confirmed,
    /// profile unreadable (exit 1).
    #[error("{0}")]
    Refused(String),
    /// Stdout could not be written (exit 1); a closed pipe instead ends the command quietly with 0.
    #[error("cannot write to stdout: {0}")]
    Stdout(#[source] std::io::Error),
    /// Connection refused, timeout, DNS failure, connection dropped (exit 3).
    #[error("cannot reach the server at {url}: {cause}")]
    Unreachable {
        /// The URL that was tried.
        url: String,
        /// The innermost cause.
        cause: String,
    },
}

impl ClientError {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => EXIT_USAGE,
            Self::Server { .. } | Self::Refused(_) | Self::Stdout(_) => EXIT_REFUSED,
            Self::Unreachable { .. } => EXIT_UNREACHABLE,
        }
    }

    /// A local file problem, reported with the path.
    pub fn io(action: &str, path: &std::path::Path, e: std::io::Error) -> Self {
        Self::Refused(format!("cannot {action} {}: {e}", path.display()))
    }
}

/// Result of a client command.
pub type ClientResult<T = ()> = Result<T, ClientError>;
