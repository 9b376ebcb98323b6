//! Audit records as the lines VAMS 2.5.1 writes to its `VAMSAuditAuthChanges` log group
//! (`customLogging/auditLogging.py`: `log_auth_changes`, `_format_log_message`), so the metric
//! filters, queries and dashboards a team built on VAMS keep working:
//!
//! `[AUTHCHANGES][type: apiKeyCreate] [user: admin] [roles: ["admin"]] [mfaEnabled: False] {"apiKeyId": …} --- [event: {…}]`
//!
//! The payload of each VAMS type has VAMS's keys in VAMS's order, printed as Python's `json.dumps`
//! prints ([`pyjson`]). Where VAMS appends the masked API Gateway event, apikeyd appends a request
//! summary in the same envelope: `requestContext.requestId` and `requestContext.http.{method, path,
//! sourceIp}` as API Gateway names them, plus `apikeyd.{eventId, action, time, …}` so a reader can
//! take the record back ([`parse`]). It never holds a header or a body, so never a key.
//!
//! Kinds VAMS does not have (`authFailure`, and any later action such as `apiKeyRotate` or
//! `apiKeyExposed`) use the same frame with the action as their type and a generic payload: the
//! subject's ids, then the record's `changes`. A new action needs no code here to be delivered.
//!
//! # Layout
//! - this file: which records become lines, and each VAMS type's payload.
//! - [`pyjson`]: Python-compatible JSON printing.
//! - [`parse`]: a line (VAMS's own or apikeyd's) back into an [`AuditRecord`].
pub mod parse;
pub mod pyjson;

use crate::audit::AuditRecord;
use pyjson::Py;
use serde_json::Value;

/// The secondary type of VAMS's `[AUTHCHANGES]` lines for a record's action.
pub fn vams_type(action: &str) -> &str {
    match action {
        "userRolesAssign" => "userRoleCreate",
        "userRolesRevoke" => "userRoleDelete",
        other => other,
    }
}

/// Whether an action of one event is the one VAMS writes a line for under the request's
/// `operation`. One request can cause several events; VAMS writes one line per request, so the
/// others (a role delete's revocations from its holders) are left out.
fn writes_line(operation: &str, action: &str) -> bool {
    match operation {
        "userRoleCreate" => action == "userRolesAssign",
        "userRoleUpdate" => matches!(action, "userRolesAssign" | "userRolesRevoke"),
        "userRoleDelete" => action == "userRolesRevoke",
        other => other == action,
    }
}

/// The VAMS type of the line `record` becomes, or `None` when VAMS would write no line for it.
pub fn line_type(record: &AuditRecord) -> Option<&str> {
    match record.request.as_ref().and_then(|r| r.operation.as_deref()) {
        Some(operation) => writes_line(operation, &record.action).then_some(operation),
        None => Some(vams_type(&record.action)),
    }
}

/// The key under which the lines of one request are written once: a user-roles replace is one
/// VAMS line but may be two events (roles added, roles taken away).
pub fn request_key(record: &AuditRecord) -> Option<String> {
    let request = record.request.as_ref()?;
    (request.operation.as_deref() == Some("userRoleUpdate")).then(|| {
        format!(
            "{}|{}",
            record.request_id.as_deref().unwrap_or(&record.event_id),
            record.aggregate_id
        )
    })
}

/// The whole line for `record`, or `None` when VAMS would write none for it.
pub fn line(record: &AuditRecord) -> Option<String> {
    let kind = line_type(record)?;
    let roles = Py::strings(&record.actor_roles).dumps();
    // API keys carry no MFA claim: VAMS writes `False` for them (Python's str(bool)).
    Some(format!(
        "[AUTHCHANGES][type: {kind}] [user: {}] [roles: {roles}] [mfaEnabled: False] {} --- [event: {}]",
        record.actor,
        payload(kind, record).dumps(),
        summary(record).dumps()
    ))
}

fn field<'a>(record: &'a AuditRecord, name: &str) -> Option<&'a Value> {
    record
        .request
        .as_ref()
        .and_then(|r| r.fields.get(name))
        .filter(|v| !v.is_null())
}

fn text(value: Option<&Value>) -> Py {
    Py::str(value.and_then(Value::as_str).unwrap_or_default())
}

fn opt(value: &Option<String>) -> Py {
    Py::str(value.clone().unwrap_or_default())
}

