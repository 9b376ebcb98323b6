//! Request ids and the per-request [`ClientInfo`]: every request gets an id — the caller's
//! `X-Request-Id` when short and plain, otherwise a new UUID — which is written back into the request
//! (so handlers, events and the access log all see the same id), carried by the request's tracing
//! span and echoed in the response's `X-Request-Id`. The same middleware computes the request's
//! [`ClientInfo`] once, by the trusted-proxy rule, and stores it in the request's extensions.
//!
//! The span records the method, the path (key-shaped parts redacted) and the client: never the query
//! string, never a header value.
use crate::client_info::{ClientInfo, ClientRule};
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpRequest};
use tracing::Instrument;

/// The header carrying the id both ways.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A caller-supplied request id if it is short and plain, otherwise a new one.
pub fn choose(req: &HttpRequest) -> String {
    req.headers()
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// Assigns, records and echoes the request id; computes and stores the [`ClientInfo`].
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = choose(req.request());
    // Only ASCII letters, digits and '-' survive `choose`, so this cannot fail.
    let value = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    req.headers_mut().insert(X_REQUEST_ID, value.clone());
    let info = match req.app_data::<web::Data<AppState>>() {
        Some(state) => ClientInfo::compute(req.request(), &state.limits.client_rule, id),
        None => ClientInfo::compute(req.request(), &ClientRule::default(), id),
    };
    let span = tracing::info_span!(
        "request",
        request_id = %info.request_id,
        method = %req.method(),
        path = %crate::redact::redact(req.path()),
        client_ip = %info.client(),
    );
    req.extensions_mut().insert(info);
    // Handlers' and extractors' errors arrive here as responses already; only a failing middleware
    // further in returns `Err`, and that answer goes out without the echo. (Holding a clone of the
    // request to build one would break routing, which needs the request unshared.)
    let mut res = next.call(req).instrument(span).await?;
    res.headers_mut().insert(X_REQUEST_ID, value);
    Ok(res.map_into_boxed_body())
}
