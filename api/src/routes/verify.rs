//! Verification for gateways and services: open to any caller, no admin key needed.
use crate::auth::verify_request;
use crate::body::JsonBody;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

/// `POST /auth/verify`, `GET /auth/check`.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/verify", web::post().to(verify))
        .route("/auth/check", web::get().to(check));
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyRequest {
    api_key: Option<serde_json::Value>,
}

/// Always 200: the answer is in `valid` and `code`.
async fn verify(state: web::Data<AppState>, body: JsonBody<VerifyRequest>) -> HttpResponse {
    let presented = match &body.0.api_key {
        Some(serde_json::Value::String(s)) => s.as_str(),
        _ => "",
    };
    let v = crate::auth::verify_key(&state, presented).await;
    if v.principal.is_none() {
        tracing::info!(
            code = v.code.as_str(),
            hash_prefix = v.hash_prefix.as_deref().unwrap_or("-"),
            "verify refused"
        );
    }
    let p = v.principal.as_ref();
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({
            "valid": p.is_some(),
            "code": v.code,
            "userId": p.map(|p| p.user_id.as_ref()),
            "apiKeyId": v.api_key_id,
            "roles": p.map(|p| p.roles.iter().map(|r| r.as_ref()).collect::<Vec<_>>()),
        }))
}

/// The nginx `auth_request` shape: 200 with identity headers, or 401.
async fn check(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(p) = verify_request(&state, &req).await.principal else {
        return crate::error::ApiError::json(
            actix_web::http::StatusCode::UNAUTHORIZED,
            "Unauthorized",
        );
    };
    let roles: Vec<&str> = p.roles.iter().map(|r| r.as_ref()).collect();
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Vams-User-Id", p.user_id.as_ref()))
        .insert_header(("X-Vams-Roles", roles.join(",")))
        .insert_header(("X-Vams-Api-Key-Id", p.api_key_id.to_string()))
        .json(json!({ "userId": p.user_id.as_ref(), "apiKeyId": p.api_key_id, "roles": roles }))
}
