//! Which server and which key a command uses: `--api-url`/`APIKEYD_API_URL` over the profile's URL,
//! `APIKEYD_TOKEN` over the profile's key, and a locally expired key is never sent.
use super::error::{ClientError, ClientResult};
use super::http::{Api, Token};
use super::profile::{Profile, StoredAuth};
use super::time::show_unix;
use super::ClientArgs;
use chrono::Utc;
use secrecy::SecretString;

/// The environment variable holding a key for CI: used as is, never written to disk.
pub const TOKEN_ENV: &str = "APIKEYD_TOKEN";

/// The profile named on the command line.
pub fn profile(args: &ClientArgs) -> ClientResult<Profile> {
    Profile::open(&args.profile)
}

/// A base URL as typed: `http(s)://…`, trailing `/` removed.
pub fn normalise_url(raw: &str, what: &str) -> ClientResult<String> {
    let url = raw.trim().trim_end_matches('/');
    let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
    if !scheme_ok || reqwest::Url::parse(url).is_err() {
        return Err(ClientError::Usage(format!(
            "invalid {what} '{raw}': expected an http:// or https:// URL"
        )));
    }
    Ok(url.to_owned())
}

/// The API base URL: the flag or `APIKEYD_API_URL`, else the profile's.
pub fn api_url(args: &ClientArgs, profile: &Profile) -> ClientResult<String> {
    if let Some(url) = &args.api_url {
        return normalise_url(url, "--api-url");
    }
    profile.config()?.api_url.ok_or_else(|| {
        ClientError::Refused(format!(
            "profile '{0}' is not set up: run `apikeyd --profile {0} setup <base-url>` or pass --api-url",
            profile.name()
        ))
    })
}

/// The key from `APIKEYD_TOKEN`, if set and not empty.
pub fn env_token() -> Option<Token> {
    std::env::var(TOKEN_ENV)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .map(|t| Token {
            secret: SecretString::from(t.trim().to_owned()),
            source: TOKEN_ENV.to_owned(),
        })
}

/// The key the profile stores, refused once its local expiry has passed.
pub fn stored_token(profile: &Profile, auth: StoredAuth) -> ClientResult<Token> {
    if let Some(expiry) = auth.expires_at {
        if Utc::now().timestamp() >= expiry {
            return Err(ClientError::Refused(format!(
                "the API key stored in profile '{0}' expired at {1}; run `apikeyd --profile {0} auth login` again",
                profile.name(),
                show_unix(expiry)
            )));
        }
    }
    Ok(Token {
        secret: SecretString::from(auth.api_key),
        source: format!("profile '{}'", profile.name()),
    })
}

/// A client for the admin routes: base URL and key resolved, or why not.
pub fn authenticated(args: &ClientArgs) -> ClientResult<Api> {
    let profile = profile(args)?;
    let base = api_url(args, &profile)?;
    let token = match env_token() {
        Some(token) => token,
        None => {
            let auth = profile.auth()?.ok_or_else(|| {
                ClientError::Refused(format!(
                    "no API key in profile '{0}': run `apikeyd --profile {0} auth login --user-id … --token-override …` or set {TOKEN_ENV}",
                    profile.name()
                ))
            })?;
            stored_token(&profile, auth)?
        }
    };
    Api::new(&base, Some(token))
}
