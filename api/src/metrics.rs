//! Prometheus metrics at `GET /metrics` (text exposition format).
//!
//! Counted as requests happen: requests and their latency per route pattern, method and status;
//! key verifications by outcome code; requests refused by the failure limit. Measured when scraped:
//! how far the in-memory read model, the persisted views and each audit sink are behind the event
//! log. Labels are bounded: route *patterns* (unmatched paths share one label), known methods only.
use crate::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};
use chrono::Utc;
use projections::verify::VerifyCode;
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};
use std::time::Instant;

/// Events read past a cursor to measure a backlog: the gauges saturate here, which already means
/// "far behind", and a scrape stays one bounded read.
const BACKLOG_SCAN: usize = 1000;

/// Latency buckets in seconds: sub-millisecond verification up to slow store writes.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Every metric apikeyd exports.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    verifications: IntCounterVec,
    /// The `VALID` series of `verifications`, resolved once: the hot path skips the label look-up.
    valid_verifications: IntCounter,
    rate_limited: IntCounter,
    connections_refused: IntCounter,
    store_up: IntGauge,
    unapplied: IntGauge,
    lag_seconds: Gauge,
    views_unsaved: IntGauge,
    audit_backlog: IntGaugeVec,
    last_use_pending: IntGauge,
    last_use_flushes: IntGauge,
    cached_keys: IntGauge,
    store_lookups: IntGauge,
    dynamodb_requests: IntGaugeVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn register<M: prometheus::core::Collector + Clone + 'static>(registry: &Registry, metric: M) -> M {
    registry
        .register(Box::new(metric.clone()))
        .expect("metric names are unique and valid");
    metric
}

impl Metrics {
    /// A fresh registry (one per application, so tests running several apps do not share counts).
    pub fn new() -> Self {
        let r = Registry::new();
        let opts = |name: &str, help: &str| Opts::new(name, help);
        let verifications = register(
            &r,
            IntCounterVec::new(
                opts(
                    "apikeyd_auth_verifications_total",
                    "Presented keys checked (bearer auth, /auth/check, /auth/verify), by outcome.",
                ),
                &["code"],
            )
            .expect("valid"),
        );
        Self {
            requests: register(
                &r,
                IntCounterVec::new(
                    opts("apikeyd_http_requests_total", "HTTP requests answered."),
                    &["method", "route", "status"],
                )
                .expect("valid"),
            ),
            latency: register(
                &r,
                HistogramVec::new(
                    HistogramOpts::new(
                        "apikeyd_http_request_duration_seconds",
                        "Time from request to response head.",
                    )
                    .buckets(LATENCY_BUCKETS.to_vec()),
                    &["method", "route", "status"],
                )
                .expect("valid"),
            ),
            valid_verifications: verifications.with_label_values(&[VerifyCode::Valid.as_str()]),
            verifications,
            rate_limited: register(
                &r,
                IntCounter::new(
                    "apikeyd_auth_rate_limited_total",
                    "Requests answered 429 because their client IP presented too many refused keys.",
                )
                .expect("valid"),
            ),
            connections_refused: register(
                &r,
                IntCounter::new(
                    "apikeyd_connections_refused_total",
                    "Connections closed on accept because their peer already held APIKEYD_MAX_CONNECTIONS_PER_IP.",
                )
                .expect("valid"),
            ),
            store_up: register(
                &r,
                IntGauge::new(
                    "apikeyd_store_up",
                    "1 when the event log could be read at the last scrape.",
                )
                .expect("valid"),
            ),
            unapplied: register(
                &r,
                IntGauge::new(
                    "apikeyd_projection_unapplied_events",
                    "Events in the log not yet in the in-memory read model (capped at 1000).",
                )
                .expect("valid"),
            ),
            lag_seconds: register(
                &r,
                Gauge::new(
                    "apikeyd_projection_lag_seconds",
                    "Age of the oldest event not yet in the in-memory read model (0 when caught up).",
                )
                .expect("valid"),
            ),
            views_unsaved: register(
                &r,
                IntGauge::new(
                    "apikeyd_projection_views_unsaved",
                    "1 when the persisted views are behind the in-memory read model.",
                )
                .expect("valid"),
            ),
            audit_backlog: register(
                &r,
                IntGaugeVec::new(
                    opts(
                        "apikeyd_audit_backlog_events",
                        "Events not yet delivered to an audit sink (capped at 1000).",
                    ),
                    &["sink"],
                )
                .expect("valid"),
            ),
            last_use_pending: register(
                &r,
                IntGauge::new(
                    "apikeyd_last_use_pending_keys",
                    "Keys whose last use this node recorded but has not flushed yet.",
                )
                .expect("valid"),
            ),
            last_use_flushes: register(
                &r,
                IntGauge::new(
                    "apikeyd_last_use_flushes",
                    "Flushes of the keys' last use this node completed since it started.",
                )
                .expect("valid"),
            ),
            cached_keys: register(
                &r,
                IntGauge::new(
                    "apikeyd_key_cache_keys",
                    "Keys this node holds in memory (live, deleted and cached; capped by APIKEYD_CACHE_KEYS on AWS).",
                )
                .expect("valid"),
            ),
            store_lookups: register(
                &r,
                IntGauge::new(
                    "apikeyd_key_store_lookups",
                    "Keys memory did not hold that this node looked up in the store (one GetItem each) since it started.",
                )
                .expect("valid"),
            ),
            dynamodb_requests: register(
                &r,
                IntGaugeVec::new(
                    opts(
                        "apikeyd_dynamodb_requests",
                        "DynamoDB requests this process sent since it started, by operation (AWS backend).",
                    ),
                    &["operation"],
                )
                .expect("valid"),
            ),
            registry: r,
        }
    }

