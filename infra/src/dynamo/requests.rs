//! DynamoDB requests this process sent, by operation (`X-Amz-Target`), counted by an SDK
//! interceptor on every client the store builds: how a test or a benchmark shows that a hot
//! verification sends none and a cold one sends one `GetItem`, and what an operator reads on
//! `/metrics` (`apikeyd_dynamodb_requests`).
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use std::sync::atomic::{AtomicU64, Ordering};

/// The operations counted by name; any other one counts as `other`.
pub const OPERATIONS: [&str; 12] = [
    "GetItem",
    "BatchGetItem",
    "Query",
    "Scan",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
    "DescribeTable",
    "other",
];

static SENT: [AtomicU64; OPERATIONS.len()] = [const { AtomicU64::new(0) }; OPERATIONS.len()];

/// Requests sent so far, per operation of [`OPERATIONS`] (retries count again: each is a request).
pub fn sent() -> Vec<(&'static str, u64)> {
    OPERATIONS
        .iter()
        .zip(&SENT)
        .map(|(op, n)| (*op, n.load(Ordering::Relaxed)))
        .collect()
}

/// Counts each request just before it is transmitted.
#[derive(Debug)]
pub(super) struct CountRequests;

impl Intercept for CountRequests {
    fn name(&self) -> &'static str {
        "CountRequests"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context.request().headers().get("x-amz-target");
        let operation = target.and_then(|t| t.rsplit_once('.')).map(|(_, op)| op);
        let slot = OPERATIONS
            .iter()
            .position(|op| Some(*op) == operation)
            .unwrap_or(OPERATIONS.len() - 1);
        SENT[slot].fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
