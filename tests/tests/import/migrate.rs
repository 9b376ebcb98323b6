//! The migration on each backend: import next to the running server, authenticate with the original
//! plaintexts, re-run (nothing imported), change an item in VAMS (reported, then applied).
use crate::env::{eventually, Emulators};
use crate::fixture::{import_json, stored_bytes, Case, Fixture, PAUSED, PAUSED_AT, TAKEN};
use serde_json::{json, Value};
use std::time::Duration;
use tests::{spawn_app_on, Auth, Backend, TestApp};

#[tokio::test]
async fn vams_keys_work_after_an_import_into_the_embedded_store() {
    if Emulators::or_skip("import embedded").is_some() {
        migrate(Backend::Embedded).await;
    }
}

#[tokio::test]
async fn vams_keys_work_after_an_import_into_the_aws_backend() {
    if Emulators::or_skip("import aws").is_some() {
        migrate(Backend::Aws).await;
    }
}

async fn migrate(backend: Backend) {
    let app = spawn_app_on(backend).await;
    app.create_key_ok(TAKEN, "admin").await;
    let fixture = Fixture::fill().await;

    let (code, report, output) = import_json(&app, &fixture, &[]).await;
    assert_eq!(
        code,
        Some(1),
        "the broken item makes the run fail: {report}"
    );
    assert_first_import(&fixture, &report);
    authenticates_as_before(&app, &fixture).await;
    keeps_what_vams_recorded(&app, &fixture).await;
    audited_as_imports(&app, &fixture);
    let mut printed = output.stdout.clone();
    printed.extend(&output.stderr);
    assert_no_plaintext(&fixture, &[("import output".into(), printed)]);
    assert_no_plaintext(&fixture, &stored_bytes(backend, app.data_path()).await);

    let (_, again, _) = import_json(&app, &fixture, &[]).await;
    assert_eq!(
        again["imported"],
        json!({"apiKeys": 0, "roles": 0, "userRoles": 0}),
        "{again}"
    );
    assert_eq!(again["skipped"]["apiKey.unchanged"], 10, "{again}");
    assert_eq!(again["skipped"]["role.unchanged"], 1, "{again}");
    assert_eq!(again["skipped"]["userRole.unchanged"], 4, "{again}");

    changes_in_vams_are_reported_then_applied(app, &fixture).await;
}

