//! Bearer-key authentication as request extractors: [`Caller`] for any valid key, [`AdminCaller`]
//! for management routes.
use crate::client_info::ClientInfo;
use crate::commands::Metadata;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use chrono::Utc;
use domain::Actor;
use domain::KeyHash;
use futures::future::LocalBoxFuture;
use projections::audit::meta;
use projections::key_rate::Admission;
use projections::verify::{decide, rate_limited, VerifyCode};
use projections::verify::{Principal, Verification};
use std::net::IpAddr;

/// The key presented on a request: `Authorization: Bearer vams_…` (scheme case-insensitive) or the
/// bare key. `None` when the header is absent or not text.
pub fn presented_key(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?.trim();
    match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => Some(rest.trim()),
        Some(_) => None,
        None => Some(value),
    }
}

/// Authenticates `presented` for `req` from `client_ip` (the client address by the trusted-proxy
/// rule, or what a trusted gateway named): the in-memory model first, so a key that verifies is
/// always served; a refused key from a limited client is answered 429 without further work;
/// otherwise a key memory does not know gets the bounded store look-up, and a refusal is charged,
/// logged and audited. A valid key with a rate limit is then counted against it. A missing key
/// (`""`) is refused but is no guess: never limited, never charged. Err only when a shared rate
/// count cannot be reached (503: nothing is admitted unseen).
pub async fn authenticate(
    state: &AppState,
    req: &HttpRequest,
    presented: &str,
    client_ip: Option<IpAddr>,
) -> Result<Verification, ApiError> {
    let now = Utc::now();
    let memory = state.projector.read().verify(presented, now, client_ip);
    if memory.principal.is_some() {
        // The hot path: a valid key is never limited by client, charged, logged or audited, so it
        // needs nothing of the client but its address for the allowlist and the key's last use.
        let verification = admitted(state, memory, client_ip, now).await?;
        state.metrics.verification(verification.code);
        return Ok(verification);
    }
    let client = ClientInfo::of(req);
    if presented.trim().is_empty() {
        crate::limits::observe(state, &client, presented, &memory);
        refused(state, req, &client, &memory);
        return Ok(memory);
    }
    if let Some(limited) = crate::limits::refuse_if_limited(state, req, &client) {
        return Ok(limited);
    }
    let verification = resolve_miss(state, presented, memory, client_ip).await;
    crate::limits::observe(state, &client, presented, &verification);
    refused(state, req, &client, &verification);
    // Counted once above, as found; a key over its limit is no failed guess to charge.
    admitted(state, verification, client_ip, Utc::now()).await
}

/// A verification that found a principal: counted against the key's rate limit, when it has one,
/// and towards its last use when admitted.
async fn admitted(
    state: &AppState,
    verification: Verification,
    client_ip: Option<IpAddr>,
    now: chrono::DateTime<Utc>,
) -> Result<Verification, ApiError> {
    let Some(principal) = &verification.principal else {
        return Ok(verification);
    };
    let id = principal.api_key_id;
    let limit = principal.policy.as_ref().and_then(|p| p.rate_limit);
    let admission = match limit {
        None => Admission::Admitted,
        Some(limit) => {
            let (n, period) = (limit.limit(), limit.period_seconds());
            // Memory decides without a store call (always on one node; on several, while this
            // node's lease lasts); otherwise the shared count is asked.
            match state.key_rate.admit_now(id, n, period, now) {
                Some(admission) => admission,
                None => state.key_rate.admit(id, n, period, now).await?,
            }
        }
    };
    let verification = match admission {
        Admission::Admitted => {
            record_use(state, id, client_ip, now);
            verification
        }
        Admission::Limited { retry_after_secs } => {
            tracing::debug!(api_key_id = %id, retry_after_secs, "key over its rate limit");
            rate_limited(verification, retry_after_secs)
        }
    };
    Ok(verification)
}

/// Counts a successful verification towards the key's last use (in memory; flushed later).
fn record_use(
    state: &AppState,
    id: uuid::Uuid,
    client_ip: Option<IpAddr>,
    now: chrono::DateTime<Utc>,
) {
    let tracker = &state.last_use.tracker;
    if tracker.enabled() {
        tracker.record(id, client_ip, now);
    }
}

/// For a key memory does not know, one read of the store's lookup table (a key evicted from or
/// never in this node's cache, or created on another node since the last poll), then cached; any
/// other verdict stands. Only a key the table lacks as well costs a catch-up of the feed (created
/// a moment ago, its row not yet written), and is then remembered as a miss for a while.
async fn resolve_miss(
    state: &AppState,
    presented: &str,
    memory: Verification,
    client_ip: Option<IpAddr>,
) -> Verification {
    let Some(misses) = state
        .misses
        .as_ref()
        .filter(|_| memory.code == VerifyCode::NotFound)
    else {
        return memory;
    };
    let hash = KeyHash::of(presented);
    if !misses.admit(&hash) {
        return memory;
    }
    let projector = &state.projector;
    if let Some(stored) = misses.look_up(&hash).await {
        let roles_known = !projector
            .read()
            .directory
            .roles_of(&stored.entry.user_id)
            .is_empty();
        if !roles_known {
            // A user given roles a moment ago, on another node: fold the feed up to its end
            // before judging the key's roles (one read of the feed).
            if let Err(error) = projector.catch_up_memory().await {
                tracing::warn!(%error, "catch-up for a key's roles failed");
            }
        }
        projector.cache_key(hash, &stored);
        let now = Utc::now();
        let again = projector.read().verify(presented, now, client_ip);
        if again.code != VerifyCode::NotFound {
            return again;
        }
        let model = projector.read();
        // The look-up table is a persisted view and may trail memory: a newer version in memory
        // that does not find this secret (deleted, or rotated past its grace) is final.
        if model.lookup.version(&stored.entry.api_key_id) > stored.version {
            return again;
        }
        let roles = model.directory.roles_of(&stored.entry.user_id);
        return decide(
            stored.entry.as_ref(),
            roles,
            again.hash_prefix,
            now,
            client_ip,
        );
    }
    // The change feed is written in the same transaction as the events, so catching up finds a key
    // committed anywhere whose row is not written yet.
    if let Err(error) = projector.catch_up_memory().await {
        tracing::warn!(%error, "catch-up for an unknown key failed; refusing it");
    }
    let again = projector.read().verify(presented, Utc::now(), client_ip);
    if again.code == VerifyCode::NotFound {
        misses.remember_miss(&hash);
    }
    again
}

