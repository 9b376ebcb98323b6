//! The fold and the verification decision, on hand-made events.
use chrono::{Duration, TimeZone, Utc};
use domain::api_key::{ApiKeyChanges, ApiKeyEvent, Change};
use domain::role::{RoleDefinition, RoleEvent};
use domain::user_roles::UserRolesEvent;
use domain::{Actor, ApiKeyName, Description, Expiration, KeyHash, RoleName, UserId};
use projections::read_model::Applied;
use projections::verify::VerifyCode;
use projections::{DomainEvent, ReadModel, RecordedEvent};
use std::collections::HashMap;
use uuid::Uuid;

const KEY: &str = concat!("vams_", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ");

fn at(seconds: i64) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap() + Duration::seconds(seconds)
}

fn recorded(aggregate_type: &str, id: &str, sequence: u64, event: DomainEvent) -> RecordedEvent {
    RecordedEvent {
        cursor: format!("{sequence:020}"),
        aggregate_type: aggregate_type.into(),
        aggregate_id: id.into(),
        sequence,
        event,
        metadata: HashMap::new(),
        recorded_at: at(0),
    }
}

fn key_id() -> Uuid {
    Uuid::from_u128(42)
}

fn created(expires: Option<i64>) -> RecordedEvent {
    let event = ApiKeyEvent::ApiKeyCreated {
        api_key_id: key_id(),
        api_key_name: ApiKeyName::parse("ci").unwrap(),
        user_id: UserId::parse("alice").unwrap(),
        description: Description::parse("d").unwrap(),
        key_hash: KeyHash::of(KEY),
        expires_at: expires.map(|s| Expiration::from_utc(at(s))),
        created_by: Actor::system(),
        created_at: at(0),
        policy: Default::default(),
    };
    recorded(
        "ApiKey",
        &key_id().to_string(),
        1,
        DomainEvent::ApiKey(event),
    )
}

fn deactivated(sequence: u64) -> RecordedEvent {
    let event = ApiKeyEvent::ApiKeyUpdated {
        api_key_id: key_id(),
        api_key_name: ApiKeyName::parse("ci").unwrap(),
        user_id: UserId::parse("alice").unwrap(),
        changes: ApiKeyChanges {
            is_active: Some(Change {
                old: true,
                new: false,
            }),
            ..Default::default()
        },
        updated_by: Actor::system(),
        updated_at: at(5),
    };
    recorded(
        "ApiKey",
        &key_id().to_string(),
        sequence,
        DomainEvent::ApiKey(event),
    )
}

fn role_and_assignment() -> Vec<RecordedEvent> {
    let role = RoleName::parse("reader").unwrap();
    vec![
        recorded(
            "Role",
            "reader",
            1,
            DomainEvent::Role(RoleEvent::RoleCreated {
                id: Uuid::nil(),
                definition: RoleDefinition {
                    role_name: role.clone(),
                    description: Description::parse("r").unwrap(),
                    source: None,
                    source_identifier: None,
                    mfa_required: false,
                },
                created_by: Actor::system(),
                created_at: at(0),
            }),
        ),
        recorded(
            "UserRoles",
            "alice",
            1,
            DomainEvent::UserRoles(UserRolesEvent::RolesAssigned {
                user_id: UserId::parse("alice").unwrap(),
                roles: vec![role],
                assigned_by: Actor::system(),
                assigned_at: at(0),
            }),
        ),
    ]
}

fn model_with(events: &[RecordedEvent]) -> ReadModel {
    let mut model = ReadModel::default();
    for e in events {
        assert!(matches!(model.apply(e), Applied::Changed(_)), "{e:?}");
    }
    model
}

