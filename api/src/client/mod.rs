//! The client side of `apikeyd`: subcommands that talk to a running apikeyd (or VAMS) server over
//! HTTP, with per-user profiles on disk.
//!
//! # Layout
//! - [`setup`], [`auth`], [`api_keys`], [`roles`]: one module per command family (clap types and
//!   handlers together).
//! - [`session`]: which URL and key a command uses (flags, environment, profile, local expiry).
//! - [`profile`]: profiles on disk (0700 directories, 0600 files).
//! - [`http`]: requests, 429 retries, error mapping.
//! - [`output`]: tables, JSON, errors, confirmation.
//! - [`time`]: expiry parsing.
//! - [`error`]: [`ClientError`] and the exit codes.
//!
//! Exit codes: 0 ok (also when stdout is a pipe its reader closed early, `| head`); 1 the server
//! said no (its message is printed), the profile cannot be used (not set up, no key, key expired
//! locally, not confirmed) or stdout cannot be written; 2 usage error; 3 the server cannot be
//! reached.
pub mod api_keys;
pub mod auth;
pub mod error;
pub mod http;
pub mod key_settings;
pub mod output;
pub mod profile;
pub mod roles;
pub mod session;
pub mod setup;
pub mod time;
pub mod usage;

pub use error::ClientError;

use clap::{Args, Subcommand};
use std::process::ExitCode;

/// Shown under every client command's `--help`.
const EXIT_CODES: &str = "Exit codes: 0 ok (also when a pipe reader such as `head` stops early); 1 the server said no (its message is printed) or the \
profile cannot be used (not set up, no key, key expired locally, not confirmed); 2 usage error; \
3 the server cannot be reached.\n\
Environment: APIKEYD_PROFILE (--profile), APIKEYD_API_URL (--api-url), APIKEYD_TOKEN (an API key \
used instead of the profile's, never written to disk).";

/// Options every client command takes.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// Client profile (under ~/.config/apikeyd/profiles/).
    #[arg(
        long,
        env = "APIKEYD_PROFILE",
        default_value = "default",
        global = true
    )]
    pub profile: String,
    /// Print the server's JSON instead of tables, and errors as {"error": …} on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// API base URL, instead of the profile's.
    #[arg(long, env = "APIKEYD_API_URL", global = true)]
    pub api_url: Option<String>,
}

/// The client commands.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Point the profile at a server: checks <base-url>/api/version and stores the API URL from
    /// /api/amplify-config.
    #[command(after_help = EXIT_CODES)]
    Setup(setup::SetupArgs),
    /// Store, show or remove the API key the profile sends.
    #[command(after_help = EXIT_CODES)]
    Auth {
        #[command(subcommand)]
        action: auth::AuthAction,
    },
    /// Manage API keys.
    #[command(after_help = EXIT_CODES)]
    ApiKey {
        #[command(subcommand)]
        action: api_keys::ApiKeyAction,
    },
    /// Manage roles and, with `role user`, the roles each user holds.
    #[command(after_help = EXIT_CODES)]
    Role {
        #[command(subcommand)]
        action: roles::RoleAction,
    },
}

/// Runs a client command, prints its result or error, and returns the exit code.
pub async fn run(command: ClientCommand, args: &ClientArgs) -> ExitCode {
    let result = match command {
        ClientCommand::Setup(setup_args) => setup::run(setup_args, args).await,
        ClientCommand::Auth { action } => auth::run(action, args).await,
        ClientCommand::ApiKey { action } => api_keys::run(action, args).await,
        ClientCommand::Role { action } => roles::run(action, args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of stdout went away (`| head`): it has what it wanted.
        Err(ClientError::Stdout(e)) if crate::console::is_closed_pipe(&e) => ExitCode::SUCCESS,
        Err(error) => {
            output::report_error(&error, args.json);
            ExitCode::from(error.exit_code())
        }
    }
}
