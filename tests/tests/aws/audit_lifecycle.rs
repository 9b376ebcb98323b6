//! Every lifecycle event reaches the CloudWatch log group exactly once, in order, in its UTC day
//! stream, with who did it, what it touched and what changed, and never a plaintext key.
use crate::cloudwatch::{self, assert_no_duplicates, ids, Line};
use crate::env::{fresh_group, fresh_prefix, Emulators};
use crate::node::NodeConfig;
use api::config::Settings;
use api::startup::Application;
use serde_json::{json, Value};
use tests::keys::key_body;
use tests::Api;

/// The bootstrap's events, then the test's, by action. Deleting a role first revokes it from the
/// users holding it (one `userRolesRevoke` per user, same request), then deletes it.
const EXPECTED_ACTIONS: [&str; 11] = [
    "roleCreate",
    "userRolesAssign",
    "apiKeyCreate",
    "roleCreate",
    "userRolesAssign",
    "apiKeyCreate",
    "apiKeyUpdate",
    "apiKeyUpdate",
    "apiKeyDelete",
    "userRolesRevoke",
    "roleDelete",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lifecycle_event_reaches_cloudwatch_once_in_order() {
    let Some(emulators) = Emulators::or_skip("audit_lifecycle") else {
        return;
    };
    let AuditedApp {
        api,
        prefix,
        group,
        server,
        _data_dir,
    } = audited_app("lifecycle").await;

    let key_id = lifecycle(&api).await;
    let client = cloudwatch::client(&emulators.cloudwatch).await;
    let lines = cloudwatch::settled(&client, &group, EXPECTED_ACTIONS.len()).await;
    let actions: Vec<&str> = lines.iter().map(Line::action).collect();
    assert_eq!(
        actions, EXPECTED_ACTIONS,
        "actions in the log group, in order"
    );
    assert_no_duplicates(&lines, "lifecycle");
    for line in cloudwatch::read_group(&client, &group)
        .await
        .expect("read the group")
    {
        assert!(
            !line.message.contains("vams_"),
            "a plaintext key in the audit stream: {}",
            line.message
        );
    }
    for line in &lines {
        assert_in_its_day_stream(line);
    }
    assert_eq!(lines[2].record["apiKeyName"], "bootstrap-admin");
    check_records(&lines[3..], &key_id);
    cli_agrees(&prefix, &group, &lines).await;
    server.abort();
}

/// An in-process app on fresh tables whose audit goes to a fresh log group.
pub struct AuditedApp {
    /// Talks to it as the bootstrap admin.
    pub api: Api,
    /// Its table prefix.
    pub prefix: String,
    /// Its audit log group.
    pub group: String,
    /// The server task (abort it at the end).
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Kept until the test ends.
    pub _data_dir: tempfile::TempDir,
}

/// Starts an [`AuditedApp`]; `label` names its log group.
pub async fn audited_app(label: &str) -> AuditedApp {
    let prefix = fresh_prefix();
    let group = fresh_group(label);
    let data_dir = tempfile::tempdir().expect("a data dir");
    let mut settings = Settings::for_aws_tests(data_dir.path(), &prefix);
    settings.audit_log_group = Some(group.clone());
    let app = Application::build(settings)
        .await
        .expect("build the app on the AWS backend");
    let admin_key = app.bootstrap_key().expect("a fresh table set bootstraps");
    let api = Api::new(format!("http://127.0.0.1:{}", app.port()), &admin_key);
    let server = tokio::spawn(app.run_until_stopped());
    AuditedApp {
        api,
        prefix,
        group,
        server,
        _data_dir: data_dir,
    }
}

/// Role create, user-role assign, key create, update, deactivate, delete, role delete; returns the
/// key's id.
async fn lifecycle(api: &Api) -> String {
    api.create_role("auditors").await.ok();
    api.assign_roles("alice", &["auditors"]).await.ok();
    let key = tests::keys::created(
        &api.create_key(&key_body("audited key", "alice", "before"))
            .await,
    );
    api.update_key(
        &key.id,
        &json!({ "description": "after", "expiresAt": "2031/01/31" }),
    )
    .await
    .ok();
    api.update_key(&key.id, &json!({ "isActive": "false" }))
        .await
        .ok();
    api.delete_key(&key.id).await.ok();
    api.delete_role("auditors").await.ok();
    key.id
}

/// The stream is the UTC day of the record's `time`.
#[track_caller]
fn assert_in_its_day_stream(line: &Line) {
    let time = line.record["time"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .unwrap_or_else(|| panic!("no RFC 3339 time in {}", line.message));
    let day = time
        .with_timezone(&chrono::Utc)
        .format("%Y/%m/%d")
        .to_string();
    assert_eq!(
        line.stream, day,
        "record in the wrong stream: {}",
        line.message
    );
}

/// The test's eight records: actor, roles, subject and changes.
fn check_records(lines: &[Line], key_id: &str) {
    for line in lines {
        let r = &line.record;
        assert!(
            r["eventId"].as_str().is_some_and(|id| !id.is_empty()),
            "no eventId: {r}"
        );
        assert_eq!(r["actor"], "admin", "actor of {r}");
        assert_eq!(r["actorRoles"], json!(["admin"]), "actorRoles of {r}");
        assert_eq!(r["authMethod"], "apiKey", "authMethod of {r}");
    }
    let [role_create, assign, create, update, deactivate, delete, revoke, role_delete] = lines
    else {
        panic!("expected eight records, got {}", lines.len());
    };
    assert_eq!(role_create.record["roleName"], "auditors");
    assert_eq!(role_delete.record["roleName"], "auditors");
    for line in [assign, revoke] {
        assert_eq!(line.record["userId"], "alice", "{}", line.message);
        assert_eq!(line.record["changes"]["roleName"], json!(["auditors"]));
    }
    for line in [create, update, deactivate, delete] {
        let r = &line.record;
        assert_eq!(r["apiKeyId"], key_id, "apiKeyId of {r}");
        assert_eq!(r["apiKeyName"], "audited key", "apiKeyName of {r}");
        assert_eq!(r["userId"], "alice", "userId of {r}");
    }
    let sequences: Vec<&Value> = [create, update, deactivate, delete]
        .iter()
        .map(|l| &l.record["sequence"])
        .collect();
    assert_eq!(sequences, [&json!(1), &json!(2), &json!(3), &json!(4)]);

    let u = &update.record;
    assert_eq!(
        sorted(&u["changedFields"]),
        ["description", "expiresAt"],
        "{u}"
    );
    assert_eq!(
        u["changes"]["description"],
        json!({"old": "before", "new": "after"}),
        "{u}"
    );
    assert_eq!(u["changes"]["expiresAt"]["old"], Value::Null, "{u}");
    assert!(
        u["changes"]["expiresAt"]["new"]
            .as_str()
            .is_some_and(|t| t.starts_with("2031-01-31T23:59:59")),
        "expiresAt new value in {u}"
    );
    let d = &deactivate.record;
    assert_eq!(sorted(&d["changedFields"]), ["isActive"], "{d}");
    assert_eq!(
        d["changes"]["isActive"],
        json!({"old": true, "new": false}),
        "{d}"
    );
}

fn sorted(names: &Value) -> Vec<String> {
    let mut names: Vec<String> = names
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {names}"))
        .iter()
        .filter_map(|n| n.as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// `apikeyd audit search --from cloudwatch --json` reads the same event records in the same order.
async fn cli_agrees(prefix: &str, group: &str, lines: &[Line]) {
    let output = NodeConfig::new(prefix, group)
        .run(&["audit", "search", "--from", "cloudwatch", "--json"])
        .await;
    assert!(
        output.status.success(),
        "audit search failed: {}",
        tests::binary::describe(&output)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let from_cli: Vec<String> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .filter(|r| r["aggregateType"] != "Auth")
        .map(|r| r["eventId"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        from_cli,
        ids(lines),
        "audit search --from cloudwatch --json"
    );
}
