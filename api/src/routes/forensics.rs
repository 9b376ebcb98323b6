//! Admin-only time travel: the same answers as `apikeyd forensics`, over HTTP.
use crate::auth::AdminCaller;
use crate::error::ApiError;
use crate::routes::bad;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
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
#[derive(Deserialize)]
pub struct AtQuery {
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
    Ok(HttpResponse::Ok().json(forensics::key(&model, id, at)))
}

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
