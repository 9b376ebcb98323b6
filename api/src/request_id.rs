//! Request ids: every request gets one — the caller's `X-Request-Id` when short and plain (see
//! [`crate::auth::request_id`]), otherwise a new UUID — which is written back into the request (so
//! handlers, events and the access log all see the same id), carried by the request's tracing span
//! and echoed in the response's `X-Request-Id`.
//!
//! The span records the method and the path only: never the query string, never a header value.
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::Error;
use tracing::Instrument;

/// The header carrying the id both ways.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Assigns, records and echoes the request id.
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = crate::auth::request_id(req.request());
    // Only ASCII letters, digits and '-' survive `request_id`, so this cannot fail.
    let value = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    req.headers_mut().insert(X_REQUEST_ID, value.clone());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.path()
    );
    // Handlers' and extractors' errors arrive here as responses already; only a failing middleware
    // further in returns `Err`, and that answer goes out without the echo. (Holding a clone of the
    // request to build one would break routing, which needs the request unshared.)
    let mut res = next.call(req).instrument(span).await?;
    res.headers_mut().insert(X_REQUEST_ID, value);
    Ok(res.map_into_boxed_body())
}