fn assert_first_import(fixture: &Fixture, report: &Value) {
    assert_eq!(report["dryRun"], false);
    assert_eq!(
        report["read"],
        json!({"apiKeys": 12, "roles": 2, "userRoles": 4}),
        "{report}"
    );
    assert_eq!(
        report["imported"],
        json!({"apiKeys": 10, "roles": 1, "userRoles": 3}),
        "{report}"
    );
    let errors = report["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{report}");
    assert_eq!(errors[0]["item"], format!("apiKeyId={}", fixture.broken_id));
    assert_eq!(errors[0]["reason"], "has no apiKeyHash");
    let collisions = report["collisions"].as_array().expect("collisions");
    assert_eq!(collisions.len(), 1, "{report}");
    assert_eq!(collisions[0]["id"], fixture.colliding.id);
    assert_eq!(collisions[0]["reason"], "nameTaken");
    let changed = report["changed"].as_array().expect("changed");
    assert!(
        changed
            .iter()
            .any(|c| c["kind"] == "role" && c["id"] == "admin"),
        "the admin role differs from apikeyd's: {report}"
    );
    let converted: Vec<(String, String)> = report["conversions"]
        .as_array()
        .expect("conversions")
        .iter()
        .map(|c| {
            (
                c["apiKeyName"].as_str().unwrap().to_owned(),
                c["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("vams-naive", "2099-01-31T12:00:00+00:00"),
        ("vams-date", "2099-01-31T23:59:59+00:00"),
        ("vams-expired-date", "2020-01-01T23:59:59+00:00"),
        ("vams-python-bool", "false"),
    ] {
        assert!(
            converted.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} not among the conversions {converted:?}"
        );
    }
    assert_eq!(
        converted.len(),
        4,
        "exact expiries are not conversions: {converted:?}"
    );
    let expired: Vec<&str> = report["expired"]
        .as_array()
        .expect("expired")
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    let mut want = vec![
        fixture.case("expired").id.as_str(),
        fixture.case("expired-date").id.as_str(),
    ];
    want.sort();
    let mut got = expired.clone();
    got.sort();
    assert_eq!(got, want);
}

/// Every VAMS plaintext gets the code it must (through the running server, which may take a poll
/// to see what another process wrote), and a valid one acts as its user with `Bearer`.
async fn authenticates_as_before(app: &TestApp, fixture: &Fixture) {
    verify_codes(app, fixture.imported.iter().chain([&fixture.colliding])).await;
    let profile = app
        .get("/auth/loginProfile/alice")
        .auth(Auth::Bearer(fixture.case("exact").plaintext.clone()))
        .send()
        .await;
    profile.assert_status(200);
    let verified = app.verify(&fixture.case("date").plaintext).await;
    assert_eq!(verified.body["userId"], "alice");
    assert_eq!(verified.body["apiKeyId"], fixture.case("date").id);
    assert_eq!(verified.body["roles"], json!(["vams-reader"]));
}

/// Ids, names, creator, times, expiry and the active flag as VAMS had them.
async fn keeps_what_vams_recorded(app: &TestApp, fixture: &Fixture) {
    let date = app.get_key(&fixture.case("date").id).await;
    let key = date.ok();
    assert_eq!(key["apiKeyName"], "vams-date");
    assert_eq!(key["description"], "vams-date from VAMS");
    assert_eq!(key["userId"], "alice");
    assert_eq!(key["createdBy"], "vams-admin@example.com");
    assert_eq!(key["createdAt"], "2026-04-23T10:11:12.345678+00:00");
    assert_eq!(key["updatedAt"], "2026-04-23T10:11:12.345678+00:00");
    assert_eq!(key["expiresAt"], "2099-01-31T23:59:59+00:00");
    assert_eq!(key["isActive"], "true");
    let inactive = app.get_key(&fixture.case("python-bool").id).await;
    assert_eq!(inactive.ok()["isActive"], "false");
}

fn audited_as_imports(app: &TestApp, fixture: &Fixture) {
    let records = tests::secrets::read_audit(&tests::backend::audit_log(app.data_path()));
    let imports: Vec<&Value> = records
        .iter()
        .filter(|r| r["action"] == "apiKeyImport")
        .collect();
    let exact = imports
        .iter()
        .find(|r| r["apiKeyId"] == fixture.case("exact").id)
        .unwrap_or_else(|| panic!("no apiKeyImport record for the exact key in {records:?}"));
    assert_eq!(exact["actor"], "system");
    assert_eq!(exact["authMethod"], "import");
    assert_eq!(exact["changes"]["source"]["system"], "vams");
    assert_eq!(exact["changes"]["source"]["table"], fixture.vams.api_keys);
    assert_eq!(exact["changes"]["createdBy"], "vams-admin@example.com");
    for action in ["roleImport", "userRolesImport"] {
        assert!(
            records.iter().any(|r| r["action"] == action),
            "no {action} record"
        );
    }
}

fn assert_no_plaintext(fixture: &Fixture, places: &[(String, Vec<u8>)]) {
    for plaintext in fixture.plaintexts() {
        let secret = tests::secrets::secret_part(plaintext).as_bytes();
        for (label, bytes) in places {
            assert_eq!(
                tests::secrets::occurrences(bytes, secret),
                0,
                "a VAMS plaintext key appears in {label}"
            );
        }
    }
}

async fn changes_in_vams_are_reported_then_applied(app: TestApp, fixture: &Fixture) {
    let case = fixture.pause_in_vams().await;

    let (_, reported, _) = import_json(&app, fixture, &[]).await;
    let changed = reported["changed"].as_array().expect("changed");
    let entry = changed
        .iter()
        .find(|c| c["id"] == case.id)
        .unwrap_or_else(|| panic!("{reported}"));
    assert_eq!(entry["reason"], "changedInVams");
    assert_eq!(entry["fields"], json!(["description", "isActive"]));
    assert_eq!(reported["updated"]["apiKeys"], 0);
    assert_eq!(
        app.verify_code(&case.plaintext).await,
        "VALID",
        "only reported, not applied"
    );

    let (_, applied, _) = import_json(&app, fixture, &["--update-changed"]).await;
    assert_eq!(applied["updated"]["apiKeys"], 1, "{applied}");
    // The running server picks the update up from the log (a poll on the embedded store), and a
    // restarted one folds the same from scratch.
    paused_in_vams(&app, case).await;
    let app = app.restart().await;
    paused_in_vams(&app, case).await;
    let (_, settled, _) = import_json(&app, fixture, &["--update-changed"]).await;
    assert_eq!(settled["updated"]["apiKeys"], 0, "applied once: {settled}");
}

/// Each case's plaintext gets its code from the server, within a bounded poll (the server may take
/// a poll of the log to see what the import process wrote).
pub async fn verify_codes<'a>(api: &tests::Api, cases: impl IntoIterator<Item = &'a Case>) {
    for case in cases {
        eventually(
            &format!("{} ({}) verifies as {}", case.label, case.name, case.code),
            Duration::from_secs(20),
            Duration::from_millis(100),
            || async {
                let code = api.verify_code(&case.plaintext).await;
                (code == case.code).then_some(()).ok_or(code)
            },
        )
        .await;
    }
}

/// The "never" key as VAMS changed it: deactivated, with its new description and `updatedAt`.
pub async fn paused_in_vams(app: &tests::Api, case: &Case) {
    eventually(
        &format!("{} is refused as disabled", case.name),
        Duration::from_secs(20),
        Duration::from_millis(100),
        || async {
            let code = app.verify_code(&case.plaintext).await;
            (code == "DISABLED").then_some(()).ok_or(code)
        },
    )
    .await;
    let reply = app.get_key(&case.id).await;
    let key = reply.ok();
    assert_eq!(key["description"], PAUSED);
    assert_eq!(key["isActive"], "false");
    assert_eq!(key["updatedAt"], PAUSED_AT);
}