/// Logs and audits a refusal (nothing for a verification that succeeded).
fn refused(state: &AppState, req: &HttpRequest, client: &ClientInfo, verification: &Verification) {
    if verification.principal.is_some() {
        return;
    }
    tracing::info!(
        code = verification.code.as_str(),
        hash_prefix = %verification.hash_prefix.map_or_else(|| "-".to_owned(), |p| p.to_string()),
        api_key_id = ?verification.api_key_id,
        client_ip = %client.client(),
        path = %crate::redact::redact(req.path()),
        "authentication refused"
    );
    if let Some(audit) = &state.auth_audit {
        audit.record(crate::auth_audit::Refusal {
            verification,
            client,
            method: req.method().as_str(),
            path: req.path(),
        });
    }
}

/// Verifies whatever key the request's `Authorization` carries, from the request's client address
/// (see [`authenticate`]).
pub async fn verify_request(state: &AppState, req: &HttpRequest) -> Result<Verification, ApiError> {
    let client_ip = ClientInfo::client_ip_of(req);
    authenticate(state, req, presented_key(req).unwrap_or(""), client_ip).await
}

/// The error a bearer route answers a refused verification with: 429 over the key's rate limit,
/// otherwise the configured refusal status.
pub fn refusal(state: &AppState, req: &HttpRequest, verification: &Verification) -> ApiError {
    over_rate_limit(verification)
        .unwrap_or_else(|| state.refusal_status.refused(presented_key(req)))
}

/// The 429 for a verification refused as over the key's rate limit (`None` for any other outcome).
pub fn over_rate_limit(verification: &Verification) -> Option<ApiError> {
    match verification.retry_after_secs {
        Some(seconds) if verification.code == VerifyCode::RateLimited => {
            Some(ApiError::RateLimited(seconds))
        }
        _ => None,
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who the key acts as.
    pub principal: Principal,
    /// Correlates logs and events (the same as `client.request_id`).
    pub request_id: String,
    /// Where the request came from, by the trusted-proxy rule.
    pub client: ClientInfo,
    /// The request's method and path (recorded with events for the audit trail).
    pub method: String,
    /// See `method`; never the query string, key-shaped parts redacted.
    pub path: String,
}

impl Caller {
    /// The actor recorded on events.
    pub fn actor(&self) -> Actor {
        Actor::user(&self.principal.user_id)
    }

    /// Context stored with the events this caller causes.
    pub fn metadata(&self) -> Metadata {
        let roles: Vec<&str> = self.principal.roles.iter().map(|r| r.as_ref()).collect();
        let mut m = Metadata::new();
        m.insert(meta::ACTOR_ROLES.into(), roles.join(","));
        m.insert(meta::AUTH_METHOD.into(), "apiKey".into());
        m.insert(meta::REQUEST_ID.into(), self.request_id.clone());
        m.insert("apiKeyId".into(), self.principal.api_key_id.to_string());
        if let Some(ip) = self.client.client_ip {
            m.insert(meta::SOURCE_IP.into(), ip.to_string());
        }
        m.insert(meta::METHOD.into(), self.method.clone());
        m.insert(meta::PATH.into(), self.path.clone());
        m
    }

    /// [`Self::metadata`] plus what the request asked for, in VAMS's audit vocabulary, and the
    /// request facts events do not keep (see `projections::audit::meta::REQUEST_FIELDS`).
    pub fn metadata_for(&self, operation: &str, fields: serde_json::Value) -> Metadata {
        let mut m = self.metadata();
        m.insert(meta::OPERATION.into(), operation.into());
        if !fields.is_null() {
            m.insert(meta::REQUEST_FIELDS.into(), fields.to_string());
        }
        m
    }

    async fn from_req(req: &HttpRequest) -> Result<Self, ApiError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| ApiError::Internal("application state missing".into()))?;
        let verification = verify_request(state, req).await?;
        let principal = match verification.principal {
            Some(principal) => principal,
            None => return Err(refusal(state, req, &verification)),
        };
        let client = ClientInfo::of(req);
        Ok(Self {
            principal,
            request_id: client.request_id.clone(),
            client,
            method: req.method().to_string(),
            path: crate::redact::redact(req.path()).into_owned(),
        })
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Self::from_req(&req).await })
    }
}

/// A caller holding one of the configured admin roles.
#[derive(Debug, Clone)]
pub struct AdminCaller(pub Caller);

impl FromRequest for AdminCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let caller = Caller::from_req(&req).await?;
            let state = req.app_data::<web::Data<AppState>>();
            let admin = state.is_some_and(|s| {
                caller
                    .principal
                    .roles
                    .iter()
                    .any(|r| s.admin_roles.iter().any(|a| a == r.as_ref()))
            });
            if admin {
                Ok(Self(caller))
            } else {
                Err(ApiError::Forbidden)
            }
        })
    }
}
