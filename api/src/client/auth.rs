//! `auth login|status|logout`: the key a profile sends.
use super::error::{ClientError, ClientResult};
use super::http::{segment, Api, Token};
use super::output::{fields, note, out, print_json};
use super::profile::{key_prefix, Profile, StoredAuth};
use super::session::{self, env_token, TOKEN_ENV};
use super::time::{login_expiry, show, show_unix};
use super::ClientArgs;
use chrono::Utc;
use clap::{Args, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

/// `auth` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuthAction {
    /// Store an API key in the profile after the server accepts it.
    ///
    /// The key is checked with GET /auth/loginProfile/<user-id>. Unlike vamscli, a refusal is final:
    /// on 401 (unknown, disabled or expired key), 403 (the key acts as another user) or another 4xx
    /// (e.g. 400, a malformed user id) nothing is saved and the exit code is 1. A 404 or 5xx only
    /// warns and the key is saved; an unreachable server saves nothing (exit 3).
    Login(LoginArgs),
    /// Show the profile's server, user, key prefix and local expiry (no request is made).
    ///
    /// Exits 0 whenever the profile can be read; with --json, `usable` tells whether a key would be
    /// sent.
    Status,
    /// Remove the stored key from the profile (APIKEYD_TOKEN, if set, still applies).
    Logout,
}

/// `auth login` arguments.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The user the key acts as.
    #[arg(long)]
    pub user_id: String,
    /// The API key (vams_…). `-` reads it from stdin, keeping it out of the process list.
    #[arg(long)]
    pub token_override: String,
    /// Local expiry: +SECONDS from now, Unix seconds, or ISO 8601 (UTC when no offset). After it the
    /// key is no longer sent. Must lie in the future.
    #[arg(long)]
    pub expires_at: Option<String>,
}

/// Runs an `auth` subcommand.
pub async fn run(action: AuthAction, args: &ClientArgs) -> ClientResult {
    let profile = session::profile(args)?;
    match action {
        AuthAction::Login(login) => run_login(login, &profile, args).await,
        AuthAction::Status => status(&profile, args),
        AuthAction::Logout => logout(&profile, args.json),
    }
}

async fn run_login(login: LoginArgs, profile: &Profile, args: &ClientArgs) -> ClientResult {
    let base = session::api_url(args, profile)?;
    let expires_at = login
        .expires_at
        .as_deref()
        .map(|raw| login_expiry(raw, Utc::now()))
        .transpose()?;
    let key = read_key(&login.token_override)?;
    let token = Token {
        secret: key.clone(),
        source: "--token-override".into(),
    };
    validate(&Api::new(&base, Some(token))?, &login.user_id).await?;
    profile.save_auth(&StoredAuth {
        user_id: login.user_id.clone(),
        api_key: key.expose_secret().to_owned(),
        expires_at: expires_at.map(|at| at.timestamp()),
        saved_at: Utc::now().timestamp(),
    })?;
    let prefix = key_prefix(key.expose_secret());
    if args.json {
        print_json(&json!({
            "profile": profile.name(),
            "apiUrl": base,
            "userId": login.user_id,
            "keyPrefix": prefix,
            "expiresAt": expires_at.map(|at| at.to_rfc3339()),
        }))?;
    } else {
        out(&format!(
            "Logged in to {base} as {} (profile '{}').",
            login.user_id,
            profile.name()
        ))?;
        let expiry = expires_at.map_or_else(|| "Never (no local expiry)".to_owned(), show);
        out(&fields(&[("Key", prefix), ("Expires", expiry)]))?;
    }
    Ok(())
}

/// The server is authoritative: a 4xx refusal (401 unknown key, 403 another user's key, 400 bad user
/// id) stops the login. 404 (no such route: an older server) and 5xx (VAMS answers 500 for a user it
/// never saw) only warn, as vamscli does.
async fn validate(api: &Api, user_id: &str) -> ClientResult {
    let path = format!("/auth/loginProfile/{}", segment(user_id));
    match api.get(&path).await {
        Ok(_) => Ok(()),
        Err(e @ ClientError::Server { status, .. }) if status == 404 || status >= 500 => {
            note(&format!(
                "warning: could not validate the key ({e}); saving it anyway"
            ));
            Ok(())
        }
        Err(ClientError::Server {
            status, message, ..
        }) => {
            let why = match status {
                401 => "the server does not accept this key".to_owned(),
                403 => format!("the key is valid but does not act as user '{user_id}'"),
                _ => "the server refused the login".to_owned(),
            };
            Err(ClientError::Server {
                status,
                message,
                hint: Some(format!("{why}; nothing was saved")),
            })
        }
        Err(e) => Err(e),
    }
}

