//! Reading what reached a CloudWatch Logs group, independently of apikeyd's own reader: every day
//! stream in name order, each read from its head with GetLogEvents.
use aws_config::BehaviorVersion;
use aws_sdk_cloudwatchlogs::Client;
use serde_json::Value;
use std::time::Duration;

/// One delivered log event.
#[derive(Debug, Clone)]
pub struct Line {
    /// The stream it is in (`YYYY/MM/DD`).
    pub stream: String,
    /// The message exactly as stored.
    pub message: String,
    /// The message parsed (`Null` when it is not JSON); for an `[AUTHCHANGES]` line, the `apikeyd`
    /// part of its summary (`eventId`, `action`, `aggregateType`, …).
    pub record: Value,
}

impl Line {
    /// `eventId`.
    pub fn event_id(&self) -> &str {
        self.record["eventId"].as_str().unwrap_or_default()
    }

    /// `action`.
    pub fn action(&self) -> &str {
        self.record["action"].as_str().unwrap_or_default()
    }

    /// True for records of events (the state changes), false for refused authentications, which
    /// are best-effort records outside the event log.
    pub fn is_event(&self) -> bool {
        self.record["aggregateType"] != "Auth"
    }
}

/// A CloudWatch Logs client for `endpoint` with the exported dummy credentials and region.
pub async fn client(endpoint: &str) -> Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(10))
                .build(),
        )
        .load()
        .await;
    Client::new(&config)
}

/// Every event of `group`, streams in name order (days in order), each stream oldest first; empty
/// when the group does not exist (yet).
pub async fn read_group(client: &Client, group: &str) -> Result<Vec<Line>, String> {
    let mut lines = Vec::new();
    for stream in streams(client, group).await? {
        let mut token: Option<String> = None;
        loop {
            let page = client
                .get_log_events()
                .log_group_name(group)
                .log_stream_name(&stream)
                .start_from_head(true)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| format!("GetLogEvents {group}/{stream}: {e:?}"))?;
            let events = page.events();
            for event in events {
                let message = event.message().unwrap_or_default().to_owned();
                lines.push(Line {
                    stream: stream.clone(),
                    record: record_of(&message),
                    message,
                });
            }
            let next = page.next_forward_token().map(str::to_owned);
            if events.is_empty() || next.is_none() || next == token {
                break;
            }
            token = next;
        }
    }
    Ok(lines)
}

/// A JSON record as it is; a VAMS-format line's `apikeyd` summary (after ` --- [event: `).
fn record_of(message: &str) -> Value {
    let summary = message
        .split_once(" --- [event: ")
        .and_then(|(_, rest)| rest.strip_suffix(']'));
    match summary {
        Some(summary) => {
            serde_json::from_str::<Value>(summary).map_or(Value::Null, |s| s["apikeyd"].clone())
        }
        None => serde_json::from_str(message).unwrap_or(Value::Null),
    }
}

/// The stream names of `group`, sorted; empty when the group does not exist.
async fn streams(client: &Client, group: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = match client
            .describe_log_streams()
            .log_group_name(group)
            .set_next_token(token.clone())
            .send()
            .await
        {
            Ok(page) => page,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Ok(Vec::new())
            }
            Err(e) => return Err(format!("DescribeLogStreams {group}: {e:?}")),
        };
        names.extend(
            page.log_streams()
                .iter()
                .filter_map(|s| s.log_stream_name().map(str::to_owned)),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    names.sort();
    Ok(names)
}

/// The event records of `group` (refused authentications left out), in delivery order.
pub async fn event_lines(client: &Client, group: &str) -> Result<Vec<Line>, String> {
    Ok(read_group(client, group)
        .await?
        .into_iter()
        .filter(Line::is_event)
        .collect())
}

/// The `eventId` of each line, in order.
pub fn ids(lines: &[Line]) -> Vec<String> {
    lines.iter().map(|l| l.event_id().to_owned()).collect()
}

/// Asserts no event id occurs twice; `what` names the case.
#[track_caller]
pub fn assert_no_duplicates(lines: &[Line], what: &str) {
    let mut seen = std::collections::BTreeMap::new();
    for line in lines {
        *seen.entry(line.event_id()).or_insert(0) += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{what}: event ids delivered more than once: {twice:?}"
    );
}

/// How long a complete delivery is watched for late duplicates: several feed polls and lease checks.
const SETTLE: Duration = Duration::from_secs(2);

/// Waits (bounded) until `group` holds at least `expected` event records, then watches it for
/// [`SETTLE`] to make sure no more arrive; returns them.
pub async fn settled(client: &Client, group: &str, expected: usize) -> Vec<Line> {
    let (_, took) = crate::env::eventually(
        &format!("{expected} event records in {group}"),
        Duration::from_secs(60),
        Duration::from_millis(250),
        || async {
            let lines = event_lines(client, group).await?;
            if lines.len() >= expected {
                Ok(())
            } else {
                Err(format!("{} so far: {:?}", lines.len(), ids(&lines)))
            }
        },
    )
    .await;
    eprintln!("{group}: {expected} event records delivered within {took:?}");
    let watch_until = std::time::Instant::now() + SETTLE;
    loop {
        let lines = event_lines(client, group).await.expect("read the group");
        assert!(
            lines.len() == expected,
            "{group}: {} event records, expected {expected}: {:#?}",
            lines.len(),
            lines.iter().map(|l| &l.message).collect::<Vec<_>>()
        );
        if std::time::Instant::now() >= watch_until {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
