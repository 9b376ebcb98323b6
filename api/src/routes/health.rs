//! Liveness and readiness.
use crate::openapi::schemas::{Health, Readiness};
use crate::openapi::Common;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde_json::json;

/// `/healthz` and `/readyz`.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "The process is up", body = Health), Common))]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when the log can be read and the persisted views have caught up with memory.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Store unreachable or persisted views behind memory", body = Readiness), Common))]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let reachable = state.projector.catch_up_views().await.is_ok();
    let (applied, persisted) = state.projector.cursors().await;
    let body = json!({ "storeReachable": reachable, "appliedCursor": applied, "persistedCursor": persisted });
    if reachable && applied == persisted {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
