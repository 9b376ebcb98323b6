//! `/auth/api-keys`: list, get, create, update, delete, and a key's audit trail.
use crate::auth::AdminCaller;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::openapi::schemas::{ApiKeyCreated, ApiKeyList, AuditList, MessageBody};
use crate::openapi::{Admin, NotFound, WithBody, Writes};
use crate::routes::key_settings::{RateLimitItem, SentSettings, SettingsItem};
use crate::routes::{bad, required, wire_time};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use cqrs_es::Aggregate;
use domain::api_key::{ApiKey, ApiKeyCommand, CreateApiKey, DeleteApiKey, UpdateApiKey};
use domain::{ApiKeyName, Description, Expiration, IsActive, UserId};
use projections::audit::AuditRecord;
use projections::key_listing::ApiKeyView;
use projections::key_views::{Conditions, ConsoleQuery, SortBy};
use projections::usage::unused_since;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

/// Largest page a caller may ask for.
const MAX_PAGE: usize = 10_000;

/// Routes under `/auth/api-keys`.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/auth/api-keys")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource("/auth/api-keys/{api_key_id}")
            .route(web::get().to(get))
            .route(web::put().to(update))
            .route(web::delete().to(delete)),
    )
    .route("/auth/api-keys/{api_key_id}/audit", web::get().to(audit))
    .configure(crate::routes::usage::config);
}

/// A key on the wire, exactly as VAMS shapes it (`isActive` is a string; `expiresAt` "" for none).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyItem {
    #[schema(format = Uuid)]
    api_key_id: String,
    api_key_name: String,
    user_id: String,
    description: String,
    created_by: String,
    created_at: String,
    updated_at: String,
    /// `""` when the key never expires.
    expires_at: String,
    /// The string `"true"` or `"false"`, as VAMS stores it.
    #[schema(value_type = String, pattern = "^(true|false)$")]
    is_active: &'static str,
    /// When the key last got a new secret (`POST …/rotate`); absent when never.
    #[serde(skip_serializing_if = "Option::is_none")]
    rotated_at: Option<String>,
    /// When the previous secret of the last rotation stops (or stopped) authenticating; absent when
    /// no grace is recorded (none asked, ended by deactivation or a leak report).
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_key_expires_at: Option<String>,
    /// When a leak report (`POST /auth/exposures`) deactivated the key; cleared by the next rotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    exposed_at: Option<String>,
    /// Where the reporter found the key (their words).
    #[serde(skip_serializing_if = "Option::is_none")]
    exposure_source: Option<String>,
    /// When the key last verified (RFC 3339), `""` when never. Recorded in memory and persisted
    /// at most every `APIKEYD_LAST_USED_FLUSH_SECONDS`; another node's use shows after its flush.
    last_used_at: String,
    /// The client address of that verification, `""` when never or unknown.
    last_used_from: String,
    /// Role scope, rate limit, allowed networks and metadata: each only when set.
    #[serde(flatten)]
    settings: SettingsItem,
}

impl ApiKeyItem {
    /// This item with the key's last use as this node knows it.
    fn used(mut self, state: &AppState, id: &Uuid) -> Self {
        if let Some(last) = state.last_use.tracker.last_use(id) {
            self.last_used_at = wire_time(last.at);
            self.last_used_from = last.from.map(|ip| ip.to_string()).unwrap_or_default();
        }
        self
    }

    /// The item of `view` with its last use.
    fn joined(state: &AppState, view: &ApiKeyView) -> Self {
        Self::from(view).used(state, &view.api_key_id)
    }
}

