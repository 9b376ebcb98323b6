//! Errors → HTTP. User errors are 4xx with `{"message": …}`; infrastructure down is 503; anything else
//! an opaque 500 whose cause is logged, never sent. Every message is redacted
//! ([`crate::redact`]): a message that echoes input can never echo a key.
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use cqrs_es::AggregateError;
use domain::api_key::ApiKeyError;
use domain::role::RoleError;
use domain::user_roles::UserRolesError;
use infra::UniqueViolation;

/// Every error a handler returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 with the message.
    #[error("{0}")]
    BadRequest(String),
    /// 401: missing or refused credentials.
    #[error("Unauthorized")]
    Unauthorized,
    /// 403 `{"message":"Forbidden"}`: a refused key, answered as VAMS's API Gateway does
    /// (`APIKEYD_VAMS_REFUSAL_STATUS=403`).
    #[error("Forbidden")]
    GatewayForbidden,
    /// 403: authenticated but not allowed.
    #[error("Not Authorized")]
    Forbidden,
    /// 404 with the message.
    #[error("{0}")]
    NotFound(String),
    /// 409: a concurrent change won.
    #[error("{0}")]
    Conflict(String),
    /// 429 with `Retry-After`: the key is over its rate limit for this many more seconds.
    #[error("Rate limit exceeded for this API key; retry after {0} s")]
    RateLimited(u32),
    /// 413.
    #[error("Request body too large (limit {0} bytes)")]
    TooLarge(usize),
    /// 408: the body did not arrive within the body timeout; the connection is closed.
    #[error("Request body not received within {0} ms")]
    BodyTimeout(u64),
    /// 503: a store is unreachable; nothing was written.
    #[error("Service temporarily unavailable, please retry")]
    Unavailable(String),
    /// 500: a bug; details only in the log.
    #[error("Internal server error")]
    Internal(String),
}

impl ApiError {
    /// A JSON `{"message": …}` response with VAMS's no-store header; key-shaped parts of the
    /// message redacted.
    pub fn json(status: StatusCode, message: &str) -> HttpResponse {
        HttpResponse::build(status)
            .insert_header((
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache, no-store"),
            ))
            .json(serde_json::json!({ "message": crate::redact::redact(message) }))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::GatewayForbidden => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Unavailable(cause) => tracing::warn!(%cause, "store unavailable"),
            Self::Internal(cause) => tracing::error!(%cause, "internal error"),
            _ => {}
        }
        if let Self::RateLimited(seconds) = self {
            return crate::limits::too_many(&self.to_string(), u64::from(*seconds));
        }
        let mut response = Self::json(self.status_code(), &self.to_string());
        if matches!(self, Self::BodyTimeout(_)) {
            // The rest of a body that is late may still be on its way: the connection cannot be
            // reused, and keeping it would hand the slow client the very resource it was holding.
            response
                .head_mut()
                .set_connection_type(ConnectionType::Close);
        }
        response
    }
}

/// How a refused bearer key is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RefusalStatus {
    /// 401 `{"message":"Unauthorized"}`.
    #[default]
    #[value(name = "401")]
    Unauthorized,
    /// 403 `{"message":"Forbidden"}`, as VAMS's API Gateway answers when its authorizer says no.
    #[value(name = "403")]
    Forbidden,
}

impl RefusalStatus {
    /// The error for a request whose key was refused; a request with no key at all is 401 either
    /// way (API Gateway does not call its authorizer without the header).
    pub fn refused(self, presented: Option<&str>) -> ApiError {
        match (self, presented.filter(|k| !k.is_empty())) {
            (Self::Forbidden, Some(_)) => ApiError::GatewayForbidden,
            _ => ApiError::Unauthorized,
        }
    }
}

/// How a domain error maps onto HTTP.
pub trait DomainErrorStatus: std::error::Error {
    /// The error for this refusal.
    fn to_api(&self) -> ApiError;
}

impl DomainErrorStatus for ApiKeyError {
    fn to_api(&self) -> ApiError {
        match self {
            Self::NotFound => ApiError::NotFound(self.to_string()),
            Self::LastAdminKey(e) => ApiError::Conflict(e.to_string()),
            Self::Unavailable(e) => ApiError::Unavailable(e.to_string()),
            _ => ApiError::BadRequest(self.to_string()),
        }
    }
}

impl DomainErrorStatus for RoleError {
    fn to_api(&self) -> ApiError {
        ApiError::BadRequest(self.to_string())
    }
}

impl DomainErrorStatus for UserRolesError {
    fn to_api(&self) -> ApiError {
        match self {
            Self::LastAdminKey(e) => ApiError::Conflict(e.to_string()),
            Self::Unavailable(e) => ApiError::Unavailable(e.to_string()),
            _ => ApiError::BadRequest(self.to_string()),
        }
    }
}

impl<E: DomainErrorStatus> From<AggregateError<E>> for ApiError {
    fn from(error: AggregateError<E>) -> Self {
        match error {
            AggregateError::UserError(e) => e.to_api(),
            AggregateError::AggregateConflict => {
                Self::Conflict("The resource was changed concurrently; retry the request".into())
            }
            AggregateError::DatabaseConnectionError(e) => Self::Unavailable(e.to_string()),
            AggregateError::DeserializationError(e) => Self::Internal(e.to_string()),
            AggregateError::UnexpectedError(e) => match e.downcast_ref::<UniqueViolation>() {
                Some(v) => Self::BadRequest(ApiKeyError::NameTaken(v.value.clone()).to_string()),
                None => Self::Internal(e.to_string()),
            },
        }
    }
}

impl From<projections::StoreError> for ApiError {
    fn from(error: projections::StoreError) -> Self {
        // The message the log gets: the adapter's error with its whole chain of causes.
        let cause = error.to_string();
        match error {
            projections::StoreError::Unavailable(_) | projections::StoreError::ViewsBehind(_) => {
                Self::Unavailable(cause)
            }
            projections::StoreError::Corrupt(_) => Self::Internal(cause),
        }
    }
}
