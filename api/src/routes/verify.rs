//! Verification for gateways and services: open to any caller, no admin key needed.
use crate::auth::verify_request;
use crate::body::JsonBody;
use crate::client_info::ClientInfo;
use crate::error::ApiError;
use crate::openapi::schemas::{CheckResult, VerifyResult};
use crate::openapi::{Authenticated, Common, RateLimited, WithBody};
use crate::state::AppState;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

/// `POST /auth/verify`, `GET /auth/check`.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/verify", web::post().to(verify))
        .route("/auth/check", web::get().to(check));
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct VerifyRequest {
    /// The presented key; anything but a string counts as malformed.
    #[schema(value_type = String)]
    api_key: Option<serde_json::Value>,
    /// The address of the client a gateway verifies for, judged against the key's allowed
    /// networks and recorded as its last use. Believed only from a trusted proxy
    /// (`APIKEYD_TRUSTED_PROXIES`); from anyone else it is ignored and the caller's own address counts.
    #[schema(value_type = Option<String>, example = "203.0.113.7")]
    client_ip: Option<serde_json::Value>,
}

/// The client a verification is for: the one a trusted gateway names, else the caller. Without a
/// `clientIp` this reads the request's address alone (the hot path copies nothing).
fn client_of(
    state: &AppState,
    req: &HttpRequest,
    named: Option<&serde_json::Value>,
) -> Result<Option<std::net::IpAddr>, ApiError> {
    let Some(named) = named.filter(|v| !v.is_null()) else {
        return Ok(ClientInfo::client_ip_of(req));
    };
    let client = ClientInfo::of(req);
    let trusted = client
        .peer_ip
        .is_some_and(|peer| state.limits.client_rule.is_trusted(peer));
    if !trusted {
        return Ok(client.client_ip);
    }
    named
        .as_str()
        .and_then(|ip| ip.trim().parse::<std::net::IpAddr>().ok())
        .map(|ip| Some(ip.to_canonical()))
        .ok_or_else(|| ApiError::BadRequest("clientIp must be an IP address".into()))
}

/// Always 200: the answer is in `valid` and `code` (429 for a refused key when the client IP is over
/// the failure limit; a valid key is always 200).
#[utoipa::path(post, path = "/auth/verify", tag = "verify", request_body = VerifyRequest,
    responses((status = 200, description = "The verdict", body = VerifyResult), WithBody, RateLimited, Common))]
async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<VerifyRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = match &body.0.api_key {
        Some(serde_json::Value::String(s)) => s.as_str(),
        _ => "",
    };
    let client_ip = client_of(&state, &req, body.0.client_ip.as_ref())?;
    let v = crate::auth::authenticate(&state, &req, presented, client_ip).await?;
    let p = v.principal.as_ref();
    let mut answer = json!({
        "valid": p.is_some(),
        "code": v.code,
        "userId": p.map(|p| p.user_id.as_ref()),
        "apiKeyId": v.api_key_id,
        "roles": p.map(|p| p.roles.iter().map(|r| r.as_ref()).collect::<Vec<_>>()),
    });
    if let Some(meta) = p
        .and_then(|p| p.policy.as_ref())
        .and_then(|p| p.meta.as_ref())
    {
        answer["meta"] = serde_json::Value::Object(meta.as_map().clone());
    }
    if let Some(seconds) = v.retry_after_secs {
        answer["retryAfterSeconds"] = seconds.into();
    }
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(answer))
}

/// The nginx `auth_request` shape: 200 with identity headers, or 401.
#[utoipa::path(get, path = "/auth/check", tag = "verify", security(("bearer" = [])),
    responses((status = 200, description = "Valid: identity in `X-Vams-User-Id`, `X-Vams-Roles` (comma-separated), `X-Vams-Api-Key-Id`",
        body = CheckResult,
        headers(("X-Vams-User-Id" = String), ("X-Vams-Roles" = String), ("X-Vams-Api-Key-Id" = String))),
        Authenticated))]
async fn check(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let verification = verify_request(&state, &req).await?;
    let Some(p) = verification.principal else {
        if let Some(limited) = crate::auth::over_rate_limit(&verification) {
            return Err(limited);
        }
        return Ok(ApiError::json(
            actix_web::http::StatusCode::UNAUTHORIZED,
            "Unauthorized",
        ));
    };
    let roles: Vec<&str> = p.roles.iter().map(|r| r.as_ref()).collect();
    let mut id = uuid::Uuid::encode_buffer();
    let id = p.api_key_id.hyphenated().encode_lower(&mut id);
    // Names as constants: the hot path of a gateway parses no header name.
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, NO_STORE))
        .insert_header((X_VAMS_USER_ID, p.user_id.as_ref()))
        .insert_header((X_VAMS_ROLES, roles.join(",")))
        .insert_header((X_VAMS_API_KEY_ID, &*id))
        .json(Checked {
            user_id: p.user_id.as_ref(),
            api_key_id: id,
            roles: &roles,
        }))
}

const X_VAMS_USER_ID: HeaderName = HeaderName::from_static("x-vams-user-id");
const X_VAMS_ROLES: HeaderName = HeaderName::from_static("x-vams-roles");
const X_VAMS_API_KEY_ID: HeaderName = HeaderName::from_static("x-vams-api-key-id");
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// `/auth/check`'s body, serialized straight from the principal.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Checked<'a> {
    user_id: &'a str,
    api_key_id: &'a str,
    roles: &'a [&'a str],
}
