//! Abuse limits: refused keys rate-limited per client IP, and a cap on request header bytes.
//!
//! Every refused key a client presents takes a token from its IP's bucket (capacity
//! `APIKEYD_AUTH_FAIL_BURST`, refilled at `APIKEYD_AUTH_FAIL_LIMIT` per minute). Keys carry at
//! least 256 random bits, so guessing is not the threat the limit answers; the store look-up an
//! unknown key costs on the AWS backend, the audit records and the log lines are. So:
//!
//! - a key that verifies is **always served**: it is checked against the in-memory model first (a
//!   cheap look-up), before the limit is consulted, so a flood of bad keys from a NAT, an office or a
//!   CI pool cannot lock out the good keys behind the same address;
//! - a refused key from a client whose bucket is empty gets 429 with `Retry-After` without the store
//!   look-up ([`projections::miss`]), without its own audit record (it is counted in the next
//!   `authFailureSuppressed` record) and without its own log line (one sampled line per client per
//!   [`LOG_EVERY`], with the count);
//! - a request with no key at all is not a guess: it takes no token and is never limited.
//!
//! Routes that check no key (`/api/version`, health, metrics, the console's files) are never limited.
//! The refusal is decided in [`crate::auth`] (which marks the request) and turned into the 429 by
//! [`middleware`], so handlers and their error types need not know about limits.
use crate::client_info::{ClientInfo, ClientRule};
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

/// How often a limited client gets a log line: the first limited request, then one line with the
/// count per interval, however many requests it sends.
pub const LOG_EVERY: Duration = Duration::from_secs(60);

/// Marks a request refused because its client IP is limited; holds whole seconds to wait.
#[derive(Debug, Clone, Copy)]
struct Limited(u64);

/// A limited client's refusal: how long to wait, and whether a log line is due.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// Until a token is back.
    pub retry_after: Duration,
    /// `Some(n)` when this refusal should be logged: `n` limited refusals since the last line,
    /// this one included.
    pub report: Option<u64>,
}

impl Limit {
    /// Whole seconds to wait, at least one: the `Retry-After` value.
    pub fn retry_after_seconds(&self) -> u64 {
        self.retry_after.as_secs_f64().ceil().max(1.0) as u64
    }
}

/// A 429 `{"message": …}` with `Retry-After: seconds`.
pub fn too_many(message: &str, seconds: u64) -> actix_web::HttpResponse {
    let mut response = ApiError::json(StatusCode::TOO_MANY_REQUESTS, message);
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(seconds));
    response
}

struct Bucket {
    tokens: f64,
    updated: Instant,
    /// Limited refusals not yet reported in a log line.
    unreported: u64,
    reported: Option<Instant>,
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

    /// Whether a refused key from `ip` is to be limited now (counting it for the sampled log line).
    pub fn limit(&self, ip: IpAddr) -> Option<Limit> {
        if !self.enabled() {
            return None;
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets.get_mut(&ip)?;
        self.refill(bucket, now);
        if bucket.tokens >= 1.0 {
            return None;
        }
        bucket.unreported += 1;
        let due = bucket
            .reported
            .is_none_or(|at| now.saturating_duration_since(at) >= LOG_EVERY);
        let report = due.then(|| {
            bucket.reported = Some(now);
            std::mem::take(&mut bucket.unreported)
        });
        Some(Limit {
            retry_after: Duration::from_secs_f64((1.0 - bucket.tokens) / self.per_second),
            report,
        })
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
            unreported: 0,
            reported: None,
        });
        self.refill(bucket, now);
        bucket.tokens = (bucket.tokens - 1.0).max(0.0);
    }
}

/// Limits as configured: the failure limiter, who the client is, the header cap.
pub struct Limits {
    /// Refused keys per client IP.
    pub auth_failures: AuthFailLimiter,
    /// Leak reports per client IP (the same bucket, one token a report).
    pub exposure_reports: AuthFailLimiter,
    /// Which peers may name the client, and in which header.
    pub client_rule: ClientRule,
    /// Largest total of header name and value bytes.
    pub max_header_bytes: usize,
    /// Time a request body has to arrive (see [`crate::body`]).
    pub body_timeout: Duration,
}

/// Before a refused key is looked up further: if the client is limited, marks the request (→ 429),
/// counts it (metrics, the audit's suppressed count, the sampled log line) and returns the refusal to
/// answer with.
pub fn refuse_if_limited(
    state: &AppState,
    req: &HttpRequest,
    client: &ClientInfo,
) -> Option<Verification> {
    let limit = state.limits.auth_failures.limit(client.client_ip?)?;
    let seconds = limit.retry_after_seconds();
    req.extensions_mut().insert(Limited(seconds));
    state.metrics.rate_limited();
    if let Some(audit) = &state.auth_audit {
        audit.suppress();
    }
    if let Some(count) = limit.report {
        tracing::info!(
            client_ip = %client.client(),
            retry_after = seconds,
            limited_since_last_line = count,
            "authentication rate-limited (one line per client per minute)"
        );
    }
    Some(Verification {
        code: VerifyCode::Malformed,
        api_key_id: None,
        hash_prefix: None,
        principal: None,
        retry_after_secs: None,
    })
}

/// Whether the limiter answered this request (its 429 is already counted and sampled).
pub fn was_limited(req: &HttpRequest) -> bool {
    req.extensions().get::<Limited>().is_some()
}

/// After a key was checked: counts the outcome and charges a refused key to the client IP.
pub fn observe(
    state: &AppState,
    client: &ClientInfo,
    presented: &str,
    verification: &Verification,
) {
    state.metrics.verification(verification.code);
    if verification.principal.is_none() && !presented.trim().is_empty() {
        if let Some(ip) = client.client_ip {
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
    let response = too_many(
        "Too many failed authentications from this address; retry later",
        seconds,
    );
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
        assert!(limiter.limit(ip(1)).is_none(), "burst not used up");
        limiter.record_failure(ip(1));
        let limit = limiter.limit(ip(1)).expect("limited after 3 failures");
        assert!(
            limit.retry_after <= Duration::from_secs(1),
            "one token a second: {limit:?}"
        );
        assert!(limiter.limit(ip(2)).is_none(), "other IPs unaffected");
    }

    #[test]
    fn limited_refusals_are_reported_once_per_interval_with_a_count() {
        let limiter = AuthFailLimiter::new(1, 1);
        limiter.record_failure(ip(1));
        let reports: Vec<Option<u64>> = (0..5)
            .map(|_| limiter.limit(ip(1)).expect("limited").report)
            .collect();
        assert_eq!(
            reports,
            [Some(1), None, None, None, None],
            "first line at once, then quiet"
        );
    }

    #[test]
    fn zero_per_minute_turns_it_off() {
        let limiter = AuthFailLimiter::new(0, 1);
        for _ in 0..10 {
            limiter.record_failure(ip(1));
        }
        assert!(limiter.limit(ip(1)).is_none());
    }
}
