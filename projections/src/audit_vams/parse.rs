//! Reading `[AUTHCHANGES]` lines back into [`AuditRecord`]s: apikeyd's (the `apikeyd` part of the
//! summary restores the record exactly) and VAMS's own, so a team's old VAMS group can be searched
//! with the same tools.
use crate::audit::{AuditRecord, RequestFacts};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

const PREFIX: &str = "[AUTHCHANGES][type: ";

/// Why a message is not a readable `[AUTHCHANGES]` line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not an `[AUTHCHANGES]` line at all (another format, another VAMS log group).
    #[error("not an [AUTHCHANGES] line")]
    NotAuthChanges,
    /// The frame is broken at the named part.
    #[error("malformed [AUTHCHANGES] line at {0}")]
    Malformed(&'static str),
}

/// Splits `[name: ` … `]` off the front of `rest`, where the value is plain text.
fn bracket<'a>(
    rest: &'a str,
    prefix: &str,
    name: &'static str,
) -> Result<(&'a str, &'a str), ParseError> {
    let rest = rest
        .strip_prefix(prefix)
        .ok_or(ParseError::Malformed(name))?;
    let end = rest.find(']').ok_or(ParseError::Malformed(name))?;
    Ok((&rest[..end], &rest[end + 1..]))
}

/// Reads one JSON value off the front of `rest`.
fn json_prefix<'a>(rest: &'a str, what: &'static str) -> Result<(Value, &'a str), ParseError> {
    let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
    let value = values
        .next()
        .and_then(Result::ok)
        .ok_or(ParseError::Malformed(what))?;
    Ok((value, &rest[values.byte_offset()..]))
}

/// The parts of a line.
struct Frame {
    kind: String,
    user: String,
    roles: Vec<String>,
    payload: Value,
    event: Value,
}

fn frame(message: &str) -> Result<Frame, ParseError> {
    let rest = message
        .strip_prefix(PREFIX)
        .ok_or(ParseError::NotAuthChanges)?;
    let end = rest.find(']').ok_or(ParseError::Malformed("type"))?;
    let (kind, rest) = (&rest[..end], &rest[end + 1..]);
    let (user, rest) = bracket(rest, " [user: ", "user")?;
    let rest = rest
        .strip_prefix(" [roles: ")
        .ok_or(ParseError::Malformed("roles"))?;
    let (roles, rest) = json_prefix(rest, "roles")?;
    let (_, rest) = bracket(rest, "] [mfaEnabled: ", "mfaEnabled")?;
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let (payload, rest) = json_prefix(rest, "payload")?;
    let event = match rest.strip_prefix(" --- [event: ") {
        Some(rest) => json_prefix(rest, "event")?.0,
        None => Value::Null,
    };
    Ok(Frame {
        kind: kind.to_owned(),
        user: user.to_owned(),
        roles: serde_json::from_value(roles).map_err(|_| ParseError::Malformed("roles"))?,
        payload,
        event,
    })
}

/// The action of a VAMS type (the inverse of [`super::vams_type`]; a replace reads as an assign).
fn action_of(kind: &str) -> &str {
    match kind {
        "userRoleCreate" | "userRoleUpdate" => "userRolesAssign",
        "userRoleDelete" => "userRolesRevoke",
        other => other,
    }
}

fn string(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

/// The aggregate a payload is about, when the summary does not say.
fn aggregate_of(payload: &Value) -> (String, String) {
    for (key, kind) in [
        ("apiKeyId", "ApiKey"),
        ("roleName", "Role"),
        ("userId", "UserRoles"),
    ] {
        if let Some(id) = payload[key].as_str() {
            return (kind.to_owned(), id.to_owned());
        }
    }
    ("Auth".to_owned(), "-".to_owned())
}

/// A stable 64-bit FNV-1a hash: the same VAMS line read twice gets the same id (de-duplication).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A record from one line. `timestamp` (the log event's, in milliseconds) stands in for the time of
/// lines VAMS wrote, and with the message's hash for their event id.
pub fn parse(message: &str, timestamp: i64) -> Result<AuditRecord, ParseError> {
    let f = frame(message)?;
    let own = &f.event["apikeyd"];
    let context = &f.event["requestContext"];
    let http = &context["http"];
    let (aggregate_type, aggregate_id) =
        match (string(&own["aggregateType"]), string(&own["aggregateId"])) {
            (Some(t), Some(id)) => (t, id),
            _ => aggregate_of(&f.payload),
        };
    let time = string(&own["time"])
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| DateTime::<Utc>::from_timestamp_millis(timestamp))
        .ok_or(ParseError::Malformed("time"))?;
    let event_id = string(&own["eventId"])
        .unwrap_or_else(|| format!("vams:{timestamp}:{:016x}", fnv1a(message)));
    let request = match (string(&http["method"]), string(&http["path"])) {
        (Some(method), Some(path)) => Some(RequestFacts {
            method,
            path,
            operation: Some(f.kind.clone()),
            fields: Value::Null,
        }),
        _ => None,
    };
    Ok(AuditRecord {
        event_id,
        time,
        action: string(&own["action"]).unwrap_or_else(|| action_of(&f.kind).to_owned()),
        actor: f.user,
        actor_roles: f.roles,
        auth_method: Some("apiKey".to_owned()).filter(|_| request.is_some()),
        request_id: string(&context["requestId"]),
        source_ip: string(&http["sourceIp"]),
        aggregate_type,
        aggregate_id,
        sequence: own["sequence"].as_u64().unwrap_or(0),
        api_key_id: string(&f.payload["apiKeyId"]),
        api_key_name: string(&f.payload["apiKeyName"]),
        user_id: string(&f.payload["userId"]),
        role_name: string(&f.payload["roleName"]),
        changed_fields: f.payload["updatedFields"]
            .as_array()
            .map(|names| {
                names
                    .iter()
                    .filter_map(string)
                    .filter(|n| n != "updatedAt")
                    .collect()
            })
            .unwrap_or_default(),
        changes: match f.payload {
            Value::Object(_) => f.payload,
            other => json!({ "payload": other }),
        },
        request,
    })
}
