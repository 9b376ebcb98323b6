//! JSON request bodies with VAMS's messages, a size cap and a time limit, parsed by hand so every
//! failure is a `{"message": …}` 4xx.
//!
//! A body must arrive within `APIKEYD_BODY_TIMEOUT_MS` of the request reaching its handler (408 and the
//! connection closed otherwise): actix bounds only the request head in time, and a client announcing
//! `Content-Length: 100` and sending half could otherwise hold the connection forever. A body that
//! carries something key-shaped anywhere but the `apiKey` field `/auth/verify` reads is refused
//! (400): it is a key pasted into the wrong field, and accepting it would store it in events.
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures::future::LocalBoxFuture;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// The fields that may carry keys: `/auth/verify`'s `apiKey` and a leak report's `keys`
/// (`/auth/exposures`, whose handler never stores or echoes them).
const KEY_FIELDS: [&str; 2] = ["apiKey", "keys"];

/// A parsed JSON body.
pub struct JsonBody<T>(pub T);

/// Parses `bytes` as `T`: empty → "Request body is required", not JSON → "Invalid JSON in request
/// body", a key-shaped value outside `apiKey` and `keys` → refused naming the field, wrong shape → the
/// field-level reason.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest("Request body is required".into()));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|_| ApiError::BadRequest("Invalid JSON in request body".into()))?;
    let Value::Object(fields) = &value else {
        return Err(ApiError::BadRequest(
            "Request body must be a JSON object".into(),
        ));
    };
    if let Some((field, _)) = fields
        .iter()
        .find(|(name, v)| !KEY_FIELDS.contains(&name.as_str()) && holds_key(name, v))
    {
        let field = crate::redact::redact(field);
        return Err(ApiError::BadRequest(format!(
            "{field} must not contain an API key (vams_…); keys are sent only in the Authorization header"
        )));
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::BadRequest(format!("Invalid request body: {e}")))
}

/// Whether a field (its name or any string inside its value) is key-shaped.
fn holds_key(name: &str, value: &Value) -> bool {
    crate::redact::contains_key(name)
        || match value {
            Value::String(s) => crate::redact::contains_key(s),
            Value::Array(items) => items.iter().any(|v| holds_key("", v)),
            Value::Object(map) => map.iter().any(|(k, v)| holds_key(k, v)),
            _ => false,
        }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>();
        let mut limit = state.map_or(crate::config::DEFAULT_MAX_BODY_BYTES, |s| s.max_body_bytes);
        if req.path() == crate::routes::exposures::PATH {
            // A thousand VAMS-format keys do not fit the general cap.
            limit = limit.max(crate::routes::exposures::MAX_REPORT_BYTES);
        }
        let timeout = state.map_or(
            Duration::from_millis(crate::config::DEFAULT_BODY_TIMEOUT_MS),
            |s| s.limits.body_timeout,
        );
        let declared = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let payload = payload.take();
        Box::pin(async move {
            if declared.is_some_and(|n| n > limit) {
                return Err(ApiError::TooLarge(limit));
            }
            let bytes = tokio::time::timeout(timeout, read(payload, limit))
                .await
                .map_err(|_| ApiError::BodyTimeout(timeout.as_millis() as u64))??;
            parse(&bytes).map(JsonBody)
        })
    }
}

/// The whole body, at most `limit` bytes.
async fn read(mut payload: Payload, limit: usize) -> Result<web::BytesMut, ApiError> {
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("Cannot read request body: {e}")))?;
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge(limit));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Named {
        #[serde(rename = "apiKeyName")]
        name: String,
    }

    #[test]
    fn key_shaped_values_are_refused_outside_api_key() {
        let key = format!("vams_{}", "k".repeat(43));
        let cases = [
            (
                format!(r#"{{"apiKeyName": "{key}"}}"#),
                Some("apiKeyName must not contain an API key"),
                "in a field",
            ),
            (
                format!(r#"{{"apiKeyName": "n", "tags": [{{"x": "{key}"}}]}}"#),
                Some("tags must not"),
                "nested",
            ),
            (
                format!(r#"{{"apiKeyName": "n", "{key}": 1}}"#),
                Some("must not contain an API key"),
                "as a field name",
            ),
            (
                format!(r#"{{"apiKeyName": "n", "apiKey": "{key}"}}"#),
                None,
                "apiKey is where keys go",
            ),
            (
                r#"{"apiKeyName": "vams_prod"}"#.to_owned(),
                None,
                "too short to be a key",
            ),
            (
                format!(r#"{{"apiKeyName": "{key}"#),
                Some("Invalid JSON in request body"),
                "not JSON",
            ),
        ];
        for (body, refused, why) in cases {
            match (parse::<Named>(body.as_bytes()), refused) {
                (Ok(_), None) => {}
                (Err(e), Some(message)) => {
                    let text = e.to_string();
                    assert!(text.contains(message), "{why}: {text}");
                    assert!(!crate::redact::contains_key(&text), "{why}: echoes the key");
                }
                (result, _) => panic!("{why}: {result:?}"),
            }
        }
    }
}
