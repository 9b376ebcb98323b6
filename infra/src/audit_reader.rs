//! Reading the audit trail back: from the local JSON-lines file or from CloudWatch Logs, whose groups
//! may hold apikeyd's JSON records, VAMS-format `[AUTHCHANGES]` lines (apikeyd's or VAMS's own), or both.
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
    /// understands only plain and one quoted term, so no JSON patterns and no term lists). Each
    /// value occurs verbatim in both formats: an action is in the VAMS summary's `apikeyd.action`.
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
        .filter_map(|l| parse_message(l, 0))
        .collect();
    Ok(query.finish(records))
}

/// The sink raises a log event's timestamp to its predecessor's within one call (CloudWatch wants
/// them non-decreasing), so an event may be stamped a little after the record's own `time`: the
/// server-side window is widened by this much and the exact range applied to `time` afterwards.
const STAMP_SLACK_MS: i64 = 60_000;

/// Pages read at most, so a misbehaving endpoint that keeps answering with tokens cannot loop forever.
const MAX_PAGES: usize = 100_000;

/// One log message as a record, whichever format it is in (`None` for anything else).
pub fn parse_message(message: &str, timestamp: i64) -> Option<AuditRecord> {
    match message.trim_start().starts_with('{') {
        true => serde_json::from_str(message).ok(),
        false => projections::audit_vams::parse::parse(message, timestamp).ok(),
    }
}

/// Reads matching records from a CloudWatch Logs group: FilterLogEvents over all day streams with
/// the time range and the most selective term pushed to CloudWatch, every page followed.
pub async fn read_cloudwatch(
    client: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    query: &AuditQuery,
) -> Result<Vec<AuditRecord>, String> {
    let mut records = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = client
            .filter_log_events()
            .log_group_name(group)
            .set_filter_pattern(query.term())
            .set_start_time(query.since.map(|t| t.timestamp_millis()))
            .set_end_time(query.until.map(|t| t.timestamp_millis() + STAMP_SLACK_MS))
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| format!("CloudWatch Logs: {}", DisplayErrorContext(e)))?;
        records.extend(page.events().iter().filter_map(|event| {
            parse_message(event.message()?, event.timestamp().unwrap_or_default())
        }));
        // A page may be empty while CloudWatch is still searching: only a missing (or repeated)
        // token ends the search.
        let next = page.next_token().map(str::to_owned);
        if next.is_none() || next == token {
            break;
        }
        token = next;
    }
    Ok(query.finish(records))
}
