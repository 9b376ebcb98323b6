//! JSON request bodies with VAMS's messages and a size cap, parsed by hand so every failure is a
//! `{"message": …}` 4xx.
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures::future::LocalBoxFuture;
use futures::StreamExt;
use serde::de::DeserializeOwned;

/// A parsed JSON body.
pub struct JsonBody<T>(pub T);

/// Parses `bytes` as `T`: empty → "Request body is required", not JSON → "Invalid JSON in request
/// body", wrong shape → the field-level reason.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest("Request body is required".into()));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|_| ApiError::BadRequest("Invalid JSON in request body".into()))?;
    if !value.is_object() {
        return Err(ApiError::BadRequest(
            "Request body must be a JSON object".into(),
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::BadRequest(format!("Invalid request body: {e}")))
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map_or(crate::config::DEFAULT_MAX_BODY_BYTES, |s| s.max_body_bytes);
        let declared = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared.is_some_and(|n| n > limit) {
                return Err(ApiError::TooLarge(limit));
            }
            let mut bytes = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk
                    .map_err(|e| ApiError::BadRequest(format!("Cannot read request body: {e}")))?;
                if bytes.len() + chunk.len() > limit {
                    return Err(ApiError::TooLarge(limit));
                }
                bytes.extend_from_slice(&chunk);
            }
            parse(&bytes).map(JsonBody)
        })
    }
}
