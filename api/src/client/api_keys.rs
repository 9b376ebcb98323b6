//! `api-key list|get|create|update|rotate|delete` over `/auth/api-keys`.
use super::error::{ClientError, ClientResult};
use super::http::{segment, Api};
use super::key_settings::{self, KeySettingsArgs};
use super::output::{
    active, confirm, expires, fields, out, print_json, print_message, table, text, when,
};
use super::session::authenticated;
use super::time::{grace_seconds, key_expiry};
use super::ClientArgs;
use crate::console::escape;
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{json, Map, Value};

/// `api-key` subcommands.
#[derive(Debug, Subcommand)]
pub enum ApiKeyAction {
    /// List API keys.
    List {
        /// Only keys whose name, user id or description contain this text (any case).
        #[arg(long)]
        filter: Option<String>,
        /// Only keys never used, or last used more than N days ago (apikeyd only).
        #[arg(long, value_name = "N")]
        unused_for_days: Option<u32>,
        /// Only keys that expire within N days, already expired ones included (apikeyd only).
        #[arg(long, value_name = "N")]
        expiring_within_days: Option<u32>,
    },
    /// Show a key's last use, verifications per hour (30 days) and most frequent client
    /// addresses (apikeyd only).
    Usage {
        /// The key's id (a UUID).
        #[arg(long)]
        api_key_id: String,
    },
    /// Show one API key.
    Get {
        /// The key's id (a UUID).
        #[arg(long)]
        api_key_id: String,
    },
    /// Create an API key for a user who holds at least one role, and print it once.
    Create(CreateArgs),
    /// Change a key's description, expiry, active flag, scope, limits, networks or metadata.
    Update(UpdateArgs),
    /// Give a key a new secret and print it once; the previous one keeps working for --grace.
    Rotate {
        /// The key's id (a UUID).
        #[arg(long)]
        api_key_id: String,
        /// How long the previous secret keeps working: seconds, or a number with s, m, h or d
        /// (0 stops it at once; at most 30d; never past the key's expiry).
        #[arg(long, default_value = "24h")]
        grace: String,
    },
    /// Delete an API key. Asks first on a terminal; without one, --yes is required (else exit 2).
    Delete {
        /// The key's id (a UUID).
        #[arg(long)]
        api_key_id: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

/// `api-key create` arguments.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Unique key name.
    #[arg(long)]
    pub name: String,
    /// The user the key acts as (must hold a role).
    #[arg(long)]
    pub user_id: String,
    /// What the key is for (1–256 characters).
    #[arg(long)]
    pub description: String,
    /// Expiry: YYYY-MM-DD or YYYY/MM/DD (with --expires-time) or ISO 8601 (UTC when no offset).
    /// Without it the key never expires.
    #[arg(long)]
    pub expires_at: Option<String>,
    /// Time of a date-only --expires-at, HH:MM:SS UTC [default: 23:59:59].
    #[arg(long, requires = "expires_at")]
    pub expires_time: Option<String>,
    /// Scope, limits, networks and metadata (apikeyd only).
    #[command(flatten)]
    pub settings: KeySettingsArgs,
}

/// `api-key update` arguments (at least one change).
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The key's id (a UUID).
    #[arg(long)]
    pub api_key_id: String,
    /// New description.
    #[arg(long)]
    pub description: Option<String>,
    /// New expiry as for create; "" removes the expiry.
    #[arg(long)]
    pub expires_at: Option<String>,
    /// Time of a date-only --expires-at, HH:MM:SS UTC [default: 23:59:59].
    #[arg(long, requires = "expires_at")]
    pub expires_time: Option<String>,
    /// Enable (true) or disable (false) the key.
    #[arg(long)]
    pub is_active: Option<bool>,
    /// Scope, limits, networks and metadata (apikeyd only).
    #[command(flatten)]
    pub settings: KeySettingsArgs,
}

/// Runs an `api-key` subcommand.
pub async fn run(action: ApiKeyAction, args: &ClientArgs) -> ClientResult {
    let api = authenticated(args)?;
    match action {
        ApiKeyAction::List {
            filter,
            unused_for_days,
            expiring_within_days,
        } => {
            let days = [
                ("unusedForDays", unused_for_days),
                ("expiringWithinDays", expiring_within_days),
            ];
            let conditions: Vec<(&str, String)> = days
                .iter()
                .filter_map(|(name, n)| n.map(|n| (*name, n.to_string())))
                .collect();
            list(&api, filter.as_deref(), &conditions, args.json).await
        }
        ApiKeyAction::Usage { api_key_id } => {
            super::usage::show(&api, &api_key_id, args.json).await
        }
        ApiKeyAction::Get { api_key_id } => {
            let item = api.get(&key_path(&api_key_id)).await?;
            show_item(&item, args.json, None)?;
            Ok(())
        }
        ApiKeyAction::Create(create_args) => create(&api, create_args, args.json).await,
        ApiKeyAction::Update(update_args) => update(&api, update_args, args.json).await,
        ApiKeyAction::Rotate { api_key_id, grace } => {
            rotate(&api, &api_key_id, &grace, args.json).await
        }
        ApiKeyAction::Delete { api_key_id, yes } => {
            confirm(&format!("Delete API key {api_key_id}?"), yes)?;
            let path = key_path(&api_key_id);
            let answer = api.send(Method::DELETE, &path, &[], None).await?;
            print_message(&answer, args.json)?;
            Ok(())
        }
    }
}

fn key_path(id: &str) -> String {
    format!("/auth/api-keys/{}", segment(id))
}