impl From<&ApiKeyView> for ApiKeyItem {
    fn from(v: &ApiKeyView) -> Self {
        Self {
            api_key_id: v.api_key_id.to_string(),
            api_key_name: v.api_key_name.clone(),
            user_id: v.user_id.to_string(),
            description: v.description.clone(),
            created_by: v.created_by.clone(),
            created_at: wire_time(v.created_at),
            updated_at: wire_time(v.updated_at),
            expires_at: v
                .expires_at
                .map(|e| Expiration::from_utc(e).to_wire())
                .unwrap_or_default(),
            is_active: if v.is_active { "true" } else { "false" },
            rotated_at: v.secret.rotated_at.map(wire_time),
            previous_key_expires_at: v.secret.previous_key.map(|g| wire_time(g.until)),
            exposed_at: v.secret.exposure.as_ref().map(|e| wire_time(e.at)),
            exposure_source: v.secret.exposure.as_ref().map(|e| e.source.clone()),
            last_used_at: String::new(),
            last_used_from: String::new(),
            settings: SettingsItem::from(&v.policy),
        }
    }
}

pub(crate) fn key_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::BadRequest("apiKeyId must be a UUID".into()))
}

/// A key as its own events leave it: what a command answers with, read from the log, so the answer
/// never waits for (or fails with) the persisted views.
pub(crate) async fn folded(state: &AppState, id: &Uuid) -> Result<ApiKeyItem, ApiError> {
    let events = state
        .feed
        .aggregate_events(ApiKey::TYPE, &id.to_string())
        .await?;
    let mut model = projections::ReadModel::default();
    for event in &events {
        model.apply(event);
    }
    model
        .listing
        .get(id)
        .map(|v| ApiKeyItem::joined(state, v))
        .ok_or_else(|| ApiError::NotFound("API key not found".into()))
}

async fn view(state: &AppState, id: &Uuid) -> Result<ApiKeyItem, ApiError> {
    state
        .keys
        .get(id)
        .await?
        .as_ref()
        .map(|v| ApiKeyItem::joined(state, v))
        .ok_or_else(|| ApiError::NotFound("API key not found".into()))
}

/// Largest day count of a listing condition (100 years).
const MAX_DAYS: u32 = 36_500;

/// Largest console page.
const MAX_CONSOLE_PAGE: usize = 500;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Case-insensitive substring of name, user id or description.
    filter: Option<String>,
    /// VAMS paging: at most this many keys (1–10000), by id; without it and `startingToken`, every key.
    max_items: Option<String>,
    /// Console paging: rows per page (1–500, default 50). Any console parameter (`pageSize`,
    /// `page`, `sortBy`, `sortOrder`, `search`) switches to console pages, which add `totalCount`.
    page_size: Option<String>,
    /// VAMS paging: the `NextToken` of the previous page.
    starting_token: Option<String>,
    /// Console paging: 1-based page number (default 1).
    page: Option<String>,
    /// Console paging: the column to sort by: `apiKeyName` (default), `apiKeyId`, `description`,
    /// `userId`, `createdBy`, `createdAt`, `updatedAt`, `expiresAt` or `isActive`; ties by id.
    sort_by: Option<String>,
    /// Console paging: `asc` (default) or `desc`.
    sort_order: Option<String>,
    /// Console paging: like `filter` (which it replaces when both are sent).
    search: Option<String>,
    /// Only keys never used, or last used more than this many days ago (0–36500).
    unused_for_days: Option<String>,
    /// Only keys with an expiry within this many days from now (0–36500), already expired keys
    /// included.
    expiring_within_days: Option<String>,
}

impl ListQuery {
    fn console(&self) -> bool {
        self.page_size.is_some()
            || self.page.is_some()
            || self.sort_by.is_some()
            || self.sort_order.is_some()
            || self.search.is_some()
    }

