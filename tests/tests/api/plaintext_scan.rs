//! After a full lifecycle on the real binary at `RUST_LOG=debug` — including an issued key pasted
//! into a URL path, a JSON field (also the per-key settings) and a malformed body, per-key
//! settings, a rotation and a leak report — no issued key appears in plaintext anywhere
//! on disk or in the output; its SHA-256 does appear in the store (so the scan reads the right
//! bytes); the audit file has one line per event.
use serde_json::{json, Value};
use tests::backend::audit_log;
use tests::binary::Server;
use tests::secrets::{
    files_under, find_keys, occurrences, read_audit, read_or_empty, secret_part, sha256_hex,
    unknown_key,
};
use tests::{Api, Auth, Backend, CreatedKey};

/// Creates, uses, updates and deletes keys; returns every key issued and the audit actions expected,
/// in order, as (action, key id or user id).
async fn lifecycle(api: &Api) -> (Vec<CreatedKey>, Vec<(&'static str, String)>) {
    let mut expected = vec![
        ("roleCreate", String::new()),
        ("userRolesAssign", "scan-bot".to_owned()),
    ];
    api.create_role("scanner").await.ok();
    api.assign_roles("scan-bot", &["scanner"]).await.ok();
    let one = api.create_key_ok("scan one", "scan-bot").await;
    let mut body = tests::keys::key_body("scan two", "scan-bot", "expires");
    body["expiresAt"] = json!("2031-01-01");
    let two = tests::keys::created(&api.create_key(&body).await);
    let three = api.create_key_ok("scan three", "admin").await;
    for key in [&one, &two, &three] {
        expected.push(("apiKeyCreate", key.id.clone()));
    }

    for key in [&one, &two, &three] {
        api.assert_key_works(&key.key).await;
        api.get("/auth/api-keys")
            .auth(Auth::Header(key.key.clone()))
            .send()
            .await;
        api.login_profile("scan-bot", &key.key).await;
    }
    let wrong = unknown_key();
    api.assert_key_refused(&wrong, "NOT_FOUND").await;
    paste_by_mistake(api, &one).await;

    api.update_key(&one.id, &json!({ "description": "rotated soon" }))
        .await
        .ok();
    let settings = json!({
        "roles": ["scanner"], "allowedCidrs": ["127.0.0.1"], "meta": { "ticket": "SCAN-1" },
        "rateLimit": { "limit": 1000, "periodSeconds": 86_400 },
    });
    api.update_key(&one.id, &settings).await.ok();
    api.assert_key_works(&one.key).await;
    api.set_active(&two.id, false).await;
    api.assert_key_refused(&two.key, "DISABLED").await;
    api.set_active(&two.id, true).await;
    let rotated = api.rotate_key(&two.id, 3600).await;
    api.assert_key_works(&two.key).await;
    api.assert_key_works(&rotated.key).await;
    api.report_exposure(&[&two.key, &wrong], "scan: pasted in a ticket")
        .await
        .assert_status(202);
    api.wait_until_deactivated(&two.id).await;
    api.delete_key(&three.id).await.ok();
    api.assert_key_refused(&three.key, "NOT_FOUND").await;
    api.delete_key(&one.id).await.ok();
    api.assert_key_refused(&one.key, "NOT_FOUND").await;
    expected.extend([
        ("apiKeyUpdate", one.id.clone()),
        ("apiKeyUpdate", one.id.clone()),
        ("apiKeyUpdate", two.id.clone()),
        ("apiKeyUpdate", two.id.clone()),
        ("apiKeyRotate", two.id.clone()),
        ("apiKeyDelete", three.id.clone()),
        ("apiKeyDelete", one.id.clone()),
    ]);
    (vec![one, two, three, rotated], expected)
}

/// An issued key pasted where it does not belong — a URL path, a JSON field, a body that is not
/// JSON — is refused, and (the scan checks) written nowhere, not even redacted-away on stderr.
async fn paste_by_mistake(api: &Api, key: &CreatedKey) {
    let reply = api.get(&format!("/auth/api-keys/{}", key.key)).send().await;
    assert!(
        !reply.text.contains(secret_part(&key.key)),
        "{}",
        reply.text
    );
    let reply = api
        .update_key(&key.id, &json!({ "description": key.key }))
        .await;
    reply.assert_json_error(400);
    paste_into_settings(api, key).await;
    let bad_json = format!("{{\"apiKeyName\": \"{}", key.key);
    let reply = api
        .post("/auth/api-keys")
        .raw(bad_json, "application/json")
        .send()
        .await;
    reply.assert_json_error(400);
    assert!(
        !reply.text.contains(secret_part(&key.key)),
        "{}",
        reply.text
    );
}

/// Per-key settings (issue 13): a key in `meta`, `roles` or `allowedCidrs`, on update or create,
/// is refused with a message that does not repeat it.
async fn paste_into_settings(api: &Api, key: &CreatedKey) {
    let pasted = [
        json!({ "meta": { "note": { "deep": [key.key] } } }),
        json!({ "roles": [key.key] }),
        json!({ "allowedCidrs": [key.key] }),
    ];
    for body in pasted {
        let reply = api.update_key(&key.id, &body).await;
        reply.assert_json_error(400);
        assert!(
            !reply.text.contains(secret_part(&key.key)),
            "{}",
            reply.text
        );
        let mut create = tests::keys::key_body("pasted", "scan-bot", "settings");
        create
            .as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        let reply = api.create_key(&create).await;
        reply.assert_json_error(400);
        assert!(
            !reply.text.contains(secret_part(&key.key)),
            "{}",
            reply.text
        );
    }
}

/// Every file the scan reads: the store, the audit file, any other file in the data directory,
/// stdout and stderr.
struct Scanned {
    store: Vec<(String, Vec<u8>)>,
    others: Vec<(String, Vec<u8>)>,
    audit: Vec<u8>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Scanned {
    /// Where `needle` occurs outside stderr, as file names.
    fn leaks_outside_stderr(&self, needle: &str) -> Vec<String> {
        let mut leaks: Vec<String> = self
            .store
            .iter()
            .chain(&self.others)
            .filter(|(_, bytes)| occurrences(bytes, needle.as_bytes()) > 0)
            .map(|(name, _)| name.clone())
            .collect();
        for (name, bytes) in [("audit.log", &self.audit), ("stdout", &self.stdout)] {
            if occurrences(bytes, needle.as_bytes()) > 0 {
                leaks.push(name.to_owned());
            }
        }
        leaks
    }

    fn in_store(&self, needle: &str) -> bool {
        self.store
            .iter()
            .any(|(_, bytes)| occurrences(bytes, needle.as_bytes()) > 0)
    }
}

#[tokio::test]
async fn no_issued_key_appears_in_plaintext_after_a_full_lifecycle() {
    let backend = Backend::from_env();
    let (data, logs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = Server::start(
        backend,
        data.path(),
        logs.path(),
        "scan",
        &[("RUST_LOG", "debug")],
    )
    .await;
    let bootstrap = find_keys(&server.stderr_text())
        .pop()
        .expect("bootstrap key on stderr");
    let api = Api::new(server.address.clone(), bootstrap.clone());
    let (keys, expected_audit) = lifecycle(&api).await;
    let (stdout, stderr) = (server.stdout.clone(), server.stderr.clone());
    server.stop().await;

    let store_files = backend.store_files(data.path());
    let audit_file = audit_log(data.path());
    let others = files_under(data.path())
        .into_iter()
        .filter(|p| !store_files.contains(p) && *p != audit_file)
        .map(|p| (p.display().to_string(), read_or_empty(&p)))
        .collect();
    let scanned = Scanned {
        store: backend.store_dump(data.path()).await,
        others,
        audit: read_or_empty(&audit_file),
        stdout: read_or_empty(&stdout),
        stderr: read_or_empty(&stderr),
    };
    assert!(
        scanned.store.iter().any(|(_, b)| !b.is_empty()),
        "the store dump is empty"
    );
    for key in &keys {
        let secret = secret_part(&key.key);
        let leaks = scanned.leaks_outside_stderr(secret);
        assert!(leaks.is_empty(), "key {} leaked into {leaks:?}", key.id);
        assert_eq!(
            occurrences(&scanned.stderr, secret.as_bytes()),
            0,
            "key {} on stderr",
            key.id
        );
        assert!(
            scanned.in_store(&sha256_hex(&key.key)),
            "hash of {} not in the store",
            key.id
        );
    }
    let on_stderr = find_keys(&String::from_utf8_lossy(&scanned.stderr));
    assert_eq!(
        on_stderr,
        vec![bootstrap.clone()],
        "stderr shows the bootstrap key once and no other key"
    );
    let leaks = scanned.leaks_outside_stderr(secret_part(&bootstrap));
    assert!(leaks.is_empty(), "bootstrap key leaked into {leaks:?}");
    assert!(
        scanned.in_store(&sha256_hex(&bootstrap)),
        "bootstrap hash not in the store"
    );

    for (name, bytes) in [("stdout", &scanned.stdout), ("audit.log", &scanned.audit)] {
        let found = find_keys(&String::from_utf8_lossy(bytes));
        assert!(found.is_empty(), "{name} shows {} key(s)", found.len());
    }
    assert_audit(&read_audit(&audit_log(data.path())), &expected_audit, &keys);
}

/// The fields an audit line of this action must carry: every line says what happened when; a
/// lifecycle line also says who changed what, a key line which key of which user, a user-role line
/// which user.
fn audit_fields(action: &str) -> Vec<&'static str> {
    let mut fields = vec!["eventId", "time", "action"];
    if LIFECYCLE_ACTIONS.contains(&action) {
        fields.extend(["actor", "changedFields"]);
    }
    if action.starts_with("apiKey") {
        fields.extend(["apiKeyId", "apiKeyName", "userId"]);
    } else if action.starts_with("userRoles") {
        fields.push("userId");
    }
    fields
}

/// The audit actions of the key lifecycle; other lines (refused authentications, …) may interleave.
const LIFECYCLE_ACTIONS: [&str; 9] = [
    "apiKeyCreate",
    "apiKeyUpdate",
    "apiKeyRotate",
    "apiKeyDelete",
    "roleCreate",
    "roleUpdate",
    "roleDelete",
    "userRolesAssign",
    "userRolesRevoke",
];

/// The last lifecycle lines are exactly our events, by the bootstrap admin; the first ones the bootstrap's own.
fn assert_audit(lines: &[Value], expected: &[(&str, String)], keys: &[CreatedKey]) {
    for line in lines {
        for field in audit_fields(line["action"].as_str().unwrap_or_default()) {
            assert!(
                line.get(field).is_some_and(|v| !v.is_null()),
                "audit line lacks {field}: {line}"
            );
        }
        let time = line["time"].as_str().unwrap_or_default();
        assert!(
            chrono::DateTime::parse_from_rfc3339(time).is_ok(),
            "audit time {time:?}: {line}"
        );
    }
    let mut event_ids: Vec<String> = lines.iter().map(|l| l["eventId"].to_string()).collect();
    event_ids.sort();
    event_ids.dedup();
    assert_eq!(event_ids.len(), lines.len(), "eventIds are not unique");
    let lifecycle: Vec<Value> = lines
        .iter()
        .filter(|l| LIFECYCLE_ACTIONS.contains(&l["action"].as_str().unwrap_or_default()))
        .cloned()
        .collect();
    assert!(
        lifecycle.len() >= expected.len(),
        "{} lifecycle audit lines, expected at least {}",
        lifecycle.len(),
        expected.len()
    );
    let (bootstrap, ours) = lifecycle.split_at(lifecycle.len() - expected.len());
    let boot_actions: Vec<&str> = bootstrap
        .iter()
        .filter_map(|l| l["action"].as_str())
        .collect();
    for action in ["roleCreate", "userRolesAssign", "apiKeyCreate"] {
        assert!(
            boot_actions.contains(&action),
            "bootstrap audit lacks {action}: {boot_actions:?}"
        );
    }
    for line in bootstrap {
        let ours = keys.iter().any(|k| line["apiKeyId"] == json!(k.id));
        assert!(
            !ours && line["userId"] != "scan-bot",
            "duplicate audit line: {line}"
        );
    }
    for (line, (action, subject)) in ours.iter().zip(expected) {
        assert_eq!(line["action"], json!(action), "{line}");
        assert_eq!(line["actor"], json!("admin"), "{line}");
        match *action {
            "userRolesAssign" => assert_eq!(line["userId"], json!(subject), "{line}"),
            "roleCreate" => {}
            _ => {
                let key = keys.iter().find(|k| &k.id == subject).expect("one of ours");
                assert_eq!(line["apiKeyId"], json!(subject), "{line}");
                assert_eq!(line["apiKeyName"], key.item["apiKeyName"], "{line}");
                assert_eq!(line["userId"], key.item["userId"], "{line}");
            }
        }
    }
    let changed: Vec<&Value> = ours
        .iter()
        .filter(|l| l["action"] == "apiKeyUpdate")
        .map(|l| &l["changedFields"])
        .collect();
    let text: Vec<String> = changed.iter().map(|c| c.to_string()).collect();
    assert!(
        text[0].contains("description"),
        "first update changed the description: {text:?}"
    );
    assert!(
        ["roles", "allowedCidrs", "meta", "rateLimit"]
            .iter()
            .all(|f| text[1].contains(f)),
        "second update changed the settings: {text:?}"
    );
    assert!(
        text[2].contains("isActive") && text[3].contains("isActive"),
        "flag flips: {text:?}"
    );
}
