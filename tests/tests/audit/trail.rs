//! The local audit file: one record per event, in order, with actors and changes; refused keys
//! audited but bounded.
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tests::backend::audit_log;
use tests::secrets::{find_keys, read_audit};
use tests::spawn_app;

fn lifecycle_records(records: &[Value]) -> Vec<&Value> {
    records
        .iter()
        .filter(|r| {
            !r["action"]
                .as_str()
                .unwrap_or("")
                .starts_with("authFailure")
        })
        .collect()
}

#[tokio::test]
async fn every_event_is_recorded_once_in_order() {
    let app = spawn_app().await;
    app.create_role("auditors").await.assert_status(200);
    app.assign_roles("carol", &["auditors"])
        .await
        .assert_status(200);
    let key = app.create_key_ok("nightly", "carol").await;
    app.update_key(
        &key.id,
        &json!({"description": "nightly export", "expiresAt": "2031-01-01"}),
    )
    .await
    .assert_status(200);
    app.set_active(&key.id, false).await;
    app.delete_key(&key.id).await.assert_status(200);
    app.delete_role("auditors").await.assert_status(200);

    let records = read_audit(&audit_log(app.data_path()));
    let trail = lifecycle_records(&records);
    let actions: Vec<&str> = trail
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            // first start: role, assignment, bootstrap key
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
        ]
    );
    let mut ids: Vec<&str> = trail
        .iter()
        .map(|r| r["eventId"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), trail.len(), "event ids are unique");

    let ours: Vec<&&Value> = trail
        .iter()
        .filter(|r| r["apiKeyId"] == json!(key.id))
        .collect();
    assert_eq!(ours.len(), 4);
    for r in &ours {
        assert_eq!(r["actor"], "admin");
        assert_eq!(r["actorRoles"], json!(["admin"]));
        assert_eq!(r["authMethod"], "apiKey");
        assert_eq!(r["apiKeyName"], "nightly");
        assert_eq!(r["userId"], "carol");
        assert!(r["requestId"].as_str().is_some_and(|s| !s.is_empty()));
        assert_eq!(r["sourceIp"], "127.0.0.1");
    }
    let update = ours[1];
    assert_eq!(update["changedFields"], json!(["description", "expiresAt"]));
    assert_eq!(update["changes"]["description"]["new"], "nightly export");
    assert_eq!(update["changes"]["expiresAt"]["old"], Value::Null);
    assert_eq!(
        update["changes"]["expiresAt"]["new"],
        "2031-01-01T23:59:59Z"
    );
    assert_eq!(
        ours[2]["changes"]["isActive"],
        json!({"old": true, "new": false})
    );

    let text = String::from_utf8(std::fs::read(audit_log(app.data_path())).unwrap()).unwrap();
    assert!(
        find_keys(&text).is_empty(),
        "no key material in the audit file"
    );
    assert!(!text.contains(&key.key), "no plaintext in the audit file");
}

#[tokio::test]
async fn refused_keys_are_audited_with_a_bound() {
    let app = spawn_app().await;
    let bogus = format!("vams_{}", "x".repeat(64));
    for _ in 0..300 {
        app.get("/auth/api-keys")
            .key(&bogus)
            .send()
            .await
            .assert_status(401);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let (failures, suppressed) = loop {
        let records = read_audit(&audit_log(app.data_path()));
        let failures: Vec<Value> = records
            .iter()
            .filter(|r| r["action"] == "authFailure")
            .cloned()
            .collect();
        let suppressed: u64 = records
            .iter()
            .filter(|r| r["action"] == "authFailureSuppressed")
            .map(|r| r["changes"]["suppressed"].as_u64().unwrap_or(0))
            .sum();
        if failures.len() as u64 + suppressed >= 300 || Instant::now() > deadline {
            break (failures, suppressed);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(!failures.is_empty(), "refusals are audited");
    assert!(
        failures.len() <= 120,
        "bounded: {} records for 300 refusals",
        failures.len()
    );
    assert_eq!(
        failures.len() as u64 + suppressed,
        300,
        "every refusal is recorded or counted"
    );
    let first = &failures[0];
    assert_eq!(first["changes"]["reason"], "NOT_FOUND");
    assert_eq!(first["sourceIp"], "127.0.0.1");
    assert_eq!(first["changes"]["keyHashPrefix"].as_str().unwrap().len(), 8);
    let text = String::from_utf8(std::fs::read(audit_log(app.data_path())).unwrap()).unwrap();
    assert!(!text.contains(&bogus), "a presented key is never written");
}