    /// The last-use and expiry conditions (400 for a value that is not a day count).
    fn conditions(&self, state: &AppState) -> Result<Conditions, ApiError> {
        let days = |raw: Option<&str>, name: &str| {
            raw.map(|r| match r.parse::<u32>() {
                Ok(n) if n <= MAX_DAYS => Ok(n),
                _ => Err(ApiError::BadRequest(format!(
                    "{name} must be an integer from 0 to {MAX_DAYS}"
                ))),
            })
            .transpose()
        };
        let now = Utc::now();
        Ok(Conditions {
            unused_since: days(self.unused_for_days.as_deref(), "unusedForDays")?
                .map(|n| unused_since(now, n)),
            expiring_by: days(self.expiring_within_days.as_deref(), "expiringWithinDays")?
                .map(|n| now + chrono::TimeDelta::days(i64::from(n))),
            last_use: Some(state.last_use.tracker.clone()),
        })
    }

    fn console_query(&self, only: Conditions) -> Result<ConsoleQuery, ApiError> {
        let page_size = bounded(self.page_size.as_deref(), "pageSize", MAX_CONSOLE_PAGE, 50)?;
        let page = bounded(self.page.as_deref(), "page", 1_000_000, 1)?;
        let sort_by = match self.sort_by.as_deref() {
            None => SortBy::ApiKeyName,
            Some(raw) => SortBy::parse(raw).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "sortBy must be one of {}",
                    SortBy::NAMES.join(", ")
                ))
            })?,
        };
        let descending = match self.sort_order.as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(_) => return Err(ApiError::BadRequest("sortOrder must be asc or desc".into())),
        };
        let search = self.search.as_deref().or(self.filter.as_deref());
        Ok(ConsoleQuery {
            search: search.map(str::to_lowercase).filter(|s| !s.is_empty()),
            only,
            sort_by,
            descending,
            offset: (page - 1) * page_size,
            page_size,
        })
    }
}

/// An optional integer parameter from 1 to `max`.
fn bounded(raw: Option<&str>, name: &str, max: usize, default: usize) -> Result<usize, ApiError> {
    match raw.map(str::parse::<usize>) {
        None => Ok(default),
        Some(Ok(n)) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::BadRequest(format!(
            "{name} must be an integer from 1 to {max}"
        ))),
    }
}

#[utoipa::path(get, path = "/auth/api-keys", tag = "api-keys", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, description = "Keys, by name", body = ApiKeyList), Admin))]
#[tracing::instrument(skip_all, fields(actor = %caller.0.principal.user_id))]
async fn list(
    state: web::Data<AppState>,
    caller: AdminCaller,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let max_items = q
        .max_items
        .as_deref()
        .map(|m| match m.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            _ => Err(ApiError::BadRequest(format!(
                "maxItems must be an integer from 1 to {MAX_PAGE}"
            ))),
        })
        .transpose()?;
    let start = q
        .starting_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| {
            Uuid::parse_str(t).map_err(|_| ApiError::BadRequest("startingToken is invalid".into()))
        })
        .transpose()?;
    let only = q.conditions(&state)?;
    if q.console() {
        let page = state.keys.console(&q.console_query(only)?).await?;
        return Ok(HttpResponse::Ok().json(Listed {
            items: page
                .items
                .iter()
                .map(|v| ApiKeyItem::joined(&state, v))
                .collect(),
            next_token: None,
            total_count: Some(page.total_count),
        }));
    }
    let paged = max_items.is_some() || start.is_some();
    let page = state
        .keys
        .page(q.filter.as_deref(), &only, start, max_items)
        .await?;
    // Serialized straight from the rows: a million keys never become a JSON tree first.
    Ok(HttpResponse::Ok().json(Listed {
        items: page
            .items
            .iter()
            .map(|v| ApiKeyItem::joined(&state, v))
            .collect(),
        next_token: paged.then_some(page.next_token),
        total_count: None,
    }))
}

/// The listing's body: `NextToken` only on VAMS pages (`null` on the last), `totalCount` only on
/// console pages.
#[derive(Serialize)]
struct Listed {
    #[serde(rename = "Items")]
    items: Vec<ApiKeyItem>,
    #[serde(rename = "NextToken", skip_serializing_if = "Option::is_none")]
    next_token: Option<Option<String>>,
    #[serde(rename = "totalCount", skip_serializing_if = "Option::is_none")]
    total_count: Option<usize>,
}

