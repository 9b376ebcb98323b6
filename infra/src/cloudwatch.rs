//! The audit stream in CloudWatch Logs: one stream per UTC day (`YYYY/MM/DD`, as VAMS does), batched
//! PutLogEvents, groups and streams created on demand (so an emptied or new log group heals itself).
//! Each group is written in one [`AuditFormat`]: apikeyd's JSON records, or VAMS's `[AUTHCHANGES]`
//! lines ([`projections::audit_vams`]); two sinks with their own checkpoints can write both at once.
use crate::dynamo::Lease;
use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_cloudwatchlogs::Client;
use projections::audit::AuditRecord;
use projections::{AuditSink, StoreError};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// PutLogEvents takes at most 10 000 events or 1 MiB; stay well inside both.
const MAX_BATCH: usize = 500;

/// Why the CloudWatch Logs sink failed.
#[derive(Debug, thiserror::Error)]
pub enum CloudWatchError {
    /// A request failed (network, throttling, permissions, a missing group).
    #[error("CloudWatch Logs request")]
    Request(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The service took the request but rejected some of its events.
    #[error("CloudWatch Logs rejected events: {0}")]
    Rejected(String),
    /// A record that cannot be encoded as a log event.
    #[error("encoding an audit record for CloudWatch Logs")]
    Encode(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<CloudWatchError> for StoreError {
    fn from(error: CloudWatchError) -> Self {
        match error {
            CloudWatchError::Encode(_) => Self::corrupt(error),
            CloudWatchError::Request(_) | CloudWatchError::Rejected(_) => Self::unavailable(error),
        }
    }
}

fn unavailable(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
    CloudWatchError::Request(e.into()).into()
}

fn encode_error(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
    CloudWatchError::Encode(e.into()).into()
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

/// Creates `group` if missing (`apikeyd aws init`, and a sink whose group was deleted); true when
/// it created it.
pub async fn ensure_group(client: &Client, group: &str) -> Result<bool, StoreError> {
    match client.create_log_group().log_group_name(group).send().await {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_already_exists_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(unavailable(e)),
    }
}

/// How many requests' keys a VAMS-format sink remembers to write a multi-event request once.
const RECENT_REQUESTS: usize = 1024;

/// What a log group's lines look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditFormat {
    /// One apikeyd JSON record per line.
    Json,
    /// VAMS 2.5.1's `[AUTHCHANGES]` lines.
    Vams,
}

/// One batch's log messages, and the VAMS request keys they complete.
struct Lines<'a> {
    lines: Vec<(&'a AuditRecord, String)>,
    requests: Vec<String>,
}

/// Delivers audit records to a log group.
pub struct CloudWatchAudit {
    client: Client,
    group: String,
    lease: Option<Arc<Lease>>,
    format: AuditFormat,
    name: String,
    /// Requests already written as one VAMS line although they caused several events.
    written_requests: Mutex<VecDeque<String>>,
}

impl CloudWatchAudit {
    /// A sink for `group` in `format` whose checkpoint (and lease) is called `name`; with a lease,
    /// only its holder delivers (several nodes, one stream).
    pub fn new(
        client: Client,
        group: &str,
        format: AuditFormat,
        name: &str,
        lease: Option<Arc<Lease>>,
    ) -> Self {
        Self {
            client,
            group: group.to_owned(),
            lease,
            format,
            name: name.to_owned(),
            written_requests: Mutex::new(VecDeque::new()),
        }
    }

    /// The lines of `records` in this sink's format, with the request keys they write (VAMS writes
    /// one line per request; a record of a request already written is left out).
    fn lines<'a>(&self, records: &'a [AuditRecord]) -> Result<Lines<'a>, StoreError> {
        if self.format == AuditFormat::Json {
            let lines = records
                .iter()
                .map(|r| serde_json::to_string(r).map(|line| (r, line)))
                .collect::<Result<_, _>>()
                .map_err(encode_error)?;
            return Ok(Lines {
                lines,
                requests: Vec::new(),
            });
        }
        let written = self
            .written_requests
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let mut batch: HashSet<String> = HashSet::new();
        let mut lines = Vec::new();
        for record in records {
            if let Some(key) = projections::audit_vams::request_key(record) {
                if written.contains(&key) || !batch.insert(key) {
                    continue;
                }
            }
            if let Some(line) = projections::audit_vams::line(record) {
                lines.push((record, line));
            }
        }
        Ok(Lines {
            lines,
            requests: batch.into_iter().collect(),
        })
    }

    /// Remembers requests written (after the write succeeded: a failed one is repeated whole).
    fn remember(&self, keys: Vec<String>) {
        let mut written = self
            .written_requests
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        written.extend(keys);
        while written.len() > RECENT_REQUESTS {
            written.pop_front();
        }
    }

    async fn ensure_group(&self) -> Result<bool, StoreError> {
        ensure_group(&self.client, &self.group).await
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
                    Err(e) => Err(unavailable(e)),
                }
            }
            Err(e) => Err(unavailable(e)),
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
                Some(rejected) => Err(CloudWatchError::Rejected(format!("{rejected:?}")).into()),
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
                    .map_err(unavailable)
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}

#[async_trait]
impl AuditSink for CloudWatchAudit {
    fn name(&self) -> &str {
        &self.name
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
        let Lines { lines, requests } = self.lines(records)?;
        let mut streams: BTreeMap<String, Vec<InputLogEvent>> = BTreeMap::new();
        let mut last = i64::MIN;
        for (record, message) in lines {
            last = last.max(record.time.timestamp_millis());
            let event = InputLogEvent::builder()
                .timestamp(last)
                .message(message)
                .build()
                .map_err(encode_error)?;
            streams.entry(stream_of(record)).or_default().push(event);
        }
        for (stream, events) in streams {
            for chunk in events.chunks(MAX_BATCH) {
                self.put(&stream, chunk.to_vec()).await?;
            }
        }
        self.remember(requests);
        Ok(())
    }
}
