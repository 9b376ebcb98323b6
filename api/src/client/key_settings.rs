//! The least-privilege settings of a key on the command line (`--roles`, `--rate-limit`,
//! `--allowed-cidrs`, `--meta`) and how `api-key get` shows them. apikeyd only: VAMS keys carry none.
//!
//! Each flag is given as text and becomes one wire field. On create an empty value leaves the
//! setting unset; on update an empty value (`--roles ""`) sends `null`, which clears it, as
//! `--expires-at ""` removes an expiry. The server checks every value again: these parsers only
//! turn typing mistakes into a usage error (exit 2) before a request is sent.
use super::error::{ClientError, ClientResult};
use super::output::text;
use super::time::duration_seconds;
use clap::Args;
use serde_json::{json, Map, Value};

/// Largest `meta` object the server stores, in bytes of compact JSON.
const META_LIMIT_BYTES: usize = 4096;

/// The four settings, shared by `api-key create` and `api-key update`.
#[derive(Debug, Args, Default)]
pub struct KeySettingsArgs {
    /// Roles the key may use, comma-separated (a subset of its user's roles); the key acts with
    /// those the user still holds. Without it the key has all of the user's roles; on update, ""
    /// goes back to that.
    #[arg(long, value_name = "ROLE,...")]
    pub roles: Option<String>,
    /// Requests the key may make per period: N/PERIOD with PERIOD in seconds or with s, m, h or d
    /// (100/60s, 5000/1h, 10/s). On update, "" removes the limit.
    #[arg(long, value_name = "N/PERIOD")]
    pub rate_limit: Option<String>,
    /// Client networks the key works from, comma-separated IPv4/IPv6 addresses or CIDRs
    /// (10.0.0.0/8,2001:db8::/32). On update, "" allows every address again.
    #[arg(long, value_name = "CIDR,...")]
    pub allowed_cidrs: Option<String>,
    /// A JSON object (at most 4 KB) stored with the key and returned by /auth/verify: labels for
    /// gateways, not secret data. On update, "" removes it.
    #[arg(long, value_name = "JSON")]
    pub meta: Option<String>,
}

impl KeySettingsArgs {
    /// Adds the given settings to a request body. An empty value becomes `null` when `clearing`
    /// (update) and is left out otherwise (create).
    pub fn add_to(&self, body: &mut Map<String, Value>, clearing: bool) -> ClientResult {
        let settings: [(&str, &Option<String>, Parser); 4] = [
            ("roles", &self.roles, roles),
            ("rateLimit", &self.rate_limit, rate_limit),
            ("allowedCidrs", &self.allowed_cidrs, allowed_cidrs),
            ("meta", &self.meta, meta),
        ];
        for (field, raw, parse) in settings {
            let Some(raw) = raw else { continue };
            if raw.trim().is_empty() {
                if clearing {
                    body.insert(field.into(), Value::Null);
                }
                continue;
            }
            body.insert(field.into(), parse(raw.trim())?);
        }
        Ok(())
    }
}

type Parser = fn(&str) -> ClientResult<Value>;

/// A comma-separated list without empty entries. A value of commas alone would send `[]`, which
/// the server refuses (null, not an empty list, means "no restriction"), so it is a usage error here.
fn list(flag: &str, raw: &str) -> ClientResult<Value> {
    let entries: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if entries.is_empty() {
        return Err(ClientError::Usage(format!(
            "invalid --{flag} '{raw}': give one or more values separated by commas"
        )));
    }
    Ok(json!(entries))
}

fn roles(raw: &str) -> ClientResult<Value> {
    list("roles", raw)
}

fn allowed_cidrs(raw: &str) -> ClientResult<Value> {
    list("allowed-cidrs", raw)
}

/// `N/PERIOD`: `100/60s`, `100/60`, `5000/1h`, `10/s` (a bare unit is one of it).
fn rate_limit(raw: &str) -> ClientResult<Value> {
    let usage = || {
        ClientError::Usage(format!(
            "invalid --rate-limit '{raw}': use N/PERIOD with PERIOD in seconds or with s, m, h or d (100/60s)"
        ))
    };
    let (count, period) = raw.split_once('/').ok_or_else(usage)?;
    let limit = count.trim().parse::<u64>().map_err(|_| usage())?;
    let period = period.trim();
    // A bare unit is one of it: `10/s`, `1000/h`.
    let period = if period.starts_with(|c: char| c.is_ascii_alphabetic()) {
        format!("1{period}")
    } else {
        period.to_owned()
    };
    let seconds = duration_seconds(&period).ok_or_else(usage)?;
    Ok(json!({ "limit": limit, "periodSeconds": seconds }))
}

fn meta(raw: &str) -> ClientResult<Value> {
    let value: Value = serde_json::from_str(raw).map_err(|e| {
        ClientError::Usage(format!(
            "invalid --meta: not JSON ({e}); give an object such as '{{\"team\":\"ci\"}}'"
        ))
    })?;
    if !value.is_object() {
        return Err(ClientError::Usage(
            "invalid --meta: give a JSON object such as '{\"team\":\"ci\"}'".into(),
        ));
    }
    if value.to_string().len() > META_LIMIT_BYTES {
        return Err(ClientError::Usage(format!(
            "invalid --meta: at most {META_LIMIT_BYTES} bytes of JSON"
        )));
    }
    Ok(value)
}

