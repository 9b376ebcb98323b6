//! `POST /auth/api-keys/{apiKeyId}/rotate`: a new secret for a key, the previous one kept for a
//! grace period (docs/adr/018-key-rotation-and-exposure.md).
use crate::auth::AdminCaller;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::openapi::schemas::ApiKeyRotated;
use crate::openapi::{Admin, NotFound, WithBody, Writes};
use crate::routes::api_keys::{folded, key_id};
use crate::routes::bad;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use domain::api_key::{ApiKeyCommand, RotateApiKey};
use domain::GracePeriod;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{json, Value};

/// The rotate route.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/api-keys/{api_key_id}/rotate", web::post().to(rotate));
}

/// How long the previous secret keeps working.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RotateRequest {
    /// Seconds the previous secret keeps authenticating, 0 (stops at once) to 2592000 (30 days);
    /// default 86400. Never past the key's own expiry.
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 2592000, example = 86400)]
    grace_period_seconds: Option<Value>,
}

/// The grace asked for: an integer, absent or `null` for the default.
fn grace_of(raw: Option<&Value>) -> Result<GracePeriod, ApiError> {
    match raw {
        None | Some(Value::Null) => Ok(GracePeriod::DEFAULT),
        Some(Value::Number(n)) => GracePeriod::from_seconds(n.as_i64().unwrap_or(-1)).map_err(bad),
        Some(_) => GracePeriod::from_seconds(-1).map_err(bad),
    }
}

#[utoipa::path(post, path = "/auth/api-keys/{api_key_id}/rotate", tag = "api-keys", security(("bearer" = [])),
    params(("api_key_id" = Uuid, Path, description = "The key's UUID")),
    request_body = RotateRequest,
    responses((status = 200, description = "Rotated; the new plaintext key is in `apiKey`, shown once", body = ApiKeyRotated),
        Admin, WithBody, Writes, NotFound))]
#[tracing::instrument(skip_all, fields(actor = %caller.0.principal.user_id, request_id = %caller.0.request_id))]
pub(crate) async fn rotate(
    state: web::Data<AppState>,
    caller: AdminCaller,
    path: web::Path<String>,
    body: JsonBody<RotateRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = key_id(&path)?;
    let grace = grace_of(body.0.grace_period_seconds.as_ref())?;
    let now = Utc::now();
    let key = infra::key_material::generate().map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let command = RotateApiKey {
        key_hash: key.hash,
        grace,
        max_lifetime: state.max_key_lifetime,
        actor: caller.0.actor(),
        at: now,
    };
    let fields = json!({ "gracePeriodSeconds": grace.seconds() });
    state
        .bus
        .api_key(
            &id.to_string(),
            ApiKeyCommand::Rotate(command),
            caller.0.metadata_for("apiKeyRotate", fields),
        )
        .await?;
    tracing::info!(api_key_id = %id, grace = grace.seconds(), "api key rotated");
    let item = folded(&state, &id).await?;
    let mut body = serde_json::to_value(&item).map_err(|e| ApiError::Internal(e.to_string()))?;
    // No grace recorded: the previous secret stopped at the rotation.
    if body.get("previousKeyExpiresAt").is_none() {
        body["previousKeyExpiresAt"] = body["rotatedAt"].clone();
    }
    // The plaintext leaves the process here and nowhere else.
    body["apiKey"] = Value::String(key.plaintext.expose_secret().to_owned());
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_is_an_integer_within_thirty_days() {
        let cases = [
            (None, Some(86_400), "default"),
            (Some(json!(null)), Some(86_400), "null is the default"),
            (Some(json!(0)), Some(0), "none"),
            (Some(json!(2_592_000)), Some(2_592_000), "30 days"),
            (Some(json!(2_592_001)), None, "over 30 days"),
            (Some(json!(-1)), None, "negative"),
            (Some(json!(1.5)), None, "fraction"),
            (Some(json!("60")), None, "string"),
        ];
        for (raw, want, why) in cases {
            let got = grace_of(raw.as_ref()).ok().map(GracePeriod::seconds);
            assert_eq!(got, want, "{why}");
        }
    }
}