    /// Counts one answered request.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// Counts one key check by its outcome.
    pub fn verification(&self, code: VerifyCode) {
        match code {
            VerifyCode::Valid => self.valid_verifications.inc(),
            code => self.verifications.with_label_values(&[code.as_str()]).inc(),
        }
    }

    /// Counts one request refused by the failure limit.
    pub fn rate_limited(&self) {
        self.rate_limited.inc();
    }

    /// Counts one connection closed by the per-peer connection cap.
    pub fn connection_refused(&self) {
        self.connections_refused.inc();
    }

    /// Measures the backlogs, then renders every metric in the text format.
    pub async fn render(&self, state: &AppState) -> String {
        // A scrape answers even while the store hangs: what could not be measured in time keeps its
        // last value, and the store counts as down.
        if tokio::time::timeout(crate::routes::health::STORE_PROBE, self.measure(state))
            .await
            .is_err()
        {
            self.store_up.set(0);
        }
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding into memory cannot fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }

    async fn measure(&self, state: &AppState) {
        let tracker = &state.last_use.tracker;
        self.last_use_pending.set(tracker.pending_keys() as i64);
        self.last_use_flushes.set(tracker.flushes() as i64);
        self.cached_keys
            .set(state.projector.read().lookup.slots() as i64);
        if let Some(misses) = &state.misses {
            self.store_lookups.set(misses.lookups() as i64);
            for (operation, sent) in infra::dynamo::requests::sent() {
                self.dynamodb_requests
                    .with_label_values(&[operation])
                    .set(sent as i64);
            }
        }
        let (applied, persisted) = state.projector.cursors();
        self.views_unsaved.set(i64::from(applied != persisted));
        let Ok(pending) = state.feed.events_after(&applied, BACKLOG_SCAN).await else {
            self.store_up.set(0);
            return;
        };
        self.store_up.set(1);
        self.unapplied.set(pending.len() as i64);
        let lag = pending.first().map_or(0.0, |e| {
            (Utc::now() - e.recorded_at).num_milliseconds().max(0) as f64 / 1000.0
        });
        self.lag_seconds.set(lag);
        for sink in &state.audit_sinks {
            let Ok(checkpoint) = state.views.checkpoint(sink).await else {
                continue;
            };
            if let Ok(events) = state.feed.events_after(&checkpoint, BACKLOG_SCAN).await {
                self.audit_backlog
                    .with_label_values(&[sink.as_str()])
                    .set(events.len() as i64);
            }
        }
    }
}

/// `GET /metrics`.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics));
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String),
        crate::openapi::Common))]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let body = state.metrics.render(&state).await;
    HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}

/// A method label from a bounded set.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Counts and times every request under its route pattern.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = method_label(req.method());
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let result = next.call(req).await;
    if let Some(state) = state {
        let status = match &result {
            Ok(res) => res.status(),
            Err(e) => e.as_response_error().status_code(),
        };
        let seconds = started.elapsed().as_secs_f64();
        state
            .metrics
            .request(method, &route, status.as_u16(), seconds);
    }
    result
}
