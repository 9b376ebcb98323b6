//! Refused authentications in the audit trail, bounded so a flood of bad keys cannot flood the log.
//!
//! Refusals are not state changes, so they are not events: they go straight to the audit sinks from a
//! bounded queue, at most [`RATE`] per second per node (burst [`BURST`]). Whatever exceeds the bound is
//! counted and reported as one `authFailureSuppressed` record per flush, and so are the refusals the
//! failure limiter answers with 429 (see [`crate::limits`]): a flood costs one record a second. The
//! record's `sourceIp` is the client by the trusted-proxy rule ([`ClientInfo`]), its `path` has
//! key-shaped parts redacted. Delivery is best effort: a
//! sink that is down loses these records (the log says so), unlike event records.
use crate::client_info::ClientInfo;
use chrono::Utc;
use projections::audit::{AuditRecord, RequestFacts};
use projections::verify::Verification;
use projections::AuditSink;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Refusal records per second a node writes, sustained.
const RATE: f64 = 10.0;
/// Refusal records a burst may write.
const BURST: f64 = 50.0;
/// Queue between request handlers and the writer.
const QUEUE: usize = 1000;
/// How often queued records are written.
const FLUSH: Duration = Duration::from_secs(1);

/// Records refused authentications.
pub struct AuthFailureAudit {
    queue: mpsc::Sender<AuditRecord>,
    bucket: Mutex<(f64, Instant)>,
    suppressed: Arc<AtomicU64>,
}

/// What is known about one refusal.
pub struct Refusal<'a> {
    /// The refused verification.
    pub verification: &'a Verification,
    /// Who presented it.
    pub client: &'a ClientInfo,
    /// The request method.
    pub method: &'a str,
    /// The request path (redacted when recorded).
    pub path: &'a str,
}

impl AuthFailureAudit {
    /// Starts the writer task; `None` when there is no sink.
    pub fn start(sinks: Vec<Arc<dyn AuditSink>>) -> Option<Arc<Self>> {
        if sinks.is_empty() {
            return None;
        }
        let (queue, receiver) = mpsc::channel(QUEUE);
        let suppressed = Arc::new(AtomicU64::new(0));
        tokio::spawn(write_loop(receiver, sinks, suppressed.clone()));
        Some(Arc::new(Self {
            queue,
            bucket: Mutex::new((BURST, Instant::now())),
            suppressed,
        }))
    }

    fn admit(&self) -> bool {
        let mut bucket = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        bucket.0 = (bucket.0 + now.duration_since(bucket.1).as_secs_f64() * RATE).min(BURST);
        bucket.1 = now;
        if bucket.0 < 1.0 {
            return false;
        }
        bucket.0 -= 1.0;
        true
    }

    /// Queues a record of the refusal, or counts it when over the bound.
    pub fn record(&self, refusal: Refusal<'_>) {
        if !self.admit() || self.queue.try_send(record(refusal)).is_err() {
            self.suppress();
        }
    }

    /// Counts a refusal without a record of its own (it appears in the next `authFailureSuppressed`).
    pub fn suppress(&self) {
        self.suppressed.fetch_add(1, Ordering::Relaxed);
    }
}

fn record(refusal: Refusal<'_>) -> AuditRecord {
    let v = refusal.verification;
    let prefix = v
        .hash_prefix
        .map_or_else(|| "-".to_owned(), |p| p.to_string());
    AuditRecord {
        event_id: format!("auth:{}", uuid::Uuid::new_v4()),
        time: Utc::now(),
        action: "authFailure".into(),
        actor: "anonymous".into(),
        actor_roles: vec![],
        auth_method: Some("apiKey".into()),
        request_id: Some(refusal.client.request_id.clone()),
        source_ip: refusal.client.client_ip.map(|ip| ip.to_string()),
        aggregate_type: "Auth".into(),
        aggregate_id: prefix.clone(),
        sequence: 0,
        api_key_id: v.api_key_id.map(|id| id.to_string()),
        api_key_name: None,
        user_id: None,
        role_name: None,
        changed_fields: vec![],
        changes: json!({ "reason": v.code.as_str(), "keyHashPrefix": prefix, "path": crate::redact::redact(refusal.path) }),
        request: Some(RequestFacts {
            method: refusal.method.to_owned(),
            path: crate::redact::redact(refusal.path).into_owned(),
            operation: None,
            fields: serde_json::Value::Null,
        }),
    }
}

fn suppressed_record(count: u64) -> AuditRecord {
    AuditRecord {
        event_id: format!("auth:{}", uuid::Uuid::new_v4()),
        time: Utc::now(),
        action: "authFailureSuppressed".into(),
        actor: "system".into(),
        actor_roles: vec![],
        auth_method: None,
        request_id: None,
        source_ip: None,
        aggregate_type: "Auth".into(),
        aggregate_id: "-".into(),
        sequence: 0,
        api_key_id: None,
        api_key_name: None,
        user_id: None,
        role_name: None,
        changed_fields: vec![],
        changes: json!({ "suppressed": count }),
        request: None,
    }
}

async fn write_loop(
    mut receiver: mpsc::Receiver<AuditRecord>,
    sinks: Vec<Arc<dyn AuditSink>>,
    suppressed: Arc<AtomicU64>,
) {
    let mut ticker = tokio::time::interval(FLUSH);
    loop {
        ticker.tick().await;
        let mut batch = Vec::new();
        while let Ok(record) = receiver.try_recv() {
            batch.push(record);
        }
        let dropped = suppressed.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            batch.push(suppressed_record(dropped));
        }
        if batch.is_empty() {
            if receiver.is_closed() {
                return;
            }
            continue;
        }
        for sink in &sinks {
            if let Err(error) = sink.write(&batch).await {
                tracing::warn!(%error, sink = sink.name(), records = batch.len(), "authentication-failure audit records lost");
            }
        }
    }
}
