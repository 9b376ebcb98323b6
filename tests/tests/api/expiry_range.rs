//! Expiries end with 9999-12-31T23:59:59Z: later ones are refused on create and update, the last
//! accepted instant survives restarts, and a log an older version filled with a year-10000 expiry
//! still starts, verifies and recovers.
use crate::seed::{app_with_bot, edit_sqlite};
use serde_json::{json, Value};
use std::path::Path;
use tests::backend::Backend;
use tests::binary::{describe, run, Server};
use tests::keys::{created, key_body};
use tests::secrets::find_keys;
use tests::{Api, Expect};

/// What every too-late expiry is told.
const TOO_LATE: &str = "expiresAt must be no later than 9999-12-31T23:59:59Z";

/// Expiries past the end of year 9999 in UTC, and why each is one.
const TOO_LATE_CASES: [(&str, &str); 7] = [
    (
        "9999-12-31T23:59:59-01:00",
        "an offset pushing it into year 10000 in UTC",
    ),
    (
        "9999-12-31T23:00:00-01:00",
        "an hour into year 10000 in UTC",
    ),
    (
        "9999-12-31 23:59:59.5Z",
        "half a second late, space separator",
    ),
    ("+10000-01-01", "a five-digit date"),
    ("+10000/01/01", "a five-digit date with slashes"),
    ("+10000-01-01T00:00:00", "a five-digit naive date-time"),
    ("+262142-12-31", "the largest date there is"),
];

/// Accepted boundary inputs and the expiry each is stored as.
const LAST_ACCEPTED: [(&str, &str); 5] = [
    ("9999-12-31", "9999-12-31T23:59:59+00:00"),
    ("9999/12/31", "9999-12-31T23:59:59+00:00"),
    ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59+00:00"),
    ("9999-12-31T23:59:59", "9999-12-31T23:59:59+00:00"),
    ("9999-12-31T23:59:59+05:00", "9999-12-31T18:59:59+00:00"),
];

#[tokio::test]
async fn create_refuses_expiries_after_year_9999() {
    let app = app_with_bot().await;
    let before = app.snapshot().await;
    for (expiry, why) in TOO_LATE_CASES {
        let mut body = key_body("late", "bot", "too late");
        body["expiresAt"] = json!(expiry);
        Expect::exact(TOO_LATE).check(&app.create_key(&body).await, 400, why);
        assert_eq!(app.snapshot().await, before, "case {why:?} wrote something");
    }
}

#[tokio::test]
async fn update_refuses_expiries_after_year_9999() {
    let app = app_with_bot().await;
    let key = app.create_key_ok("kept", "bot").await;
    let before = app.snapshot().await;
    for (expiry, why) in TOO_LATE_CASES {
        let reply = app
            .update_key(&key.id, &json!({ "expiresAt": expiry }))
            .await;
        Expect::exact(TOO_LATE).check(&reply, 400, why);
        let with_others = json!({ "expiresAt": expiry, "description": "x", "isActive": "false" });
        let reply = app.update_key(&key.id, &with_others).await;
        Expect::exact(TOO_LATE).check(&reply, 400, why);
        assert_eq!(app.snapshot().await, before, "case {why:?} wrote something");
    }
}

#[tokio::test]
async fn the_last_second_of_9999_is_accepted_and_survives_a_restart() {
    let app = app_with_bot().await;
    let mut ids = Vec::new();
    for (n, (input, stored)) in LAST_ACCEPTED.iter().enumerate() {
        let mut body = key_body(&format!("last {n}"), "bot", "lasts");
        body["expiresAt"] = json!(input);
        let new = created(&app.create_key(&body).await);
        assert_eq!(new.item["expiresAt"], *stored, "create {input}");
        let updated = app
            .update_key(&new.id, &json!({ "expiresAt": input }))
            .await;
        assert_eq!(updated.ok()["expiresAt"], *stored, "update {input}");
        ids.push((new, *stored));
    }
    let app = app.restart().await;
    for (key, stored) in &ids {
        assert_eq!(app.get_key(&key.id).await.ok()["expiresAt"], *stored);
        assert_eq!(app.verify_code(&key.key).await, "VALID");
    }
}

/// An older version accepted `+10000-01-01T00:59:59` and wrote it into the event (chrono's serde),
/// the listing body and the lookup row (`to_rfc3339()`). Rewrites a key created with an ordinary
/// expiry into exactly that state. The event loses its chain hash, as events stored before chaining
/// have none, so the log still verifies.
async fn make_it_year_10000(data: &Path, key_id: &str, ordinary: &str) {
    let edits = [
        "UPDATE events SET payload = replace(payload, ?1, '+10000-01-01T00:59:59Z'), chain_hash = '' WHERE aggregate_id = ?2 AND payload LIKE '%' || ?1 || '%'",
        "UPDATE api_key_view SET body = replace(body, ?1, '+10000-01-01T00:59:59Z') WHERE api_key_id = ?2 AND body LIKE '%' || ?1 || '%'",
        "UPDATE api_key_lookup SET expires_at = '+10000-01-01T00:59:59+00:00' WHERE api_key_id = ?2 AND ?1 <> ''",
    ];
    edit_sqlite(data, &edits, &[ordinary, key_id]).await;
}

/// Runs `apikeyd args` on the embedded store in `data`, asserts it succeeded, returns its output.
async fn run_ok(data: &Path, args: &[&str]) -> std::process::Output {
    let output = run(Backend::Embedded, data, args, &[]).await;
    assert!(output.status.success(), "{args:?}: {}", describe(&output));
    output
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn a_year_10000_expiry_in_the_log_never_stops_the_service() {
    if Backend::from_env() != Backend::Embedded {
        eprintln!("skipped: seeds the SQLite file directly (the view stores' round trip is proven for both in infra)");
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let first = Server::start(Backend::Embedded, data.path(), logs.path(), "first", &[]).await;
    let admin = find_keys(&first.stderr_text())
        .pop()
        .expect("bootstrap key");
    let api = Api::new(first.address.clone(), admin.clone());
    let mut body = key_body("far future", "admin", "outlives us");
    body["expiresAt"] = json!("2999-01-01T00:00:00Z");
    let key = created(&api.create_key(&body).await);
    first.stop().await;
    make_it_year_10000(data.path(), &key.id, "2999-01-01T00:00:00Z").await;

    let verify = run_ok(data.path(), &["projections", "verify"]).await;
    assert!(stdout(&verify).contains("projections match"));
    let chain = run_ok(data.path(), &["events", "verify"]).await;
    assert!(stdout(&chain).contains("chain intact"));

    let second = Server::start(Backend::Embedded, data.path(), logs.path(), "second", &[]).await;
    let api = Api::new(second.address.clone(), admin);
    let listed: Value = api.get_key(&key.id).await.ok().clone();
    assert_eq!(listed["expiresAt"], "+10000-01-01T00:59:59+00:00");
    assert_eq!(api.verify_code(&key.key).await, "VALID");
    second.stop().await;

    let recover = run_ok(data.path(), &["recover"]).await;
    let rescued = find_keys(&String::from_utf8_lossy(&recover.stderr));
    assert_eq!(rescued.len(), 1, "{}", describe(&recover));
    run_ok(data.path(), &["projections", "verify"]).await;
    let third = Server::start(Backend::Embedded, data.path(), logs.path(), "third", &[]).await;
    let api = Api::new(third.address.clone(), rescued[0].clone());
    assert_eq!(
        api.get_key(&key.id).await.ok()["expiresAt"],
        "+10000-01-01T00:59:59+00:00"
    );
    third.stop().await;
}