/// The server filters (apikeyd does); filtering again keeps `--filter` working against VAMS, which
/// ignores the parameter. Same rule either way: case-insensitive substring of name, user or
/// description.
async fn list(
    api: &Api,
    filter: Option<&str>,
    conditions: &[(&str, String)],
    as_json: bool,
) -> ClientResult {
    let mut query: Vec<(&str, &str)> = filter.map(|f| ("filter", f)).into_iter().collect();
    query.extend(conditions.iter().map(|(k, v)| (*k, v.as_str())));
    let mut body = api
        .send(Method::GET, "/auth/api-keys", &query, None)
        .await?;
    if let (Some(needle), Some(Value::Array(items))) = (filter, body.get_mut("Items")) {
        let needle = needle.to_lowercase();
        items.retain(|item| {
            ["apiKeyName", "userId", "description"]
                .iter()
                .any(|f| text(item, f).to_lowercase().contains(&needle))
        });
    }
    if as_json {
        print_json(&body)?;
        return Ok(());
    }
    let mut items: Vec<&Value> = body
        .get("Items")
        .and_then(Value::as_array)
        .map(|items| items.iter().collect())
        .unwrap_or_default();
    if items.is_empty() {
        out("No API keys.")?;
        return Ok(());
    }
    items.sort_by_key(|item| text(item, "apiKeyName").to_lowercase());
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            let mut row: Vec<String> = ["apiKeyName", "apiKeyId", "userId", "description"]
                .iter()
                .map(|f| text(item, f))
                .collect();
            row.extend([
                super::usage::last_used(item),
                expires(item),
                active(item),
                key_settings::summary(item),
            ]);
            row
        })
        .collect();
    let headers = [
        "Name",
        "Key ID",
        "User ID",
        "Description",
        "Last used",
        "Expires",
        "Active",
        "Limits",
    ];
    out(&table(&headers, &rows))?;
    let count = rows.len();
    out(&format!(
        "{count} API key{}",
        if count == 1 { "" } else { "s" }
    ))?;
    Ok(())
}

async fn create(api: &Api, create: CreateArgs, as_json: bool) -> ClientResult {
    let mut body = json!({
        "apiKeyName": create.name,
        "userId": create.user_id,
        "description": create.description,
    });
    if let Some(raw) = &create.expires_at {
        body["expiresAt"] = json!(key_expiry(raw, create.expires_time.as_deref())?);
    }
    if let Value::Object(fields) = &mut body {
        create.settings.add_to(fields, false)?;
    }
    let item = api
        .send(Method::POST, "/auth/api-keys", &[], Some(&body))
        .await?;
    show_item(&item, as_json, Some("Created API key"))?;
    if !as_json {
        out(&format!(
            "\nSave this key now: it will not be shown again.\n\n    {}\n",
            text(&item, "apiKey")
        ))?;
    }
    Ok(())
}

async fn rotate(api: &Api, id: &str, grace: &str, as_json: bool) -> ClientResult {
    let body = json!({ "gracePeriodSeconds": grace_seconds(grace)? });
    let path = format!("{}/rotate", key_path(id));
    let item = api.send(Method::POST, &path, &[], Some(&body)).await?;
    show_item(&item, as_json, Some("Rotated API key"))?;
    if !as_json {
        out(&fields(&[
            ("Rotated at", when(&item, "rotatedAt")),
            ("Previous key until", when(&item, "previousKeyExpiresAt")),
        ]))?;
        out(&format!(
            "\nSave this key now: it will not be shown again.\n\n    {}\n",
            text(&item, "apiKey")
        ))?;
    }
    Ok(())
}

async fn update(api: &Api, update: UpdateArgs, as_json: bool) -> ClientResult {
    let mut body = Map::new();
    if let Some(description) = update.description {
        body.insert("description".into(), json!(description));
    }
    if let Some(raw) = &update.expires_at {
        let expiry = if raw.trim().is_empty() {
            String::new()
        } else {
            key_expiry(raw, update.expires_time.as_deref())?
        };
        body.insert("expiresAt".into(), json!(expiry));
    }
    if let Some(is_active) = update.is_active {
        // VAMS stores the strings "true"/"false"; vamscli sends them so.
        body.insert("isActive".into(), json!(is_active.to_string()));
    }
    update.settings.add_to(&mut body, true)?;
    if body.is_empty() {
        return Err(ClientError::Usage(
            "nothing to update: give --description, --expires-at, --is-active, --roles, \
             --rate-limit, --allowed-cidrs or --meta"
                .into(),
        ));
    }
    let path = key_path(&update.api_key_id);
    let item = api
        .send(Method::PUT, &path, &[], Some(&Value::Object(body)))
        .await?;
    show_item(&item, as_json, Some("Updated API key"))?;
    Ok(())
}

/// One key: the server's JSON, or its fields under an optional heading.
fn show_item(item: &Value, as_json: bool, heading: Option<&str>) -> ClientResult {
    if as_json {
        return print_json(item);
    }
    if let Some(heading) = heading {
        out(&format!(
            "{heading} '{}'.",
            escape(&text(item, "apiKeyName"))
        ))?;
    }
    let mut lines = vec![
        ("Key ID", text(item, "apiKeyId")),
        ("Name", text(item, "apiKeyName")),
        ("User ID", text(item, "userId")),
        ("Description", text(item, "description")),
        ("Created by", text(item, "createdBy")),
        ("Created at", when(item, "createdAt")),
        ("Updated at", when(item, "updatedAt")),
        ("Expires", expires(item)),
        ("Active", active(item)),
        ("Last used", super::usage::last_used(item)),
    ];
    lines.extend(key_settings::shown(item));
    out(&fields(&lines))
}