/// The settings a key has, as labelled lines for `api-key get|create|update` (only those set).
pub fn shown(item: &Value) -> Vec<(&'static str, String)> {
    let mut lines = Vec::new();
    if let Some(roles) = item.get("roles").and_then(Value::as_array) {
        lines.push(("Roles (scope)", joined(roles)));
    }
    if let Some(limit) = item.get("rateLimit").filter(|v| v.is_object()) {
        lines.push(("Rate limit", rate(limit)));
    }
    if let Some(cidrs) = item.get("allowedCidrs").and_then(Value::as_array) {
        lines.push(("Allowed networks", joined(cidrs)));
    }
    if let Some(meta) = item.get("meta").filter(|v| v.is_object()) {
        lines.push(("Meta", meta.to_string()));
    }
    lines
}

/// A one-word summary of the settings for the `api-key list` table: which of them are set.
pub fn summary(item: &Value) -> String {
    let marks: Vec<&str> = [
        ("roles", "scope"),
        ("rateLimit", "limit"),
        ("allowedCidrs", "networks"),
        ("meta", "meta"),
    ]
    .iter()
    .filter(|(field, _)| item.get(*field).is_some_and(|v| !v.is_null()))
    .map(|(_, mark)| *mark)
    .collect();
    if marks.is_empty() {
        "-".to_owned()
    } else {
        marks.join(",")
    }
}

fn joined(values: &[Value]) -> String {
    values
        .iter()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `100 per 60s`, `5000 per 1h`: the period in the largest unit that divides it.
fn rate(limit: &Value) -> String {
    let count = text(limit, "limit");
    let Some(seconds) = limit.get("periodSeconds").and_then(Value::as_u64) else {
        return format!("{count} per {}", text(limit, "periodSeconds"));
    };
    let period = [(86_400, "d"), (3600, "h"), (60, "m")]
        .iter()
        .find(|(unit, _)| seconds % unit == 0)
        .map_or_else(
            || format!("{seconds}s"),
            |(unit, name)| format!("{}{name}", seconds / unit),
        );
    format!("{count} per {period}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(args: KeySettingsArgs, clearing: bool) -> ClientResult<Value> {
        let mut body = Map::new();
        args.add_to(&mut body, clearing)?;
        Ok(Value::Object(body))
    }

    #[test]
    fn every_flag_becomes_its_wire_field() {
        let args = KeySettingsArgs {
            roles: Some("deploy, read ,".into()),
            rate_limit: Some("100/60s".into()),
            allowed_cidrs: Some("10.0.0.0/8,2001:db8::/32".into()),
            meta: Some(r#"{"team":"ci"}"#.into()),
        };
        assert_eq!(
            body(args, false).unwrap(),
            json!({
                "roles": ["deploy", "read"],
                "rateLimit": {"limit": 100, "periodSeconds": 60},
                "allowedCidrs": ["10.0.0.0/8", "2001:db8::/32"],
                "meta": {"team": "ci"},
            })
        );
    }

    #[test]
    fn an_empty_value_clears_on_update_and_is_left_out_on_create() {
        let args = || KeySettingsArgs {
            roles: Some(String::new()),
            rate_limit: Some(" ".into()),
            allowed_cidrs: None,
            meta: Some(String::new()),
        };
        assert_eq!(
            body(args(), true).unwrap(),
            json!({"roles": null, "rateLimit": null, "meta": null})
        );
        assert_eq!(body(args(), false).unwrap(), json!({}));
    }

    #[test]
    fn rate_limits_read_every_period_form() {
        for (raw, limit, seconds) in [
            ("100/60s", 100, 60),
            ("100/60", 100, 60),
            ("5000/1h", 5000, 3600),
            ("10/s", 10, 1),
            ("7/m", 7, 60),
            ("1/1d", 1, 86_400),
        ] {
            assert_eq!(
                rate_limit(raw).unwrap(),
                json!({"limit": limit, "periodSeconds": seconds}),
                "{raw}"
            );
        }
        for raw in [
            "100",
            "x/60s",
            "100/60w",
            "/60",
            "100/-1",
            "100/99999999999999999999d",
        ] {
            assert!(
                matches!(rate_limit(raw), Err(ClientError::Usage(_))),
                "{raw}"
            );
        }
    }

    #[test]
    fn a_list_of_commas_alone_is_a_usage_error() {
        for raw in [",", " , ,"] {
            let error = roles(raw).unwrap_err().to_string();
            assert!(error.contains("--roles"), "{error}");
            let error = allowed_cidrs(raw).unwrap_err().to_string();
            assert!(error.contains("--allowed-cidrs"), "{error}");
        }
    }

    #[test]
    fn meta_must_be_a_small_json_object() {
        assert!(matches!(meta("[1]"), Err(ClientError::Usage(_))));
        assert!(matches!(meta("{not json"), Err(ClientError::Usage(_))));
        let big = format!(r#"{{"a":"{}"}}"#, "x".repeat(META_LIMIT_BYTES));
        assert!(matches!(meta(&big), Err(ClientError::Usage(_))));
        assert_eq!(meta(r#"{"a":1}"#).unwrap(), json!({"a": 1}));
    }

    #[test]
    fn settings_are_shown_only_when_set() {
        let item = json!({
            "roles": ["deploy"],
            "rateLimit": {"limit": 100, "periodSeconds": 3600},
            "allowedCidrs": ["10.0.0.0/8"],
            "meta": {"team": "ci"},
        });
        assert_eq!(
            shown(&item),
            vec![
                ("Roles (scope)", "deploy".to_owned()),
                ("Rate limit", "100 per 1h".to_owned()),
                ("Allowed networks", "10.0.0.0/8".to_owned()),
                ("Meta", r#"{"team":"ci"}"#.to_owned()),
            ]
        );
        assert_eq!(summary(&item), "scope,limit,networks,meta");
        assert!(shown(&json!({"apiKeyName": "vams-style"})).is_empty());
        assert_eq!(summary(&json!({})), "-");
        assert_eq!(rate(&json!({"limit": 5, "periodSeconds": 90})), "5 per 90s");
    }
}
