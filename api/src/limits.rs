//! Abuse limits: refused keys rate-limited per client IP, and a cap on request header bytes.
//!
//! Every refused key a client presents takes a token from its IP's bucket (capacity
//! `APIKEYD_AUTH_FAIL_BURST`, refilled at `APIKEYD_AUTH_FAIL_LIMIT` per minute). While the bucket is
//! empty, every request from that IP that would check a key — bearer-authenticated routes,
//! `/auth/check`, `/auth/verify` — gets 429 with `Retry-After` *without its key being looked at*,
//! valid keys included: answering a valid key normally would tell a guesser which guess was right,
//! which is exactly what the limit exists to slow down. Routes that check no key (`/api/version`,
//! health, metrics, the console's static files) are never limited. A request with no key at all is
//! not a guess and takes no token.
//!
//! The refusal is decided in [`crate::auth`] (which marks the request) and turned into the 429 by
//! [`middleware`], so handlers and their error types need not know about limits.
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpRequest};
use projections::verify::{Verification, VerifyCode};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// IPs tracked at most: about 64 bytes each. Beyond it, full buckets are dropped first; if every
/// bucket is still draining, new IPs go untracked (a flood from that many addresses is not what a
/// per-IP limit can stop, and memory must stay bounded).
const MAX_TRACKED_IPS: usize = 100_000;

/// Marks a request refused because its client IP is limited; holds whole seconds to wait.
#[derive(Debug, Clone, Copy)]
struct Limited(u64);

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// A token bucket per client IP, counting refused keys.
pub struct AuthFailLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl AuthFailLimiter {
    /// `per_minute` refused keys sustained, `burst` at once; `per_minute == 0` turns limiting off.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self {
            per_second: f64::from(per_minute) / 60.0,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn enabled(&self) -> bool {
        self.per_second > 0.0
    }

    fn refill(&self, bucket: &mut Bucket, now: Instant) {
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.updated = now;
    }

    /// How long `ip` must wait before presenting a key again, if it is limited now.
    pub fn retry_after(&self, ip: IpAddr) -> Option<Duration> {
        if !self.enabled() {
            return None;
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets.get_mut(&ip)?;
        self.refill(bucket, now);
        (bucket.tokens < 1.0)
            .then(|| Duration::from_secs_f64((1.0 - bucket.tokens) / self.per_second))
    }

    /// Takes one token from `ip`'s bucket.
    pub fn record_failure(&self, ip: IpAddr) {
        if !self.enabled() {
            return;
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if !buckets.contains_key(&ip) && buckets.len() >= MAX_TRACKED_IPS {
            buckets.retain(|_, b| {
                let elapsed = now.saturating_duration_since(b.updated).as_secs_f64();
                b.tokens + elapsed * self.per_second < self.burst
            });
            if buckets.len() >= MAX_TRACKED_IPS {
                tracing::warn!("auth failure limiter full; not tracking a new client IP");
                return;
            }
        }
        let bucket = buckets.entry(ip).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        self.refill(bucket, now);
        bucket.tokens = (bucket.tokens - 1.0).max(0.0);
    }
}

/// Limits as configured: the failure limiter, which peers may name the client, the header cap.
pub struct Limits {
    /// Refused keys per client IP.
    pub auth_failures: AuthFailLimiter,
    /// Peers whose `X-Real-IP` / `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Largest total of header name and value bytes.
    pub max_header_bytes: usize,
}

impl Limits {
    /// The client's IP: the peer's, or the one a trusted proxy forwarded (`X-Real-IP`, else the
    /// last `X-Forwarded-For` entry, which is the one the proxy itself appended).
    pub fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        let forwarded = header("x-real-ip")
            .and_then(|v| v.trim().parse().ok())
            .or_else(|| {
                header("x-forwarded-for")
                    .and_then(|v| v.rsplit(',').next())
                    .and_then(|v| v.trim().parse().ok())
            });
        Some(forwarded.unwrap_or(peer))
    }
}

/// Before a key is checked: if the client is limited, marks the request and returns the refusal to
/// use instead of looking the key up.
pub fn refuse_if_limited(state: &AppState, req: &HttpRequest) -> Option<Verification> {
    let ip = state.limits.client_ip(req)?;
    let wait = state.limits.auth_failures.retry_after(ip)?;
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    req.extensions_mut().insert(Limited(seconds));
    state.metrics.rate_limited();
    tracing::info!(client_ip = %ip, retry_after = seconds, path = req.path(), "authentication rate-limited");
    Some(Verification {
        code: VerifyCode::Malformed,
        api_key_id: None,
        hash_prefix: None,
        principal: None,
    })
}

/// After a key was checked: counts the outcome and charges a refused key to the client IP.
pub fn observe(state: &AppState, req: &HttpRequest, presented: &str, verification: &Verification) {
    state.metrics.verification(verification.code);
    if verification.principal.is_none() && !presented.trim().is_empty() {
        if let Some(ip) = state.limits.client_ip(req) {
            state.limits.auth_failures.record_failure(ip);
        }
    }
}

fn header_bytes(req: &ServiceRequest) -> usize {
    req.headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum()
}

/// Refuses oversized header sets (431) and turns requests marked by [`refuse_if_limited`] into 429
/// with `Retry-After`.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let cap = req
        .app_data::<web::Data<AppState>>()
        .map_or(crate::config::DEFAULT_MAX_HEADER_BYTES, |s| {
            s.limits.max_header_bytes
        });
    if header_bytes(&req) > cap {
        let response = ApiError::json(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            &format!("Request headers too large (limit {cap} bytes)"),
        );
        return Ok(req.into_response(response));
    }
    let res = next.call(req).await?;
    let limited = res.request().extensions().get::<Limited>().copied();
    let Some(Limited(seconds)) = limited else {
        return Ok(res.map_into_boxed_body());
    };
    let mut response = ApiError::json(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many failed authentications from this address; retry later",
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(seconds));
    Ok(res.into_response(response))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn limits_after_the_burst_and_only_that_ip() {
        let limiter = AuthFailLimiter::new(60, 3);
        for _ in 0..2 {
            limiter.record_failure(ip(1));
        }
        assert!(limiter.retry_after(ip(1)).is_none(), "burst not used up");
        limiter.record_failure(ip(1));
        let wait = limiter
            .retry_after(ip(1))
            .expect("limited after 3 failures");
        assert!(
            wait <= Duration::from_secs(1),
            "one token a second: {wait:?}"
        );
        assert!(limiter.retry_after(ip(2)).is_none(), "other IPs unaffected");
    }

    #[test]
    fn zero_per_minute_turns_it_off() {
        let limiter = AuthFailLimiter::new(0, 1);
        for _ in 0..10 {
            limiter.record_failure(ip(1));
        }
        assert!(limiter.retry_after(ip(1)).is_none());
    }
}
