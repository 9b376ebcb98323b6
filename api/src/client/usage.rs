//! `api-key usage`: a key's last use, verifications per hour and most frequent client addresses
//! (`GET /auth/api-keys/{id}/usage`, apikeyd only).
use super::error::ClientResult;
use super::http::{segment, Api};
use super::output::{fields, out, print_json, table, text, when};
use serde_json::Value;

/// `lastUsedAt` for people: `Never` when empty, `-` when the server does not say (VAMS).
pub fn last_used(item: &Value) -> String {
    match item.get("lastUsedAt").and_then(Value::as_str) {
        None => "-".to_owned(),
        Some("") => "Never".to_owned(),
        Some(_) => when(item, "lastUsedAt"),
    }
}

/// Prints the usage of key `id`.
pub async fn show(api: &Api, id: &str, as_json: bool) -> ClientResult {
    let path = format!("/auth/api-keys/{}/usage", segment(id));
    let usage = api.get(&path).await?;
    if as_json {
        return print_json(&usage);
    }
    let rows = |field: &str| {
        usage
            .get(field)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let hours = rows("hours");
    let total: u64 = hours
        .iter()
        .filter_map(|h| h.get("verifications").and_then(Value::as_u64))
        .sum();
    let from = text(&usage, "lastUsedFrom");
    out(&fields(&[
        ("Key ID", text(&usage, "apiKeyId")),
        ("Last used", last_used(&usage)),
        (
            "Last used from",
            if from.is_empty() { "-".into() } else { from },
        ),
        ("Verifications (30 days)", total.to_string()),
    ]))?;
    let ips = rows("sourceIps");
    if !ips.is_empty() {
        let lines: Vec<Vec<String>> = ips
            .iter()
            .map(|ip| {
                vec![
                    text(ip, "ip"),
                    ip.get("count").map(Value::to_string).unwrap_or_default(),
                    when(ip, "lastSeen"),
                ]
            })
            .collect();
        out(&format!(
            "\n{}",
            table(&["Client IP", "Count", "Last seen"], &lines)
        ))?;
    }
    if !hours.is_empty() {
        let lines: Vec<Vec<String>> = hours
            .iter()
            .map(|h| {
                vec![
                    when(h, "hour"),
                    h.get("verifications")
                        .map(Value::to_string)
                        .unwrap_or_default(),
                ]
            })
            .collect();
        out(&format!("\n{}", table(&["Hour", "Verifications"], &lines)))?;
    }
    Ok(())
}
