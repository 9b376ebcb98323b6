//! `APIKEYD_AUDIT_FORMAT=vams`: the log group holds the lines VAMS 2.5.1 writes to its
//! `VAMSAuditAuthChanges` group, byte for byte. Each expected line is built by VAMS's own
//! `_format_log_message` and its handlers' payload rules, run in Python (`vams_expected.py`), from
//! what each request sent; apikeyd's request summary after ` --- ` must name the request and be
//! printed as Python's `json.dumps` prints.
use crate::cloudwatch::{self, Line};
use crate::env::{fresh_group, fresh_prefix, Emulators};
use api::config::{AuditFormat, Settings};
use api::startup::Application;
use serde_json::{json, Value};
use tests::{Api, Reply};

/// One request and what VAMS's rules need to know about it.
struct Sent {
    reply: Reply,
    method: &'static str,
    path: String,
    case: Value,
}

/// Sends `body` to `path` as admin and records the VAMS case `case` (type, ids) for it.
async fn send(
    api: &Api,
    method: &'static str,
    path: &str,
    body: Option<Value>,
    case: Value,
) -> Sent {
    let call = api.call(method.parse().expect("a method"), path);
    let call = match &body {
        Some(b) => call.json(b),
        None => call,
    };
    let reply = call.send().await;
    reply.ok();
    let mut case = case;
    case["body"] = body.unwrap_or(Value::Null);
    case["user"] = json!("admin");
    case["roles"] = json!(["admin"]);
    Sent {
        reply,
        method,
        path: path.to_owned(),
        case,
    }
}

/// Roles, user roles and a key through their whole lifecycle; one VAMS line per request.
async fn requests(api: &Api) -> Vec<Sent> {
    let auditors = json!({"roleName": "vams-auditors", "description": "Auditors: naïve ☃ \"quoted\"", "mfaRequired": false});
    let mut sent = vec![
        send(api, "POST", "/roles", Some(auditors), json!({"type": "roleCreate"})).await,
        send(api, "POST", "/roles", Some(json!({"roleName": "vams-readers", "description": "readers"})), json!({"type": "roleCreate"})).await,
        send(api, "PUT", "/roles", Some(json!({"roleName": "vams-auditors", "description": "Read-only auditors", "mfaRequired": true})), json!({"type": "roleUpdate"})).await,
        send(api, "POST", "/user-roles", Some(json!({"userId": "alice", "roleName": ["vams-auditors"]})), json!({"type": "userRoleCreate"})).await,
    ];
    let create = json!({"apiKeyName": "vams key", "userId": "alice", "description": "before", "expiresAt": " 2031/01/31 "});
    let key = send(
        api,
        "POST",
        "/auth/api-keys",
        Some(create),
        json!({"type": "apiKeyCreate"}),
    )
    .await;
    let id = key.reply.body["apiKeyId"]
        .as_str()
        .expect("apiKeyId")
        .to_owned();
    let mut key = key;
    key.case["apiKeyId"] = json!(id);
    sent.push(key);
    let path = tests::keys::key_path(&id);
    let case = |kind: &str| json!({"type": kind, "apiKeyId": id, "item": {"apiKeyName": "vams key", "userId": "alice"}});
    sent.push(
        send(
            api,
            "PUT",
            &path,
            Some(json!({"description": "after", "isActive": "false"})),
            case("apiKeyUpdate"),
        )
        .await,
    );
    sent.push(send(api, "DELETE", &path, None, case("apiKeyDelete")).await);
    // A replace that adds one role and takes another away: two events, one VAMS line.
    sent.push(
        send(
            api,
            "PUT",
            "/user-roles",
            Some(json!({"userId": "alice", "roleName": ["vams-readers"]})),
            json!({"type": "userRoleUpdate"}),
        )
        .await,
    );
    // alice holds the role: its revocation is part of the delete, as in VAMS.
    sent.push(
        send(
            api,
            "DELETE",
            "/roles/vams-readers",
            None,
            json!({"type": "roleDelete", "roleName": "vams-readers"}),
        )
        .await,
    );
    sent.push(
        send(
            api,
            "POST",
            "/user-roles",
            Some(json!({"userId": "bob", "roleName": ["vams-auditors", "vams-auditors"]})),
            json!({"type": "userRoleCreate"}),
        )
        .await,
    );
    sent.push(
        send(
            api,
            "DELETE",
            "/user-roles",
            Some(json!({"userId": "bob"})),
            json!({"type": "userRoleDelete"}),
        )
        .await,
    );
    sent
}