#[utoipa::path(get, path = "/auth/api-keys/{api_key_id}", tag = "api-keys", security(("bearer" = [])),
    params(("api_key_id" = Uuid, Path, description = "The key's UUID")),
    responses((status = 200, description = "The key", body = ApiKeyItem), Admin, NotFound))]
async fn get(
    state: web::Data<AppState>,
    _caller: AdminCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = key_id(&path)?;
    Ok(HttpResponse::Ok().json(view(&state, &id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateRequest {
    /// Trimmed; no control or invisible formatting characters (Unicode Cc, Cf, Zl, Zp: zero-width
    /// characters, bidi controls, BOM, soft hyphen, …).
    #[schema(value_type = String, required = true, min_length = 1, max_length = 256, example = "ci-deploy")]
    api_key_name: Option<String>,
    /// A user holding at least one role.
    #[schema(value_type = String, required = true, pattern = r"^[\w\-\.\+\@]{3,256}$", example = "admin")]
    user_id: Option<String>,
    /// No control characters but newline and tab, no bidi controls (U+202A–U+202E, U+2066–U+2069).
    #[schema(value_type = String, required = true, min_length = 1, max_length = 256, example = "Deploys from CI")]
    description: Option<String>,
    /// ISO 8601 or `YYYY-MM-DD`; `""` for never. In the future and, in UTC, no later than
    /// 9999-12-31T23:59:59Z.
    #[schema(value_type = String, max_length = 30, example = "2031-01-31")]
    expires_at: Option<String>,
    /// The key acts with these of its user's roles only (each must be the user's now; 1–50 names).
    /// Absent or `null`: all of the user's roles, as in VAMS.
    #[schema(value_type = Option<Vec<String>>, example = json!(["ci"]))]
    roles: Option<Value>,
    /// `{"limit": N, "periodSeconds": S}`: at most N verifications per S-second window
    /// (1 ≤ N ≤ 1 000 000, 1 ≤ S ≤ 86 400). Absent or `null`: no limit.
    #[schema(value_type = Option<RateLimitItem>)]
    rate_limit: Option<Value>,
    /// IPv4/IPv6 addresses or CIDR ranges (1–50) the key authenticates from, judged on the client
    /// address by the trusted-proxy rule. Absent or `null`: anywhere.
    #[schema(value_type = Option<Vec<String>>, example = json!(["10.0.0.0/8"]))]
    allowed_cidrs: Option<Value>,
    /// A JSON object (≤ 4096 bytes) stored with the key and returned by `/auth/verify`. Not secret.
    #[schema(value_type = Option<Object>)]
    meta: Option<Value>,
}

impl CreateRequest {
    fn settings(&self) -> SentSettings<'_> {
        SentSettings {
            roles: self.roles.as_ref(),
            rate_limit: self.rate_limit.as_ref(),
            allowed_cidrs: self.allowed_cidrs.as_ref(),
            meta: self.meta.as_ref(),
        }
    }
}

#[utoipa::path(post, path = "/auth/api-keys", tag = "api-keys", security(("bearer" = [])),
    request_body = CreateRequest,
    responses((status = 200, description = "Created; the plaintext key is in `apiKey`, shown once", body = ApiKeyCreated),
        Admin, WithBody, Writes))]
#[tracing::instrument(skip_all, fields(actor = %caller.0.principal.user_id, request_id = %caller.0.request_id))]
async fn create(
    state: web::Data<AppState>,
    caller: AdminCaller,
    body: JsonBody<CreateRequest>,
) -> Result<HttpResponse, ApiError> {
    let req = body.0;
    let now = Utc::now();
    let name = ApiKeyName::parse(required(&req.api_key_name, "apiKeyName")?).map_err(bad)?;
    let user_id = UserId::parse(required(&req.user_id, "userId")?).map_err(bad)?;
    let description =
        Description::parse(required(&req.description, "description")?).map_err(bad)?;
    let expires_at = match &req.expires_at {
        Some(raw) => Expiration::parse(raw, now).map_err(bad)?,
        None => None,
    };
    crate::routes::lifetime::check(&state, expires_at.as_ref(), now)?;
    let policy = req.settings().policy()?;
    let key = infra::key_material::generate().map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let id = Uuid::new_v4();
    // VAMS's audit line carries expiresAt as sent (trimmed), "" when none.
    let sent_expiry = req.expires_at.as_deref().map_or("", str::trim).to_owned();
    let command = CreateApiKey {
        api_key_id: id,
        name,
        user_id,
        description,
        expires_at,
        key_hash: key.hash,
        policy,
        actor: caller.0.actor(),
        at: now,
    };
    let item = ApiKeyItem::from(&ApiKeyView {
        api_key_id: id,
        api_key_name: command.name.to_string(),
        user_id: command.user_id.clone(),
        description: command.description.as_ref().to_owned(),
        key_hash: key.hash,
        created_by: command.actor.as_ref().to_owned(),
        created_at: now,
        updated_at: now,
        expires_at: expires_at.map(|e| e.at()),
        is_active: true,
        version: 1,
        secret: Default::default(),
        policy: command.policy.clone(),
    });
    state
        .bus
        .api_key(
            &id.to_string(),
            ApiKeyCommand::Create(command),
            caller
                .0
                .metadata_for("apiKeyCreate", json!({ "expiresAt": sent_expiry })),
        )
        .await?;
    tracing::info!(api_key_id = %id, "api key created");
    // The plaintext leaves the process here and nowhere else.
    let mut body = serde_json::to_value(&item).map_err(|e| ApiError::Internal(e.to_string()))?;
    body["apiKey"] = Value::String(key.plaintext.expose_secret().to_owned());
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(body))
}

