//! `apikeyd setup <base-url>`: check the server's version and store its API URL in the profile.
use super::error::{ClientError, ClientResult};
use super::http::Api;
use super::output::{fields, note, out, print_json};
use super::profile::ProfileConfig;
use super::session::{normalise_url, profile};
use super::ClientArgs;
use crate::routes::meta::VAMS_VERSION;
use clap::Args;
use serde_json::{json, Value};

/// `setup` arguments.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The server's base URL, e.g. http://127.0.0.1:8080 (where /api/version is).
    pub base_url: String,
}

/// Runs `setup`.
pub async fn run(setup: SetupArgs, args: &ClientArgs) -> ClientResult {
    let profile = profile(args)?;
    let base = normalise_url(&setup.base_url, "base URL")?;
    let probe = Api::new(&base, None)?;
    let version = check_version(&probe).await?;
    let config = probe.get("/api/amplify-config").await?;
    let api_url = config
        .get("api")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            ClientError::Refused(format!(
                "{base}/api/amplify-config has no 'api' field: cannot tell where the API is"
            ))
        })
        .and_then(|raw| {
            normalise_url(raw, "'api' from /api/amplify-config")
                .map_err(|e| ClientError::Refused(e.to_string()))
        })?;
    let previous = profile.config()?;
    if previous
        .api_url
        .as_deref()
        .is_some_and(|old| old != api_url)
        && profile.remove_auth()?
    {
        note(&format!(
            "note: removed the API key profile '{}' held for {}: log in again for the new server",
            profile.name(),
            previous.api_url.unwrap_or_default()
        ));
    }
    profile.save_config(&ProfileConfig {
        api_url: Some(api_url.clone()),
        setup_url: Some(base.clone()),
    })?;
    if args.json {
        print_json(&json!({
            "profile": profile.name(),
            "apiUrl": api_url,
            "setupUrl": base,
            "version": version,
        }))?;
    } else {
        out(&format!("Profile '{}' is set up.", profile.name()))?;
        out(&fields(&[
            ("API URL", api_url),
            ("Server version", version),
        ]))?;
        out(&format!(
            "Next: apikeyd --profile {} auth login --user-id <user> --token-override <vams_… key>",
            profile.name()
        ))?;
    }
    Ok(())
}

/// `GET /api/version`: must answer JSON with a string `version`; a different version only warns.
async fn check_version(probe: &Api) -> ClientResult<String> {
    let url = format!("{}/api/version", probe.base());
    let body = probe.get("/api/version").await.map_err(|e| match e {
        ClientError::Server { status: 404, .. } => ClientError::Refused(format!(
            "{url} was not found (404): this does not look like an apikeyd or VAMS server"
        )),
        other => other,
    })?;
    let version = body
        .get("version")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            ClientError::Refused(format!("{url} answered without a \"version\" string"))
        })?
        .to_owned();
    if version != VAMS_VERSION {
        note(&format!(
            "warning: the server reports version {version}; this client speaks the VAMS {VAMS_VERSION} API. Continuing."
        ));
    }
    Ok(version)
}