/// Runs `vams_expected.py`: VAMS's lines for `cases`, and `summaries` re-printed by json.dumps.
fn vams_rules(cases: &[Value], summaries: &[&str]) -> (Vec<String>, Vec<String>) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/aws/vams_expected.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs VAMS's formatting code");
    let input = json!({"cases": cases, "summaries": summaries}).to_string();
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), input.as_bytes())
        .expect("write to python3");
    let output = child.wait_with_output().expect("python3 finishes");
    assert!(output.status.success(), "vams_expected.py failed");
    let out: Value = serde_json::from_slice(&output.stdout).expect("JSON from vams_expected.py");
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("a list")
            .iter()
            .map(|s| s.as_str().expect("a string").to_owned())
            .collect()
    };
    (strings(&out["lines"]), strings(&out["summaries"]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vams_format_lines_match_what_vams_writes() {
    let Some(emulators) = Emulators::or_skip("vams_format") else {
        return;
    };
    let group = fresh_group("vams");
    let data_dir = tempfile::tempdir().expect("a data dir");
    let mut settings = Settings::for_aws_tests(data_dir.path(), &fresh_prefix());
    settings.audit_log_group = Some(group.clone());
    settings.audit_format = AuditFormat::Vams;
    let app = Application::build(settings).await.expect("build the app");
    let admin_key = app.bootstrap_key().expect("a fresh table set bootstraps");
    let api = Api::new(format!("http://127.0.0.1:{}", app.port()), &admin_key);
    let server = tokio::spawn(app.run_until_stopped());

    let sent = requests(&api).await;
    let client = cloudwatch::client(&emulators.cloudwatch).await;
    // The bootstrap's three lines (role, user role, key, by `system`), then one per request.
    let lines = cloudwatch::settled(&client, &group, 3 + sent.len()).await;
    for line in &lines {
        assert!(
            !line.message.contains("vams_"),
            "a plaintext key in {}",
            line.message
        );
        assert_eq!(line.stream, day_of(line), "stream of {}", line.message);
    }
    let bootstrap: Vec<&str> = lines[..3].iter().map(vams_type).collect();
    assert_eq!(bootstrap, ["roleCreate", "userRoleCreate", "apiKeyCreate"]);
    let ours = &lines[3..];
    let (heads, summaries): (Vec<&str>, Vec<&str>) = ours.iter().map(split).unzip();
    let cases: Vec<Value> = sent.iter().map(|s| s.case.clone()).collect();
    let (expected, redumped) = vams_rules(&cases, &summaries);
    for (i, (head, want)) in heads.iter().zip(&expected).enumerate() {
        assert_eq!(
            head, want,
            "line {i} ({}) differs from VAMS's",
            cases[i]["type"]
        );
    }
    assert_eq!(
        summaries, redumped,
        "summaries are printed as Python's json.dumps prints"
    );
    for (line, sent) in ours.iter().zip(&sent) {
        check_summary(line, sent);
    }
    server.abort();
}

/// `(before " --- ", the summary JSON)`.
fn split(line: &Line) -> (&str, &str) {
    let (head, tail) = line
        .message
        .split_once(" --- [event: ")
        .unwrap_or_else(|| panic!("no request summary in {}", line.message));
    (
        head,
        tail.strip_suffix(']').expect("the summary closes the line"),
    )
}

fn vams_type(line: &Line) -> &str {
    let rest = line
        .message
        .strip_prefix("[AUTHCHANGES][type: ")
        .expect("an [AUTHCHANGES] line");
    &rest[..rest.find(']').expect("type closes")]
}

fn day_of(line: &Line) -> String {
    let time = line.record["time"].as_str().expect("apikeyd.time");
    chrono::DateTime::parse_from_rfc3339(time)
        .expect("RFC 3339")
        .with_timezone(&chrono::Utc)
        .format("%Y/%m/%d")
        .to_string()
}

/// The summary names the request: method, path, request id, source IP; and no header or body.
fn check_summary(line: &Line, sent: &Sent) {
    let (_, summary) = split(line);
    let summary: Value = serde_json::from_str(summary).expect("summary JSON");
    let context = &summary["requestContext"];
    assert_eq!(
        context["requestId"].as_str(),
        sent.reply.header("x-request-id"),
        "{}",
        line.message
    );
    assert_eq!(
        context["http"],
        json!({"method": sent.method, "path": sent.path, "sourceIp": "127.0.0.1"}),
        "{}",
        line.message
    );
    assert_eq!(
        summary.as_object().map(|o| o.len()),
        Some(2),
        "only requestContext and apikeyd: {summary}"
    );
    assert!(
        summary["apikeyd"]["eventId"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{summary}"
    );
}
