//! `GET /auth/api-keys/{apiKeyId}/usage`: what a responder reads to judge a leak's blast radius —
//! the key's last use, verifications per hour over 30 days and its most frequent client addresses.
use crate::auth::AdminCaller;
use crate::error::ApiError;
use crate::openapi::{Admin, NotFound};
use crate::routes::api_keys::key_id;
use crate::routes::wire_time;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::{SecondsFormat, Utc};
use projections::usage::store::usage_of;
use serde::Serialize;

/// The usage route.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/api-keys/{api_key_id}/usage", web::get().to(usage));
}

/// Verifications in one hour.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HourUse {
    /// The hour's start, `2026-12-01T20:00:00Z`.
    hour: String,
    verifications: u64,
}

/// Verifications from one client address.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceIp {
    ip: String,
    count: u64,
    /// The last verification from it (RFC 3339).
    last_seen: String,
}

/// A key's usage, counted by every node (each flushes its own counts; they add up).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyUsage {
    #[schema(format = Uuid)]
    api_key_id: String,
    /// `""` when never used.
    last_used_at: String,
    /// `""` when never used or unknown.
    last_used_from: String,
    /// The last 30 days, hours with use only, oldest first.
    hours: Vec<HourUse>,
    /// The 20 most frequent client addresses (of the 64 kept), most frequent first.
    source_ips: Vec<SourceIp>,
}

#[utoipa::path(get, path = "/auth/api-keys/{api_key_id}/usage", tag = "api-keys", security(("bearer" = [])),
    params(("api_key_id" = Uuid, Path, description = "The key's UUID")),
    responses((status = 200, description = "The key's last use, hourly verifications and client addresses", body = KeyUsage),
        Admin, NotFound,
        (status = 503, description = "Store unavailable", body = crate::openapi::schemas::ErrorBody)))]
async fn usage(
    state: web::Data<AppState>,
    _caller: AdminCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = key_id(&path)?;
    if state.keys.get(&id).await?.is_none() {
        return Err(ApiError::NotFound("API key not found".into()));
    }
    let now = Utc::now();
    let tracker = &state.last_use.tracker;
    let usage = usage_of(tracker, state.last_use.store.as_ref(), &id, now).await?;
    let last = projections::usage::LastUse::latest(usage.last, tracker.last_use(&id));
    Ok(HttpResponse::Ok().json(KeyUsage {
        api_key_id: id.to_string(),
        last_used_at: last.map(|l| wire_time(l.at)).unwrap_or_default(),
        last_used_from: last
            .and_then(|l| l.from)
            .map(|ip| ip.to_string())
            .unwrap_or_default(),
        hours: usage
            .recent_hours(now)
            .map(|(hour, verifications)| HourUse {
                hour: hour.to_rfc3339_opts(SecondsFormat::Secs, true),
                verifications,
            })
            .collect(),
        source_ips: usage
            .top_ips()
            .into_iter()
            .map(|u| SourceIp {
                ip: u.ip.to_string(),
                count: u.count,
                last_seen: wire_time(u.last_seen),
            })
            .collect(),
    }))
}