fn read_key(raw: &str) -> ClientResult<SecretString> {
    let key = if raw == "-" {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| ClientError::Usage(format!("cannot read the key from stdin: {e}")))?;
        line.trim().to_owned()
    } else {
        raw.trim().to_owned()
    };
    if key.is_empty() || key.chars().any(char::is_whitespace) {
        return Err(ClientError::Usage(
            "--token-override must be a single non-empty key".into(),
        ));
    }
    Ok(SecretString::from(key))
}

/// What `auth status` reports: the key a command would send, without sending it.
struct KeyStatus {
    api_url: Option<String>,
    user_id: Option<String>,
    source: &'static str,
    prefix: Option<String>,
    expires_at: Option<i64>,
    expired: bool,
}

impl KeyStatus {
    /// `APIKEYD_TOKEN` wins, as in every other command; the stored user and expiry then say nothing
    /// about the key in use.
    fn read(profile: &Profile, args: &ClientArgs) -> ClientResult<Self> {
        let api_url = match &args.api_url {
            Some(url) => Some(session::normalise_url(url, "--api-url")?),
            None => profile.config()?.api_url,
        };
        if let Some(token) = env_token() {
            return Ok(Self {
                api_url,
                user_id: None,
                source: TOKEN_ENV,
                prefix: Some(key_prefix(token.secret.expose_secret())),
                expires_at: None,
                expired: false,
            });
        }
        let stored = profile.auth()?;
        let expires_at = stored.as_ref().and_then(|a| a.expires_at);
        Ok(Self {
            api_url,
            user_id: stored.as_ref().map(|a| a.user_id.clone()),
            source: if stored.is_some() { "profile" } else { "none" },
            prefix: stored.as_ref().map(|a| key_prefix(&a.api_key)),
            expires_at,
            expired: expires_at.is_some_and(|at| Utc::now().timestamp() >= at),
        })
    }

    fn usable(&self) -> bool {
        self.api_url.is_some() && self.prefix.is_some() && !self.expired
    }

    fn expiry(&self) -> String {
        match self.expires_at {
            None if self.source == "profile" => "Never".to_owned(),
            None => "-".to_owned(),
            Some(at) if self.expired => {
                format!("{} (EXPIRED: run auth login again)", show_unix(at))
            }
            Some(at) => show_unix(at),
        }
    }
}

fn status(profile: &Profile, args: &ClientArgs) -> ClientResult {
    let status = KeyStatus::read(profile, args)?;
    if args.json {
        print_json(&json!({
            "profile": profile.name(),
            "apiUrl": status.api_url,
            "userId": status.user_id,
            "keySource": status.source,
            "keyPrefix": status.prefix,
            "expiresAt": status.expires_at.map(show_unix),
            "expired": status.expired,
            "usable": status.usable(),
        }))?;
        return Ok(());
    }
    let key = match &status.prefix {
        Some(prefix) => format!("{prefix} ({})", status.source),
        None => "none (run auth login)".to_owned(),
    };
    let not_set_up = "not set up (run apikeyd setup <base-url>)";
    out(&fields(&[
        ("Profile", profile.name().to_owned()),
        (
            "API URL",
            status.api_url.clone().unwrap_or(not_set_up.into()),
        ),
        ("User", status.user_id.clone().unwrap_or("-".into())),
        ("Key", key),
        ("Expires", status.expiry()),
    ]))?;
    Ok(())
}

fn logout(profile: &Profile, as_json: bool) -> ClientResult {
    let removed = profile.remove_auth()?;
    if as_json {
        print_json(&json!({ "profile": profile.name(), "removed": removed }))?;
    } else if removed {
        out(&format!(
            "Removed the API key stored in profile '{}'.",
            profile.name()
        ))?;
    } else {
        out(&format!("Profile '{}' held no API key.", profile.name()))?;
    }
    if env_token().is_some() {
        note(&format!(
            "note: {TOKEN_ENV} is set in the environment and is still used"
        ));
    }
    Ok(())
}
