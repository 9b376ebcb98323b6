//! Every instant the domain accepts, and every instant an event in the log can hold, survives
//! write → read unchanged in the SQLite view store, the DynamoDB view store (DynamoDB Local) and the
//! audit file; and rows an older version wrote (`+10000-…` expiries from `to_rfc3339()`) load.
//!
//! The DynamoDB cases need `APIKEYD_EMULATORS` (set by `eval "$(bash scripts/emulators.sh start)"`,
//! always set in CI); without it they print why they are skipped and pass.
use chrono::{DateTime, TimeZone, Utc};
use domain::api_key::ApiKeyEvent;
use domain::{Actor, ApiKeyName, Description, Expiration, KeyHash, UserId};
use infra::audit_file::AuditFile;
use infra::audit_reader::{self, AuditQuery};
use infra::{stored_time, DynamoStore, SqliteStore};
use projections::audit::AuditRecord;
use projections::{AuditSink, DomainEvent, ReadModel, RecordedEvent, ViewStore};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::collections::HashMap;
use uuid::Uuid;

/// A stand-in key, built so that no key-shaped literal sits in the source.
fn stand_in_key() -> String {
    format!("vams_{}", "k".repeat(64))
}

/// Any instant chrono holds, leap seconds included: what an event in the log can carry.
fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    let seconds = DateTime::<Utc>::MIN_UTC.timestamp()..=DateTime::<Utc>::MAX_UTC.timestamp();
    (seconds, 0u32..2_000_000_000)
        .prop_filter_map("not an instant", |(s, n)| DateTime::from_timestamp(s, n))
}

/// An expiry `Expiration::parse` accepts now (future, no later than 9999-12-31T23:59:59Z), parsed
/// from its stored text as a client would send it.
fn accepted_expiry() -> impl Strategy<Value = DateTime<Utc>> {
    let now = Utc::now();
    let seconds = now.timestamp() + 1..=Expiration::latest().timestamp();
    (seconds, 0u32..1_000_000_000)
        .prop_filter_map("refused by the domain", move |(s, n)| {
            let at = DateTime::from_timestamp(s, n)?;
            Expiration::parse(&stored_time::write(at), now).ok()?
        })
        .prop_map(|e| e.at())
}

/// A created key whose expiry and creation time are the instants under test.
fn created(expires_at: DateTime<Utc>, created_at: DateTime<Utc>) -> RecordedEvent {
    let id = Uuid::new_v4();
    let event = ApiKeyEvent::ApiKeyCreated {
        api_key_id: id,
        api_key_name: ApiKeyName::parse("far-future").unwrap(),
        user_id: UserId::parse("alice").unwrap(),
        description: Description::parse("d").unwrap(),
        key_hash: KeyHash::of(&stand_in_key()),
        expires_at: Some(Expiration::from_utc(expires_at)),
        created_by: Actor::system(),
        created_at,
        policy: Default::default(),
    };
    RecordedEvent {
        cursor: "00000000000000000001".into(),
        aggregate_type: "ApiKey".into(),
        aggregate_id: id.to_string(),
        sequence: 1,
        event: DomainEvent::ApiKey(event),
        metadata: HashMap::new(),
        recorded_at: created_at,
    }
}

fn model_of(event: &RecordedEvent) -> ReadModel {
    let mut model = ReadModel::default();
    model.apply(event);
    model
}

/// Writes the model holding `event`, loads it back and compares everything it holds.
async fn round_trip(store: &dyn ViewStore, event: RecordedEvent) -> Result<(), TestCaseError> {
    let model = model_of(&event);
    store.replace_all(&model, &event.cursor).await.unwrap();
    let (loaded, cursor) = store.load().await.unwrap();
    prop_assert_eq!(cursor, event.cursor);
    prop_assert_eq!(loaded.differences(&model), Vec::<String>::new());
    let hash = KeyHash::of(&stand_in_key());
    prop_assert_eq!(
        loaded.lookup.get(&hash).and_then(|e| e.expires_at),
        model.lookup.get(&hash).and_then(|e| e.expires_at)
    );
    let (id, view) = (
        event.aggregate_id.parse().unwrap(),
        model.listing.iter().next(),
    );
    prop_assert_eq!(loaded.listing.get(&id), view);
    Ok(())
}

/// Expiries the domain accepts and instants of any event, in both roles.
fn cases() -> impl Strategy<Value = (DateTime<Utc>, DateTime<Utc>)> {
    prop_oneof![
        (accepted_expiry(), any_instant()),
        (any_instant(), accepted_expiry()),
        (any_instant(), any_instant()),
    ]
}

fn run_cases(
    cases_count: u32,
    check: impl Fn(DateTime<Utc>, DateTime<Utc>) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(Config {
        cases: cases_count,
        ..Config::default()
    });
    runner
        .run(&cases(), |(expires, created)| check(expires, created))
        .unwrap();
}

#[test]
fn sqlite_view_store_round_trips_every_instant() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = runtime
        .block_on(SqliteStore::open(&dir.path().join("apikeyd.db")))
        .unwrap();
    run_cases(256, |expires, created_at| {
        runtime.block_on(round_trip(&store, created(expires, created_at)))
    });
}

#[test]
fn dynamo_view_store_round_trips_every_instant() {
    if std::env::var_os("APIKEYD_EMULATORS").is_none_or(|v| v.is_empty()) {
        eprintln!("skipped: APIKEYD_EMULATORS is not set (run `eval \"$(bash scripts/emulators.sh start)\"` first)");
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime.block_on(async {
        let store = DynamoStore::connect(&format!("t{}", Uuid::new_v4().simple())).await;
        store.init_tables().await.unwrap();
        store
    });
    run_cases(48, |expires, created_at| {
        runtime.block_on(round_trip(&store, created(expires, created_at)))
    });
}

#[test]
fn audit_file_round_trips_every_instant() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    run_cases(256, |expires, created_at| {
        let path = dir.path().join(format!("{}.log", Uuid::new_v4()));
        let record = AuditRecord::from_event(&created(expires, created_at));
        let read = runtime.block_on(async {
            AuditFile::new(&path)
                .write(std::slice::from_ref(&record))
                .await
                .unwrap();
            audit_reader::read_file(&path, &AuditQuery::default())
                .await
                .unwrap()
        });
        prop_assert_eq!(read, vec![record]);
        Ok(())
    });
}

/// The original failure: an older version wrote a year-10000 expiry into the lookup row with
/// `to_rfc3339()`, and `parse_from_rfc3339` could not read it back, so nothing started.
#[tokio::test]
async fn sqlite_lookup_row_written_by_an_older_version_loads() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("apikeyd.db"))
        .await
        .unwrap();
    let far = Utc.with_ymd_and_hms(10000, 1, 1, 0, 59, 59).unwrap();
    let event = created(far, Utc::now());
    store
        .replace_all(&model_of(&event), &event.cursor)
        .await
        .unwrap();
    sqlx::query("UPDATE api_key_lookup SET expires_at = ?")
        .bind(far.to_rfc3339())
        .execute(store.pool())
        .await
        .unwrap();
    let (loaded, _) = store.load().await.unwrap();
    let hash = KeyHash::of(&stand_in_key());
    assert_eq!(
        loaded.lookup.get(&hash).and_then(|e| e.expires_at),
        Some(far)
    );
    assert_eq!(loaded.differences(&model_of(&event)), Vec::<String>::new());
}
