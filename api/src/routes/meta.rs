//! Configuration routes vamscli calls during `setup` and `auth login`.
use crate::auth::Caller;
use crate::error::ApiError;
use crate::openapi::schemas::{AmplifyConfig, ErrorBody, LoginProfile, SecureConfig, Version};
use crate::openapi::{Authenticated, Common, NotFound};
use crate::routes::bad;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use domain::UserId;
use serde_json::json;

/// The VAMS version vamscli checks for equality.
pub const VAMS_VERSION: &str = "2.5.1";

/// `/api/version`, `/api/amplify-config`, `/secure-config`, `/auth/loginProfile/{userId}`.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/version", web::get().to(version))
        .route("/api/amplify-config", web::get().to(amplify_config))
        .route("/secure-config", web::get().to(secure_config))
        .route("/auth/loginProfile/{user_id}", web::get().to(login_profile));
}

#[utoipa::path(get, path = "/api/version", tag = "config",
    responses((status = 200, description = "The VAMS version", body = Version), Common))]
async fn version() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "version": VAMS_VERSION }))
}

/// Only `api` matters to vamscli with API keys; Cognito fields are the string "undefined" as VAMS
/// emits for unused ones, which also stops vamscli offering Cognito login.
#[utoipa::path(get, path = "/api/amplify-config", tag = "config",
    responses((status = 200, description = "Client configuration", body = AmplifyConfig), Common))]
async fn amplify_config(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "api": state.public_url,
        "region": "undefined",
        "cognitoUserPoolId": "undefined",
        "cognitoAppClientId": "undefined",
        "cognitoIdentityPoolId": "undefined",
        "externalOAuthIdp": {
            "URL": "undefined", "ClientId": "undefined", "Scope": "undefined", "ScopeMfa": "undefined",
            "TokenEndpoint": "undefined", "AuthorizationEndpoint": "undefined", "DiscoveryEndpoint": "undefined"
        },
        "stackName": "apikeyd",
        "contentSecurityPolicy": "undefined",
        "bannerHtmlMessage": "undefined",
    }))
}

#[utoipa::path(get, path = "/secure-config", tag = "config", security(("bearer" = [])),
    responses((status = 200, description = "Feature switches (none)", body = SecureConfig), Authenticated))]
async fn secure_config(_caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "featuresEnabled": "",
        "webDeployedUrl": "",
        "locationServiceApiUrl": "",
    }))
}

#[utoipa::path(get, path = "/auth/loginProfile/{user_id}", tag = "config", security(("bearer" = [])),
    params(("user_id" = String, Path, description = "Must be the key's own user", pattern = r"^[\w\-\.\+\@]{3,256}$", example = "admin")),
    responses(
        (status = 200, description = "The caller's profile", body = LoginProfile),
        (status = 400, description = "Invalid user id", body = ErrorBody),
        (status = 403, description = "Another user's profile", body = ErrorBody),
        Authenticated, NotFound,
    ))]
async fn login_profile(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let user = UserId::parse(&path.into_inner()).map_err(bad)?;
    if user != caller.principal.user_id {
        return Err(ApiError::Forbidden);
    }
    Ok(HttpResponse::Ok().json(json!({
        "message": { "Items": [{ "userId": user.as_ref(), "email": "" }] }
    })))
}