/// At least one field.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UpdateRequest {
    /// No control characters but newline and tab, no bidi controls (U+202A–U+202E, U+2066–U+2069).
    #[schema(value_type = String, min_length = 1, max_length = 256)]
    description: Option<String>,
    /// ISO 8601 or `YYYY-MM-DD`; `""` or `null` clears it. In the future and, in UTC, no later than
    /// 9999-12-31T23:59:59Z.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 30)]
    expires_at: Option<Value>,
    /// `"true"`/`"false"` (vamscli sends strings) or a JSON boolean.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, pattern = "^(true|false)$")]
    is_active: Option<Value>,
    /// A new role scope; `null` clears it (the key acts with all of its user's roles again).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    roles: Option<Value>,
    /// A new rate limit; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<RateLimitItem>)]
    rate_limit: Option<Value>,
    /// New allowed networks; `null` allows any address again.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    allowed_cidrs: Option<Value>,
    /// New metadata; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    meta: Option<Value>,
}

impl UpdateRequest {
    fn settings(&self) -> SentSettings<'_> {
        SentSettings {
            roles: self.roles.as_ref(),
            rate_limit: self.rate_limit.as_ref(),
            allowed_cidrs: self.allowed_cidrs.as_ref(),
            meta: self.meta.as_ref(),
        }
    }
}

/// Distinguishes a field sent as `null` (Some(Null)) from one not sent (None).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

fn parse_expiry(raw: &Value, now: chrono::DateTime<Utc>) -> Result<Option<Expiration>, ApiError> {
    match raw {
        Value::Null => Ok(None),
        Value::String(s) => Expiration::parse(s, now).map_err(bad),
        _ => Err(ApiError::BadRequest("expiresAt must be a string".into())),
    }
}

