//! Lines per VAMS type, the records left out, and reading lines back.
use super::*;
use crate::audit::RequestFacts;
use serde_json::json;

fn record(action: &str, operation: Option<&str>, fields: Value) -> AuditRecord {
    AuditRecord {
        event_id: "ApiKey:k1:2".into(),
        time: "2026-11-26T05:12:26.954481Z".parse().expect("a time"),
        action: action.into(),
        actor: "admin".into(),
        actor_roles: vec!["admin".into()],
        auth_method: Some("apiKey".into()),
        request_id: Some("r-1".into()),
        source_ip: Some("10.0.0.7".into()),
        aggregate_type: "ApiKey".into(),
        aggregate_id: "k1".into(),
        sequence: 2,
        api_key_id: Some("k1".into()),
        api_key_name: Some("ci-deploy".into()),
        user_id: Some("ci-bot@example.com".into()),
        role_name: None,
        changed_fields: vec!["isActive".into()],
        changes: json!({"isActive": {"old": true, "new": false}}),
        request: operation.map(|op| RequestFacts {
            method: "PUT".into(),
            path: "/auth/api-keys/k1".into(),
            operation: Some(op.into()),
            fields,
        }),
    }
}

#[test]
fn an_update_line_has_vams_frame_payload_and_a_request_summary() {
    let r = record(
        "apiKeyUpdate",
        Some("apiKeyUpdate"),
        json!({"updatedFields": ["description", "isActive"]}),
    );
    assert_eq!(
        line(&r).expect("a line"),
        concat!(
            r#"[AUTHCHANGES][type: apiKeyUpdate] [user: admin] [roles: ["admin"]] [mfaEnabled: False] "#,
            r#"{"apiKeyId": "k1", "updatedFields": ["updatedAt", "description", "isActive"], "operation": "update"}"#,
            r#" --- [event: {"requestContext": {"requestId": "r-1", "http": {"method": "PUT", "path": "/auth/api-keys/k1", "sourceIp": "10.0.0.7"}}, "#,
            r#""apikeyd": {"eventId": "ApiKey:k1:2", "action": "apiKeyUpdate", "time": "2026-11-26T05:12:26.954481Z", "#,
            r#""aggregateType": "ApiKey", "aggregateId": "k1", "sequence": 2}}]"#
        )
    );
}

#[test]
fn a_system_action_has_no_request_context() {
    let mut r = record("roleCreate", None, Value::Null);
    (r.request_id, r.source_ip) = (None, None);
    let text = line(&r).expect("a line");
    assert!(
        text.contains(r#" --- [event: {"apikeyd": {"eventId": "#),
        "{text}"
    );
}

#[test]
fn which_events_of_a_request_become_lines() {
    let cases = [
        (
            "userRolesRevoke",
            Some("roleDelete"),
            None,
            "a role delete's revocations",
        ),
        (
            "roleDelete",
            Some("roleDelete"),
            Some("roleDelete"),
            "the role delete itself",
        ),
        (
            "userRolesAssign",
            Some("userRoleUpdate"),
            Some("userRoleUpdate"),
            "replace: added",
        ),
        (
            "userRolesRevoke",
            Some("userRoleUpdate"),
            Some("userRoleUpdate"),
            "replace: removed",
        ),
        (
            "userRolesRevoke",
            Some("userRoleDelete"),
            Some("userRoleDelete"),
            "remove all",
        ),
        (
            "userRolesAssign",
            None,
            Some("userRoleCreate"),
            "system assign (bootstrap)",
        ),
        ("authFailure", None, Some("authFailure"), "a refused key"),
        (
            "apiKeyExposed",
            None,
            Some("apiKeyExposed"),
            "a kind VAMS lacks",
        ),
    ];
    for (action, operation, expected, what) in cases {
        let r = record(action, operation, Value::Null);
        assert_eq!(line_type(&r), expected, "{what}");
    }
}

#[test]
fn a_kind_vams_lacks_gets_the_frame_and_a_generic_payload() {
    let mut r = record("authFailure", None, Value::Null);
    r.actor = "anonymous".into();
    r.actor_roles = vec![];
    r.api_key_name = None;
    r.user_id = None;
    r.changes = json!({"reason": "DISABLED", "keyHashPrefix": "7e31c495", "path": "/auth/check"});
    let text = line(&r).expect("a line");
    assert!(
        text.starts_with(concat!(
            r#"[AUTHCHANGES][type: authFailure] [user: anonymous] [roles: []] [mfaEnabled: False] "#,
            r#"{"apiKeyId": "k1", "keyHashPrefix": "7e31c495", "path": "/auth/check", "reason": "DISABLED"} --- "#
        )),
        "{text}"
    );
}

#[test]
fn lines_read_back_into_the_same_record() {
    for action in ["apiKeyUpdate", "authFailure"] {
        let r = record(action, Some(action), json!({"updatedFields": ["isActive"]}));
        let back = parse::parse(&line(&r).expect("a line"), 0).expect("parses");
        assert_eq!(
            (
                &back.event_id,
                back.time,
                &back.action,
                &back.actor,
                &back.actor_roles
            ),
            (&r.event_id, r.time, &r.action, &r.actor, &r.actor_roles),
            "{action}"
        );
        assert_eq!(
            (
                &back.api_key_id,
                &back.request_id,
                &back.source_ip,
                back.sequence
            ),
            (&r.api_key_id, &r.request_id, &r.source_ip, r.sequence),
            "{action}"
        );
    }
}

#[test]
fn a_line_vams_wrote_reads_with_its_timestamp_and_a_stable_id() {
    let vams = r#"[AUTHCHANGES][type: apiKeyDelete] [user: admin] [roles: ["admin"]] [mfaEnabled: False] {"apiKeyId": "k9", "apiKeyName": "old", "userId": "bob", "operation": "delete"} --- [event: {"headers": {"authorization": "<redacted>"}}]"#;
    let a = parse::parse(vams, 1_764_133_946_000).expect("parses");
    let b = parse::parse(vams, 1_764_133_946_000).expect("parses");
    assert_eq!(a.event_id, b.event_id);
    assert!(a.event_id.starts_with("vams:"), "{}", a.event_id);
    assert_eq!(
        (a.action.as_str(), a.aggregate_type.as_str()),
        ("apiKeyDelete", "ApiKey")
    );
    assert_eq!(a.time.timestamp_millis(), 1_764_133_946_000);
    assert_eq!(a.user_id.as_deref(), Some("bob"));
}

#[test]
fn other_messages_are_refused_with_a_reason() {
    let cases = [
        (
            r#"{"eventId":"x"}"#,
            parse::ParseError::NotAuthChanges,
            "a JSON record",
        ),
        (
            "[AUTHCHANGES][type: x] [roles: []]",
            parse::ParseError::Malformed("user"),
            "no user",
        ),
        (
            "[AUTHCHANGES][type: x] [user: a] [roles: [] [mfaEnabled: False] {}",
            parse::ParseError::Malformed("mfaEnabled"),
            "roles not closed",
        ),
    ];
    for (message, expected, what) in cases {
        assert_eq!(parse::parse(message, 0).err(), Some(expected), "{what}");
    }
}
