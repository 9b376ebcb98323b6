//! Liveness and readiness.
use crate::openapi::schemas::{Health, Readiness};
use crate::openapi::Common;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde_json::json;
use std::time::Duration;

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

/// How long a probe (`/readyz`, a `/metrics` scrape) waits for the store. Orchestrators time probes
/// out after about a second; a hung store must give a clear 503 before that, not no answer.
pub const STORE_PROBE: Duration = Duration::from_millis(800);

/// Ready when the log can be read within [`STORE_PROBE`] and the persisted views have caught up with
/// memory. A store that does not answer in time is reported from the last known cursors.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Store unreachable or slow, or persisted views behind memory", body = Readiness), Common))]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let reason = match tokio::time::timeout(STORE_PROBE, state.projector.catch_up_views()).await {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some(error.to_string()),
        Err(_) => Some(format!(
            "store did not answer within {} ms",
            STORE_PROBE.as_millis()
        )),
    };
    let (applied, persisted) = state.projector.cursors();
    let reachable = reason.is_none();
    let reason = reason.or_else(|| {
        (applied != persisted).then(|| "persisted views are behind the in-memory model".to_owned())
    });
    let mut body = json!({ "storeReachable": reachable, "appliedCursor": applied, "persistedCursor": persisted });
    match reason {
        None => HttpResponse::Ok().json(body),
        Some(reason) => {
            body["reason"] = reason.into();
            HttpResponse::ServiceUnavailable().json(body)
        }
    }
}