/// VAMS's payload for `kind`, keys in the order its handlers write them.
fn payload(kind: &str, r: &AuditRecord) -> Py {
    let op = |o: &str| ("operation", Py::str(o));
    match kind {
        "apiKeyCreate" => Py::object([
            ("apiKeyId", opt(&r.api_key_id)),
            ("apiKeyName", opt(&r.api_key_name)),
            ("userId", opt(&r.user_id)),
            (
                "expiresAt",
                text(field(r, "expiresAt").or(r.changes.get("expiresAt"))),
            ),
            op("create"),
        ]),
        // VAMS lists the fields it wrote: `updatedAt` first, then each field sent.
        "apiKeyUpdate" => {
            let sent: Vec<String> = match field(r, "updatedFields").and_then(Value::as_array) {
                Some(names) => names
                    .iter()
                    .filter_map(|n| n.as_str())
                    .map(str::to_owned)
                    .collect(),
                None => r.changed_fields.clone(),
            };
            let names = std::iter::once("updatedAt".to_owned()).chain(sent);
            Py::object([
                ("apiKeyId", opt(&r.api_key_id)),
                ("updatedFields", Py::strings(names)),
                op("update"),
            ])
        }
        "apiKeyDelete" => Py::object([
            ("apiKeyId", opt(&r.api_key_id)),
            ("apiKeyName", opt(&r.api_key_name)),
            ("userId", opt(&r.user_id)),
            op("delete"),
        ]),
        "roleCreate" | "roleUpdate" => Py::object([
            ("roleName", opt(&r.role_name)),
            op(if kind == "roleCreate" {
                "create"
            } else {
                "update"
            }),
            ("description", text(r.changes.get("description"))),
            (
                "mfaRequired",
                Py::Bool(r.changes["mfaRequired"].as_bool().unwrap_or(false)),
            ),
        ]),
        "roleDelete" => Py::object([("roleName", opt(&r.role_name)), op("delete")]),
        "userRoleCreate" | "userRoleUpdate" => Py::object([
            ("userId", opt(&r.user_id)),
            op(if kind == "userRoleCreate" {
                "create"
            } else {
                "update"
            }),
            (
                "roleNames",
                field(r, "roleName")
                    .or(r.changes.get("roleName"))
                    .map(Py::from)
                    .unwrap_or(Py::List(vec![])),
            ),
        ]),
        "userRoleDelete" => Py::object([("userId", opt(&r.user_id)), op("delete")]),
        _ => generic_payload(r),
    }
}

/// Kinds VAMS does not have: the subject's ids, then the record's changes.
fn generic_payload(r: &AuditRecord) -> Py {
    let ids = [
        ("apiKeyId", &r.api_key_id),
        ("apiKeyName", &r.api_key_name),
        ("userId", &r.user_id),
        ("roleName", &r.role_name),
    ];
    let mut pairs: Vec<(String, Py)> = ids
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_owned(), Py::str(v.as_str()))))
        .collect();
    if let Value::Object(changes) = &r.changes {
        pairs.extend(
            changes
                .iter()
                .filter(|(k, _)| !pairs.iter().any(|(have, _)| have == *k))
                .map(|(k, v)| (k.clone(), Py::from(v)))
                .collect::<Vec<_>>(),
        );
    }
    Py::Object(pairs)
}

/// What apikeyd appends where VAMS appends the masked API Gateway event.
fn summary(r: &AuditRecord) -> Py {
    let mut http = Vec::new();
    if let Some(request) = &r.request {
        http.push(("method", Py::str(request.method.as_str())));
        http.push(("path", Py::str(request.path.as_str())));
    }
    if let Some(ip) = &r.source_ip {
        http.push(("sourceIp", Py::str(ip.as_str())));
    }
    let mut context = Vec::new();
    if let Some(id) = &r.request_id {
        context.push(("requestId", Py::str(id.as_str())));
    }
    if !http.is_empty() {
        context.push(("http", Py::object(http)));
    }
    let apikeyd = Py::object([
        ("eventId", Py::str(r.event_id.as_str())),
        ("action", Py::str(r.action.as_str())),
        (
            "time",
            Py::str(r.time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        ),
        ("aggregateType", Py::str(r.aggregate_type.as_str())),
        ("aggregateId", Py::str(r.aggregate_id.as_str())),
        ("sequence", Py::Number(r.sequence.to_string())),
    ]);
    // System actions (the first-start bootstrap) have no request: only apikeyd's part.
    let mut parts = Vec::new();
    if !context.is_empty() {
        parts.push(("requestContext", Py::object(context)));
    }
    parts.push(("apikeyd", apikeyd));
    Py::object(parts)
}

#[cfg(test)]
mod tests;
