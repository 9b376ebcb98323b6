//! Admin-only time travel: the same answers as `apikeyd forensics`, over HTTP.
use crate::auth::AdminCaller;
use crate::error::ApiError;
use crate::openapi::schemas::{KeyAt, UserAt};
use crate::openapi::Admin;
use crate::routes::bad;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::api_key::ApiKey;
use domain::UserId;
use projections::{forensics, Projector};
use serde::Deserialize;
use uuid::Uuid;

/// `/forensics/keys/{apiKeyId}`, `/forensics/users/{userId}`.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/forensics/keys/{api_key_id}", web::get().to(key))
        .route("/forensics/users/{user_id}", web::get().to(user));
}

/// `?at=` an instant (RFC 3339, naive date-time or date, UTC); now when absent.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtQuery {
    /// RFC 3339, naive date-time or date (UTC); now when absent.
    #[param(example = "2026-01-31T12:00:00Z")]
    at: Option<String>,
}

fn instant(query: &AtQuery) -> Result<DateTime<Utc>, ApiError> {
    match query.at.as_deref().filter(|a| !a.is_empty()) {
        None => Ok(Utc::now()),
        Some(raw) => forensics::parse_instant(raw)
            .ok_or_else(|| ApiError::BadRequest(format!("at '{raw}' is not a valid instant"))),
    }
}

async fn model_at(state: &AppState, at: DateTime<Utc>) -> Result<projections::ReadModel, ApiError> {
    Ok(
        Projector::rebuild_until(state.feed.as_ref(), Some(at), &mut |_| {})
            .await?
            .model,
    )
}

#[utoipa::path(get, path = "/forensics/keys/{api_key_id}", tag = "forensics", security(("bearer" = [])),
    params(("api_key_id" = Uuid, Path, description = "The key's UUID"), AtQuery),
    responses((status = 200, description = "The key as it was at `at`", body = KeyAt), Admin,
        (status = 503, description = "Store unavailable", body = crate::openapi::schemas::ErrorBody)))]
async fn key(
    state: web::Data<AppState>,
    _caller: AdminCaller,
    path: web::Path<String>,
    query: web::Query<AtQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = Uuid::parse_str(&path)
        .map_err(|_| ApiError::BadRequest("apiKeyId must be a UUID".into()))?;
    let at = instant(&query)?;
    let model = model_at(&state, at).await?;
    let events = state
        .feed
        .aggregate_events(ApiKey::TYPE, &id.to_string())
        .await?;
    Ok(HttpResponse::Ok().json(forensics::key(&model, id, at).with_history(&events, at)))
}

#[utoipa::path(get, path = "/forensics/users/{user_id}", tag = "forensics", security(("bearer" = [])),
    params(("user_id" = String, Path, description = "The user", pattern = r"^[\w\-\.\+\@]{3,256}$"), AtQuery),
    responses((status = 200, description = "The user's roles and keys as they were at `at`", body = UserAt), Admin,
        (status = 503, description = "Store unavailable", body = crate::openapi::schemas::ErrorBody)))]
async fn user(
    state: web::Data<AppState>,
    _caller: AdminCaller,
    path: web::Path<String>,
    query: web::Query<AtQuery>,
) -> Result<HttpResponse, ApiError> {
    let user = UserId::parse(&path).map_err(bad)?;
    let at = instant(&query)?;
    let model = model_at(&state, at).await?;
    Ok(HttpResponse::Ok().json(forensics::user(&model, &user, at)))
}
