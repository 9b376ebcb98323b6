//! Reading the audit trail back: from the local JSON-lines file or from CloudWatch Logs.
use aws_sdk_cloudwatchlogs::error::DisplayErrorContext;
use chrono::{DateTime, Utc};
use projections::audit::AuditRecord;
use std::path::Path;

/// Which records to return. Every set field must match exactly.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    pub api_key_id: Option<String>,
    pub user_id: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Keep only the last `limit` matches (oldest first).
    pub limit: Option<usize>,
}

impl AuditQuery {
    /// Whether `record` passes every filter.
    pub fn matches(&self, record: &AuditRecord) -> bool {
        let eq = |want: &Option<String>, have: &Option<String>| {
            want.as_ref().is_none_or(|w| have.as_ref() == Some(w))
        };
        eq(&self.api_key_id, &record.api_key_id)
            && eq(&self.user_id, &record.user_id)
            && self.actor.as_ref().is_none_or(|a| *a == record.actor)
            && self.action.as_ref().is_none_or(|a| *a == record.action)
            && self.since.is_none_or(|s| record.time >= s)
            && self.until.is_none_or(|u| record.time <= u)
    }

    /// The most selective plain term for a server-side filter (CloudWatch filter patterns; moto
    /// understands only plain and quoted terms, so no JSON patterns).
    fn term(&self) -> Option<String> {
        [&self.api_key_id, &self.user_id, &self.actor, &self.action]
            .into_iter()
            .flatten()
            .next()
            .map(|t| format!("\"{}\"", t.replace('"', "")))
    }

    fn finish(&self, mut records: Vec<AuditRecord>) -> Vec<AuditRecord> {
        records.retain(|r| self.matches(r));
        records.sort_by_key(|r| r.time);
        // At-least-once delivery may repeat a record; readers de-duplicate by event id.
        let mut seen = std::collections::HashSet::new();
        records.retain(|r| seen.insert(r.event_id.clone()));
        if let Some(limit) = self.limit {
            let skip = records.len().saturating_sub(limit);
            records.drain(..skip);
        }
        records
    }
}

/// Reads matching records from a JSON-lines audit file (a missing file has none).
pub async fn read_file(path: &Path, query: &AuditQuery) -> Result<Vec<AuditRecord>, String> {
    let text = match tokio::fs::read_to_string(path).await {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let records = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str::<AuditRecord>(l).ok())
        .collect();
    Ok(query.finish(records))
}

/// Reads matching records from a CloudWatch Logs group (FilterLogEvents over all day streams).
pub async fn read_cloudwatch(
    client: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    query: &AuditQuery,
) -> Result<Vec<AuditRecord>, String> {
    let mut records = Vec::new();
    let mut token = None;
    loop {
        let mut request = client
            .filter_log_events()
            .log_group_name(group)
            .set_filter_pattern(query.term())
            .set_next_token(token);
        if let Some(since) = query.since {
            request = request.start_time(since.timestamp_millis());
        }
        if let Some(until) = query.until {
            request = request.end_time(until.timestamp_millis() + 1);
        }
        let page = request
            .send()
            .await
            .map_err(|e| format!("CloudWatch Logs: {}", DisplayErrorContext(e)))?;
        for event in page.events() {
            if let Some(record) = event.message().and_then(|m| serde_json::from_str(m).ok()) {
                records.push(record);
            }
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() || page.events().is_empty() {
            break;
        }
    }
    Ok(query.finish(records))
}