#[utoipa::path(put, path = "/auth/api-keys/{api_key_id}", tag = "api-keys", security(("bearer" = [])),
    params(("api_key_id" = Uuid, Path, description = "The key's UUID")),
    request_body = UpdateRequest,
    responses((status = 200, description = "The updated key", body = ApiKeyItem),
        Admin, WithBody, Writes, NotFound))]
#[tracing::instrument(skip_all, fields(actor = %caller.0.principal.user_id, request_id = %caller.0.request_id))]
async fn update(
    state: web::Data<AppState>,
    caller: AdminCaller,
    path: web::Path<String>,
    body: JsonBody<UpdateRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = key_id(&path)?;
    let req = body.0;
    let now = Utc::now();
    let settings = req.settings();
    let sent: Vec<&str> = [
        ("description", req.description.is_some()),
        ("expiresAt", req.expires_at.is_some()),
        ("isActive", req.is_active.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
    .chain(settings.names())
    .collect();
    let policy = settings.update()?;
    let command = UpdateApiKey {
        description: req
            .description
            .as_deref()
            .map(Description::parse)
            .transpose()
            .map_err(bad)?,
        expires_at: req
            .expires_at
            .as_ref()
            .map(|raw| parse_expiry(raw, now))
            .transpose()?
            .map(|expiry| {
                crate::routes::lifetime::check(&state, expiry.as_ref(), now).map(|()| expiry)
            })
            .transpose()?,
        is_active: req
            .is_active
            .as_ref()
            .map(IsActive::parse)
            .transpose()
            .map_err(bad)?
            .map(IsActive::get),
        policy,
        origin: caller.0.client.client_ip,
        actor: caller.0.actor(),
        at: now,
    };
    state
        .bus
        .api_key(
            &id.to_string(),
            ApiKeyCommand::Update(command),
            caller
                .0
                .metadata_for("apiKeyUpdate", json!({ "updatedFields": sent })),
        )
        .await?;
    Ok(HttpResponse::Ok().json(folded(&state, &id).await?))
}

#[utoipa::path(delete, path = "/auth/api-keys/{api_key_id}", tag = "api-keys", security(("bearer" = [])),
    params(("api_key_id" = Uuid, Path, description = "The key's UUID")),
    responses((status = 200, description = "Deleted; the key stops authenticating at once", body = MessageBody),
        Admin, Writes, NotFound))]
#[tracing::instrument(skip_all, fields(actor = %caller.0.principal.user_id, request_id = %caller.0.request_id))]
async fn delete(
    state: web::Data<AppState>,
    caller: AdminCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = key_id(&path)?;
    let command = DeleteApiKey {
        actor: caller.0.actor(),
        at: Utc::now(),
    };
    state
        .bus
        .api_key(
            &id.to_string(),
            ApiKeyCommand::Delete(command),
            caller.0.metadata_for("apiKeyDelete", Value::Null),
        )
        .await?;
    Ok(HttpResponse::Ok()
        .json(json!({ "message": format!("API key '{id}' deleted successfully") })))
}

/// Every event of one key as audit records, oldest first (deleted keys included).
#[utoipa::path(get, path = "/auth/api-keys/{api_key_id}/audit", tag = "api-keys", security(("bearer" = [])),
    params(("api_key_id" = Uuid, Path, description = "The key's UUID")),
    responses((status = 200, description = "The key's audit trail, oldest first", body = AuditList),
        Admin, NotFound,
        (status = 503, description = "Store unavailable", body = crate::openapi::schemas::ErrorBody)))]
async fn audit(
    state: web::Data<AppState>,
    _caller: AdminCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = key_id(&path)?;
    let events = state
        .feed
        .aggregate_events(ApiKey::TYPE, &id.to_string())
        .await?;
    if events.is_empty() {
        return Err(ApiError::NotFound("API key not found".into()));
    }
    let items: Vec<AuditRecord> = events.iter().map(AuditRecord::from_event).collect();
    Ok(HttpResponse::Ok().json(json!({ "Items": items })))
}
