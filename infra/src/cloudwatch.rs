//! The audit stream in CloudWatch Logs: one stream per UTC day (`YYYY/MM/DD`, as VAMS does), batched
//! PutLogEvents, groups and streams created on demand (so an emptied or new log group heals itself).
use crate::dynamo::Lease;
use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use aws_sdk_cloudwatchlogs::error::DisplayErrorContext;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_cloudwatchlogs::Client;
use projections::audit::AuditRecord;
use projections::{AuditSink, StoreError};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// PutLogEvents takes at most 10 000 events or 1 MiB; stay well inside both.
const MAX_BATCH: usize = 500;

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("CloudWatch Logs: {e}"))
}

/// Connects a CloudWatch Logs client through the standard AWS chain (`AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`).
pub async fn client() -> Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(10))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .load()
        .await;
    Client::new(&config)
}

/// The stream a record belongs to.
pub fn stream_of(record: &AuditRecord) -> String {
    record.time.format("%Y/%m/%d").to_string()
}

/// Delivers audit records to a log group.
pub struct CloudWatchAudit {
    client: Client,
    group: String,
    lease: Option<Arc<Lease>>,
}

impl CloudWatchAudit {
    /// A sink for `group`; with a lease, only its holder delivers (several nodes, one stream).
    pub fn new(client: Client, group: &str, lease: Option<Arc<Lease>>) -> Self {
        Self {
            client,
            group: group.to_owned(),
            lease,
        }
    }

    /// Creates the log group if missing (`apikeyd aws init`).
    pub async fn ensure_group(&self) -> Result<bool, StoreError> {
        match self
            .client
            .create_log_group()
            .log_group_name(&self.group)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_already_exists_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(unavailable(DisplayErrorContext(e))),
        }
    }

    async fn ensure_stream(&self, stream: &str) -> Result<(), StoreError> {
        let create = || {
            self.client
                .create_log_stream()
                .log_group_name(&self.group)
                .log_stream_name(stream)
                .send()
        };
        match create().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_already_exists_exception()) =>
            {
                Ok(())
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                self.ensure_group().await?;
                match create().await {
                    Ok(_) => Ok(()),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_resource_already_exists_exception()) =>
                    {
                        Ok(())
                    }
                    Err(e) => Err(unavailable(DisplayErrorContext(e))),
                }
            }
            Err(e) => Err(unavailable(DisplayErrorContext(e))),
        }
    }

    async fn put(&self, stream: &str, events: Vec<InputLogEvent>) -> Result<(), StoreError> {
        let result = self
            .client
            .put_log_events()
            .log_group_name(&self.group)
            .log_stream_name(stream)
            .set_log_events(Some(events.clone()))
            .send()
            .await;
        match result {
            Ok(out) => match out.rejected_log_events_info() {
                Some(rejected) => Err(unavailable(format!("events rejected: {rejected:?}"))),
                None => Ok(()),
            },
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                self.ensure_stream(stream).await?;
                self.client
                    .put_log_events()
                    .log_group_name(&self.group)
                    .log_stream_name(stream)
                    .set_log_events(Some(events))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| unavailable(DisplayErrorContext(e)))
            }
            Err(e) => Err(unavailable(DisplayErrorContext(e))),
        }
    }
}

#[async_trait]
impl AuditSink for CloudWatchAudit {
    fn name(&self) -> &str {
        "audit-cloudwatch"
    }

    fn inline(&self) -> bool {
        false
    }

    fn shared(&self) -> bool {
        self.lease.is_some()
    }

    async fn may_deliver(&self) -> bool {
        match &self.lease {
            Some(lease) => lease.hold().await,
            None => true,
        }
    }

    /// Records are grouped by day stream in log order; CloudWatch wants non-decreasing timestamps
    /// within a call, so a timestamp earlier than its predecessor's is raised to it (the record's own
    /// `time` field keeps the exact instant).
    async fn write(&self, records: &[AuditRecord]) -> Result<(), StoreError> {
        let mut streams: BTreeMap<String, Vec<InputLogEvent>> = BTreeMap::new();
        let mut last = i64::MIN;
        for record in records {
            let message =
                serde_json::to_string(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            last = last.max(record.time.timestamp_millis());
            let event = InputLogEvent::builder()
                .timestamp(last)
                .message(message)
                .build()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            streams.entry(stream_of(record)).or_default().push(event);
        }
        for (stream, events) in streams {
            for chunk in events.chunks(MAX_BATCH) {
                self.put(&stream, chunk.to_vec()).await?;
            }
        }
        Ok(())
    }
}
