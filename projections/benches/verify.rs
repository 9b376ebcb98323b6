//! The authentication hot path: hash the presented key, look it up among N live keys, decide.
//!
//! `cargo bench -p projections --bench verify` (results in docs/BENCHMARKS.md). Also prints the
//! resident memory the read model takes per key.
use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use domain::api_key::ApiKeyEvent;
use domain::role::{RoleDefinition, RoleEvent};
use domain::user_roles::UserRolesEvent;
use domain::{Actor, ApiKeyName, Description, KeyHash, RoleName, UserId};
use projections::{DomainEvent, ReadModel, RecordedEvent};
use std::collections::HashMap;
use std::hint::black_box;
use uuid::Uuid;

fn recorded(aggregate_type: &str, id: String, event: DomainEvent) -> RecordedEvent {
    RecordedEvent {
        cursor: String::new(),
        aggregate_type: aggregate_type.into(),
        aggregate_id: id,
        sequence: 1,
        event,
        metadata: HashMap::new(),
        recorded_at: Utc::now(),
    }
}

fn key(n: usize) -> String {
    format!("vams_{n:0>64}")
}

/// A model with `keys` live keys spread over 1 000 users who all hold a role: the compact model
/// an embedded server keeps (listing rows in the persisted views).
fn model(keys: usize) -> ReadModel {
    let at = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    let role = RoleName::parse("reader").unwrap();
    let mut model = ReadModel::compact();
    model.apply(&recorded(
        "Role",
        "reader".into(),
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
            created_at: at,
        }),
    ));
    for u in 0..1000 {
        let user = UserId::parse(&format!("user-{u}")).unwrap();
        model.apply(&recorded(
            "UserRoles",
            user.to_string(),
            DomainEvent::UserRoles(UserRolesEvent::RolesAssigned {
                user_id: user,
                roles: vec![role.clone()],
                assigned_by: Actor::system(),
                assigned_at: at,
            }),
        ));
    }
    for n in 0..keys {
        let id = Uuid::from_u128(n as u128 + 1);
        model.apply(&recorded(
            "ApiKey",
            id.to_string(),
            DomainEvent::ApiKey(ApiKeyEvent::ApiKeyCreated {
                api_key_id: id,
                api_key_name: ApiKeyName::parse(&format!("key-{n}")).unwrap(),
                user_id: UserId::parse(&format!("user-{}", n % 1000)).unwrap(),
                description: Description::parse("benchmark key").unwrap(),
                key_hash: KeyHash::of(&key(n)),
                expires_at: None,
                created_by: Actor::system(),
                created_at: at,
            }),
        ));
    }
    model
}

fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

fn verify(c: &mut Criterion) {
    let now = Utc::now();
    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(1));
    for keys in [1_000usize, 1_000_000] {
        let before = resident_bytes();
        let model = model(keys);
        let after = resident_bytes();
        eprintln!(
            "read model with {keys} keys: {:.0} bytes resident per key",
            after.saturating_sub(before) as f64 / keys as f64
        );
        let hit = key(keys / 2);
        let miss = key(keys + 7);
        group.bench_with_input(BenchmarkId::new("valid", keys), &hit, |b, k| {
            b.iter(|| black_box(model.verify(black_box(k), now)))
        });
        group.bench_with_input(BenchmarkId::new("unknown", keys), &miss, |b, k| {
            b.iter(|| black_box(model.verify(black_box(k), now)))
        });
    }
    group.bench_function("sha256_only", |b| {
        let k = key(1);
        b.iter(|| black_box(KeyHash::of(black_box(&k))))
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