#[test]
fn verify_codes_follow_the_key_state() {
    let mut events = role_and_assignment();
    events.push(created(Some(60)));
    let mut model = model_with(&events);
    let valid = model.verify(KEY, at(1), None);
    assert_eq!(valid.code, VerifyCode::Valid);
    assert_eq!(
        valid.principal.unwrap().roles,
        vec![RoleName::parse("reader").unwrap()]
    );
    assert_eq!(model.verify(KEY, at(60), None).code, VerifyCode::Expired);
    assert_eq!(
        model.verify("vams_unknownkey", at(1), None).code,
        VerifyCode::NotFound
    );
    for malformed in [
        "",
        "Bearer",
        "vams_",
        "vams_has space",
        "nope_abc",
        &"vams_x".repeat(200),
    ] {
        assert_eq!(
            model.verify(malformed, at(1), None).code,
            VerifyCode::Malformed,
            "{malformed}"
        );
    }
    model.apply(&deactivated(2));
    assert_eq!(model.verify(KEY, at(1), None).code, VerifyCode::Disabled);
}

#[test]
fn key_without_roles_is_refused() {
    let model = model_with(&[created(None)]);
    assert_eq!(model.verify(KEY, at(1), None).code, VerifyCode::NoRoles);
}

#[test]
fn replayed_events_are_duplicates_and_gaps_are_reported() {
    let mut model = model_with(&[created(None)]);
    let before = model.clone();
    assert_eq!(model.apply(&created(None)), Applied::Duplicate);
    assert_eq!(model, before, "a re-read changes nothing");
    assert!(matches!(model.apply(&deactivated(3)), Applied::Gap { .. }));
    assert_eq!(model, before, "a gap changes nothing until filled");
}

#[test]
fn listing_pages_by_id_with_filter() {
    let mut model = ReadModel::default();
    for n in 0..5u128 {
        let id = Uuid::from_u128(n + 1);
        let event = ApiKeyEvent::ApiKeyCreated {
            api_key_id: id,
            api_key_name: ApiKeyName::parse(&format!("key-{n}")).unwrap(),
            user_id: UserId::parse(if n % 2 == 0 { "even-user" } else { "odd-user" }).unwrap(),
            description: Description::parse("Deploys").unwrap(),
            key_hash: KeyHash::of(&format!("vams_{n}")),
            expires_at: None,
            created_by: Actor::system(),
            created_at: at(0),
            policy: Default::default(),
        };
        model.apply(&recorded(
            "ApiKey",
            &id.to_string(),
            1,
            DomainEvent::ApiKey(event),
        ));
    }
    let first = model.listing.page(None, None, Some(2));
    assert_eq!(first.items.len(), 2);
    let token: Uuid = first.next_token.unwrap().parse().unwrap();
    let second = model.listing.page(None, Some(token), Some(2));
    let third = model
        .listing
        .page(None, second.next_token.map(|t| t.parse().unwrap()), Some(2));
    assert_eq!(third.items.len(), 1);
    assert!(third.next_token.is_none());
    assert_eq!(model.listing.page(Some("ODD"), None, None).items.len(), 2);
    assert_eq!(
        model.listing.page(Some("deploys"), None, None).items.len(),
        5
    );
}

/// A log in memory that counts how often it is read.
#[derive(Default)]
struct CountingFeed {
    events: std::sync::Mutex<Vec<RecordedEvent>>,
    reads: std::sync::atomic::AtomicUsize,
}

impl CountingFeed {
    fn append(&self, event: RecordedEvent) {
        self.events.lock().unwrap().push(event);
    }
    fn reads(&self) -> usize {
        self.reads.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl projections::EventFeed for CountingFeed {
    async fn events_after(
        &self,
        cursor: &str,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, projections::StoreError> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let events = self.events.lock().unwrap();
        let after = events.iter().filter(|e| e.cursor.as_str() > cursor);
        Ok(after.take(limit).cloned().collect())
    }
    async fn aggregate_events(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<RecordedEvent>, projections::StoreError> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let events = self.events.lock().unwrap();
        let of = events
            .iter()
            .filter(|e| e.aggregate_type == aggregate_type && e.aggregate_id == aggregate_id);
        Ok(of.cloned().collect())
    }
}

/// Views that hold nothing and accept every write.
struct NoViews;

#[async_trait::async_trait]
impl projections::ViewStore for NoViews {
    async fn load(&self) -> Result<(ReadModel, String), projections::StoreError> {
        Ok((ReadModel::default(), String::new()))
    }
    async fn save(
        &self,
        _: &projections::ViewChanges,
        _: &str,
    ) -> Result<(), projections::StoreError> {
        Ok(())
    }
    async fn replace_all(&self, _: &ReadModel, _: &str) -> Result<(), projections::StoreError> {
        Ok(())
    }
    async fn checkpoint(&self, _: &str) -> Result<String, projections::StoreError> {
        Ok(String::new())
    }
    async fn set_checkpoint(&self, _: &str, _: &str) -> Result<(), projections::StoreError> {
        Ok(())
    }
}

async fn projector_over(
    feed: &std::sync::Arc<CountingFeed>,
) -> std::sync::Arc<projections::Projector> {
    projections::Projector::start(feed.clone(), std::sync::Arc::new(NoViews), Vec::new())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_commit_of_this_process_is_folded_without_reading_the_log() {
    let feed = std::sync::Arc::new(CountingFeed::default());
    for event in role_and_assignment() {
        feed.append(event);
    }
    let projector = projector_over(&feed).await;
    let reads = feed.reads();
    let mut create = created(None);
    create.cursor = format!("{:020}", 100);
    feed.append(create.clone());
    projector.committed(&[create]).await.unwrap();
    assert_eq!(
        projector.read().verify(KEY, at(1), None).code,
        VerifyCode::Valid
    );
    assert_eq!(feed.reads(), reads, "the commit's own events need no read");
    // The next pass over the log finds it already folded.
    projector.catch_up_memory().await.unwrap();
    assert_eq!(
        projector.read().verify(KEY, at(1), None).code,
        VerifyCode::Valid
    );
}

#[tokio::test]
async fn a_commit_on_a_stream_memory_has_not_seen_is_folded_from_the_log() {
    let feed = std::sync::Arc::new(CountingFeed::default());
    for event in role_and_assignment() {
        feed.append(event);
    }
    let projector = projector_over(&feed).await;
    // Another process created the key; this one deactivates it before its memory saw the create.
    let mut create = created(None);
    create.cursor = format!("{:020}", 100);
    let mut deactivate = deactivated(2);
    deactivate.cursor = format!("{:020}", 101);
    feed.append(create);
    feed.append(deactivate.clone());
    let reads = feed.reads();
    projector.committed(&[deactivate]).await.unwrap();
    assert!(feed.reads() > reads);
    assert_eq!(
        projector.read().verify(KEY, at(1), None).code,
        VerifyCode::Disabled
    );
}

fn source() -> domain::ImportSource {
    domain::ImportSource {
        system: "vams".into(),
        table: "vams-ApiKeyStorageTable".into(),
        imported_by: Actor::system(),
        imported_at: at(100),
    }
}

fn imported(is_active: bool, expires: Option<i64>) -> RecordedEvent {
    let event = ApiKeyEvent::ApiKeyImported {
        api_key_id: key_id(),
        api_key_name: ApiKeyName::parse("ci").unwrap(),
        user_id: UserId::parse("alice").unwrap(),
        description: Description::parse("d").unwrap(),
        key_hash: KeyHash::of(KEY),
        expires_at: expires.map(|s| Expiration::from_utc(at(s))),
        is_active,
        created_by: Actor::recorded("vams-admin"),
        created_at: at(-50),
        updated_at: at(-10),
        source: source(),
    };
    recorded(
        "ApiKey",
        &key_id().to_string(),
        1,
        DomainEvent::ApiKey(event),
    )
}

#[test]
fn an_imported_key_keeps_its_state_and_times_and_authenticates() {
    let mut events = role_and_assignment();
    events.push(imported(true, None));
    let model = model_with(&events);
    let view = model.listing.get(&key_id()).expect("listed");
    assert_eq!((view.created_at, view.updated_at), (at(-50), at(-10)));
    assert_eq!(view.created_by, "vams-admin");
    assert_eq!(model.verify(KEY, at(200), None).code, VerifyCode::Valid);

    let mut inactive = role_and_assignment();
    inactive.push(imported(false, None));
    assert_eq!(
        model_with(&inactive).verify(KEY, at(200), None).code,
        VerifyCode::Disabled
    );

    let mut expired = role_and_assignment();
    expired.push(imported(true, Some(-1)));
    assert_eq!(
        model_with(&expired).verify(KEY, at(200), None).code,
        VerifyCode::Expired
    );
}

#[test]
fn an_import_update_changes_the_fields_and_takes_vams_time() {
    let mut events = role_and_assignment();
    events.push(imported(true, None));
    let update = ApiKeyEvent::ApiKeyImportUpdated {
        api_key_id: key_id(),
        api_key_name: ApiKeyName::parse("ci").unwrap(),
        user_id: UserId::parse("alice").unwrap(),
        changes: ApiKeyChanges {
            is_active: Some(Change {
                old: true,
                new: false,
            }),
            ..Default::default()
        },
        updated_at: at(50),
        source: source(),
    };
    events.push(recorded(
        "ApiKey",
        &key_id().to_string(),
        2,
        DomainEvent::ApiKey(update),
    ));
    let model = model_with(&events);
    assert_eq!(model.listing.get(&key_id()).unwrap().updated_at, at(50));
    assert_eq!(model.verify(KEY, at(200), None).code, VerifyCode::Disabled);
}

fn deleted(sequence: u64) -> RecordedEvent {
    let event = ApiKeyEvent::ApiKeyDeleted {
        api_key_id: key_id(),
        api_key_name: ApiKeyName::parse("ci").unwrap(),
        user_id: UserId::parse("alice").unwrap(),
        deleted_by: Actor::system(),
        deleted_at: at(9),
    };
    recorded(
        "ApiKey",
        &key_id().to_string(),
        sequence,
        DomainEvent::ApiKey(event),
    )
}

#[test]
fn a_compact_model_authenticates_like_the_full_one_and_keeps_deleted_versions() {
    let mut events = role_and_assignment();
    events.extend([created(Some(60)), deactivated(2)]);
    let full = model_with(&events);
    let mut compact = ReadModel::compact();
    for e in &events {
        compact.apply(e);
    }
    assert!(compact.listing.is_empty(), "no listing rows in memory");
    assert_eq!(compact.lookup, full.lookup);
    let entry = compact.lookup.get(&KeyHash::of(KEY)).expect("known");
    assert!(!entry.is_active);
    assert_eq!(entry.expires_at, Some(at(60)));
    assert_eq!(compact.verify(KEY, at(1), None).code, VerifyCode::Disabled);
    assert!(compact.name_in_use("ci"));

    assert!(matches!(compact.apply(&deleted(3)), Applied::Changed(_)));
    assert!(compact.lookup.get(&KeyHash::of(KEY)).is_none());
    assert!(!compact.name_in_use("ci"), "a deleted key frees its name");
    assert_eq!(
        compact.lookup.version(&key_id()),
        3,
        "a deleted key keeps its version"
    );
    assert_eq!(compact.apply(&deleted(3)), Applied::Duplicate);
}

#[test]
fn accumulated_key_changes_leave_the_row_sequential_folding_leaves() {
    use projections::key_listing::{KeyChange, KeyListing};
    use projections::read_model::key_change;
    let events = [created(None), deactivated(2)];
    let mut stepwise = KeyListing::default();
    let mut merged: Option<KeyChange> = None;
    for e in &events {
        let DomainEvent::ApiKey(event) = &e.event else {
            unreachable!()
        };
        let (id, change) = key_change(event, e.sequence);
        stepwise.apply(&id, &change);
        merged = Some(match merged {
            Some(earlier) => earlier.then(change),
            None => change,
        });
    }
    let mut at_once = KeyListing::default();
    at_once.apply(&key_id(), merged.as_ref().unwrap());
    assert_eq!(at_once, stepwise);
    assert!(!at_once.get(&key_id()).unwrap().is_active);
}

fn rotated(sequence: u64, old: &str, new: &str, at_s: i64, until_s: i64) -> RecordedEvent {
    let event = ApiKeyEvent::ApiKeyRotated {
        api_key_id: key_id(),
        api_key_name: ApiKeyName::parse("ci").unwrap(),
        user_id: UserId::parse("alice").unwrap(),
        key_hash: KeyHash::of(new),
        previous_key_hash: KeyHash::of(old),
        previous_key_expires_at: at(until_s),
        grace_period_seconds: domain::GracePeriod::from_seconds(until_s - at_s).unwrap(),
        rotated_by: Actor::system(),
        rotated_at: at(at_s),
    };
    let id = key_id().to_string();
    recorded("ApiKey", &id, sequence, DomainEvent::ApiKey(event))
}

fn exposed(sequence: u64, secret: &str) -> RecordedEvent {
    let event = ApiKeyEvent::ApiKeyExposed {
        api_key_id: key_id(),
        api_key_name: ApiKeyName::parse("ci").unwrap(),
        user_id: UserId::parse("alice").unwrap(),
        key_hash: KeyHash::of(secret),
        source: domain::ExposureSource::parse("https://paste.example/1").unwrap(),
        reporter_ip: "192.0.2.7".into(),
        was_active: true,
        exposed_at: at(20),
    };
    let id = key_id().to_string();
    recorded("ApiKey", &id, sequence, DomainEvent::ApiKey(event))
}

// Built from pieces so that no key-shaped literal sits in the source.
const NEW: &str = concat!("vams_", "newsecret", "0000000000000000000000000000000");
const NEWER: &str = concat!("vams_", "newersecret", "000000000000000000000000000000");

/// The model after `events`, and the same rebuilt from its listing rows only (what a compact
/// model loaded from persisted views holds): both must decide alike.
fn both(events: &[RecordedEvent]) -> [ReadModel; 2] {
    let full = model_with(events);
    let mut rebuilt = ReadModel::default();
    rebuilt.directory = full.directory.clone();
    for view in full.listing.iter() {
        rebuilt.apply_key(
            &view.api_key_id,
            &projections::key_listing::KeyChange::Put(view.clone()),
        );
    }
    assert_eq!(
        rebuilt.lookup, full.lookup,
        "the lookup follows from the rows"
    );
    [full, rebuilt]
}

#[test]
fn a_rotated_key_authenticates_with_both_secrets_until_the_grace_ends() {
    let mut events = role_and_assignment();
    events.extend([created(None), rotated(2, KEY, NEW, 10, 70)]);
    for model in both(&events) {
        assert_eq!(model.verify(NEW, at(11), None).code, VerifyCode::Valid);
        let old = model.verify(KEY, at(69), None);
        assert_eq!(old.code, VerifyCode::Valid);
        assert_eq!(old.api_key_id, Some(key_id()));
        assert_eq!(model.verify(KEY, at(70), None).code, VerifyCode::NotFound);
        assert_eq!(model.verify(NEW, at(70), None).code, VerifyCode::Valid);
        let view = model.listing.get(&key_id()).unwrap();
        assert_eq!(view.key_hash, KeyHash::of(NEW));
        assert_eq!(view.secret.rotated_at, Some(at(10)));
        assert_eq!(model.lookup.graces(), 1);
    }
}

#[test]
fn a_grace_never_outlives_the_key_and_zero_grace_stops_the_old_secret() {
    let mut events = role_and_assignment();
    events.extend([created(Some(40)), rotated(2, KEY, NEW, 10, 40)]);
    let model = model_with(&events);
    assert_eq!(model.verify(KEY, at(39), None).code, VerifyCode::Valid);
    assert_ne!(model.verify(KEY, at(40), None).code, VerifyCode::Valid);
    let mut events = role_and_assignment();
    events.extend([created(None), rotated(2, KEY, NEW, 10, 10)]);
    for model in both(&events) {
        assert_eq!(model.verify(KEY, at(10), None).code, VerifyCode::NotFound);
        assert_eq!(model.verify(NEW, at(10), None).code, VerifyCode::Valid);
        assert_eq!(model.lookup.graces(), 0, "no grace entry for a grace of 0");
    }
}

#[test]
fn rotating_again_ends_the_older_grace_and_deactivation_or_deletion_stops_both() {
    let mut events = role_and_assignment();
    events.extend([
        created(None),
        rotated(2, KEY, NEW, 10, 1000),
        rotated(3, NEW, NEWER, 20, 1000),
    ]);
    for model in both(&events) {
        assert_eq!(model.verify(KEY, at(21), None).code, VerifyCode::NotFound);
        assert_eq!(model.verify(NEW, at(21), None).code, VerifyCode::Valid);
        assert_eq!(model.verify(NEWER, at(21), None).code, VerifyCode::Valid);
    }
    let mut off = events.clone();
    off.push(deactivated(4));
    for model in both(&off) {
        assert_eq!(
            model.verify(NEW, at(21), None).code,
            VerifyCode::NotFound,
            "grace ended"
        );
        assert_eq!(model.verify(NEWER, at(21), None).code, VerifyCode::Disabled);
    }
    let mut gone = events.clone();
    gone.push(recorded(
        "ApiKey",
        &key_id().to_string(),
        4,
        DomainEvent::ApiKey(ApiKeyEvent::ApiKeyDeleted {
            api_key_id: key_id(),
            api_key_name: ApiKeyName::parse("ci").unwrap(),
            user_id: UserId::parse("alice").unwrap(),
            deleted_by: Actor::system(),
            deleted_at: at(30),
        }),
    ));
    let model = model_with(&gone);
    for secret in [NEW, NEWER] {
        assert_eq!(
            model.verify(secret, at(31), None).code,
            VerifyCode::NotFound
        );
    }
    assert_eq!(model.lookup.graces(), 0);
}

#[test]
fn a_leak_report_deactivates_the_key_and_is_listed_until_the_next_rotation() {
    let mut events = role_and_assignment();
    events.extend([
        created(None),
        rotated(2, KEY, NEW, 10, 1000),
        exposed(3, KEY),
    ]);
    for model in both(&events) {
        assert_eq!(model.verify(KEY, at(21), None).code, VerifyCode::NotFound);
        assert_eq!(model.verify(NEW, at(21), None).code, VerifyCode::Disabled);
        let view = model.listing.get(&key_id()).unwrap();
        let exposure = view.secret.exposure.as_ref().expect("reported");
        assert_eq!(exposure.source, "https://paste.example/1");
        assert!(!view.is_active);
    }
    events.push(rotated(4, NEW, NEWER, 30, 30));
    let model = model_with(&events);
    assert!(model
        .listing
        .get(&key_id())
        .unwrap()
        .secret
        .exposure
        .is_none());
}

#[test]
fn pending_row_changes_merge_rotations_as_the_fold_does() {
    use projections::read_model::key_change;
    let mut events = role_and_assignment();
    events.extend([
        created(None),
        rotated(2, KEY, NEW, 10, 1000),
        rotated(3, NEW, NEWER, 20, 1000),
    ]);
    let model = model_with(&events);
    let merged = events[2..]
        .iter()
        .map(|e| match &e.event {
            DomainEvent::ApiKey(event) => key_change(event, e.sequence).1,
            _ => unreachable!(),
        })
        .reduce(|a, b| a.then(b))
        .unwrap();
    let projections::key_listing::KeyChange::Put(view) = merged else {
        panic!("a create followed by patches is one row");
    };
    assert_eq!(&view, model.listing.get(&key_id()).unwrap());
}

#[test]
fn a_checksummed_key_with_a_wrong_checksum_is_malformed_before_any_look_up() {
    let key = domain::key_format::checksummed(&[9; 32]);
    let model = model_with(&role_and_assignment());
    assert_eq!(model.verify(&key, at(1), None).code, VerifyCode::NotFound);
    let mut typo = key.clone().into_bytes();
    typo[10] = if typo[10] == b'x' { b'y' } else { b'x' };
    let typo = String::from_utf8(typo).unwrap();
    let refused = model.verify(&typo, at(1), None);
    assert_eq!(refused.code, VerifyCode::Malformed);
    assert_eq!(refused.hash_prefix, None, "never hashed, never looked up");
    assert_eq!(
        model.verify(KEY, at(1), None).code,
        VerifyCode::NotFound,
        "legacy shape"
    );
}

fn with_settings(policy: domain::KeyPolicy) -> RecordedEvent {
    let mut event = created(None);
    if let DomainEvent::ApiKey(ApiKeyEvent::ApiKeyCreated { policy: set, .. }) = &mut event.event {
        *set = policy;
    }
    event
}

fn settings_changed(sequence: u64, changes: ApiKeyChanges) -> RecordedEvent {
    let mut event = deactivated(sequence);
    if let DomainEvent::ApiKey(ApiKeyEvent::ApiKeyUpdated { changes: set, .. }) = &mut event.event {
        *set = changes;
    }
    event
}

fn ip(raw: &str) -> Option<std::net::IpAddr> {
    Some(raw.parse().unwrap())
}

#[test]
fn settings_fold_into_the_lookup_and_the_listing_and_decide_verification() {
    use domain::key_policy::{AllowedCidrs, KeyMeta, KeyRoles};
    let pinned = domain::KeyPolicy {
        roles: Some(KeyRoles::parse(["reader", "writer"]).unwrap()),
        allowed_cidrs: Some(AllowedCidrs::parse(["10.0.0.0/8"]).unwrap()),
        meta: Some(KeyMeta::parse(serde_json::json!({"team": "ci"})).unwrap()),
        ..Default::default()
    };
    let mut events = role_and_assignment();
    events.push(with_settings(pinned.clone()));
    let mut model = model_with(&events);
    let mut compact = ReadModel::compact();
    for e in &events {
        compact.apply(e);
    }
    let inside = model.verify(KEY, at(1), ip("10.9.8.7"));
    assert_eq!(inside.code, VerifyCode::Valid);
    let principal = inside.principal.unwrap();
    assert_eq!(principal.roles, vec![RoleName::parse("reader").unwrap()]);
    assert_eq!(principal.policy.as_deref(), Some(&pinned));
    assert_eq!(
        model.verify(KEY, at(1), ip("127.0.0.1")).code,
        VerifyCode::IpNotAllowed
    );
    assert_eq!(
        model.verify(KEY, at(1), None).code,
        VerifyCode::Valid,
        "an unknown address is not judged"
    );
    // The user keeps `reader`; the scope moves to `writer` alone: nothing left to act with.
    let rescoped = settings_changed(
        2,
        ApiKeyChanges {
            roles: Some(Change {
                old: pinned.roles.clone(),
                new: Some(KeyRoles::parse(["writer"]).unwrap()),
            }),
            allowed_cidrs: Some(Change {
                old: pinned.allowed_cidrs.clone(),
                new: None,
            }),
            ..Default::default()
        },
    );
    model.apply(&rescoped);
    compact.apply(&rescoped);
    assert_eq!(
        model.verify(KEY, at(1), ip("127.0.0.1")).code,
        VerifyCode::NoRoles
    );
    let view = model.listing.get(&key_id()).unwrap();
    assert_eq!(
        view.policy.roles,
        Some(KeyRoles::parse(["writer"]).unwrap())
    );
    assert_eq!(view.policy.allowed_cidrs, None);
    assert_eq!(view.policy.meta, pinned.meta);
    // The lookup rebuilt from the listing row is the folded one, settings included.
    assert_eq!(
        ReadModel::lookup_entry(view),
        model.lookup.by_id(&key_id()).unwrap().to_entry()
    );
    assert_eq!(compact.lookup, model.lookup);
    assert_eq!(model.lookup.policies(), 1);
    // Clearing every setting leaves the key as a VAMS key: no side-table entry.
    let cleared = settings_changed(
        3,
        ApiKeyChanges {
            roles: Some(Change {
                old: Some(KeyRoles::parse(["writer"]).unwrap()),
                new: None,
            }),
            meta: Some(Change {
                old: pinned.meta.clone(),
                new: None,
            }),
            ..Default::default()
        },
    );
    model.apply(&cleared);
    assert_eq!(model.lookup.policies(), 0);
    assert!(model.listing.get(&key_id()).unwrap().policy.is_empty());
    assert_eq!(
        model.verify(KEY, at(1), ip("127.0.0.1")).code,
        VerifyCode::Valid
    );
}
