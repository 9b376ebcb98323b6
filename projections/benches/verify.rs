//! The authentication hot path: hash the presented key, look it up among N live keys, decide.
//!
//! `cargo bench -p projections --bench verify` (results in docs/BENCHMARKS.md). Also prints the
//! resident memory the read model takes per key. The `formats` group compares, in one run, a
//! checksummed key with a VAMS-format one, a previous secret in grace, and the cost of refusing a
//! key whose checksum fails (`MALFORMED`, never hashed) against an unknown key (hash and miss).
use chrono::Utc;
use common::{checksummed, key, model, model_of, recorded};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use domain::api_key::ApiKeyEvent;
use domain::KeyHash;
use domain::{Actor, ApiKeyName, UserId};
use projections::{DomainEvent, RecordedEvent};
use std::hint::black_box;
use uuid::Uuid;

mod common;

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
            b.iter(|| black_box(model.verify(black_box(k), now, None)))
        });
        group.bench_with_input(BenchmarkId::new("unknown", keys), &miss, |b, k| {
            b.iter(|| black_box(model.verify(black_box(k), now, None)))
        });
    }
    group.bench_function("sha256_only", |b| {
        let k = key(1);
        b.iter(|| black_box(KeyHash::of(black_box(&k))))
    });
    group.finish();
}

/// Checksummed against VAMS-format keys, a previous secret in grace, and a failed checksum against
/// an unknown key, among 100 000 keys of which 1 000 are in a grace.
fn formats(c: &mut Criterion) {
    const KEYS: usize = 100_000;
    const ROTATED: usize = 1_000;
    let now = Utc::now();
    let mut group = c.benchmark_group("formats");
    group.throughput(Throughput::Elements(1));
    let mut model = model_of(KEYS, checksummed);
    for n in 0..ROTATED {
        let id = Uuid::from_u128(n as u128 + 1);
        model.apply(&RecordedEvent {
            sequence: 2,
            ..recorded(
                "ApiKey",
                id.to_string(),
                DomainEvent::ApiKey(ApiKeyEvent::ApiKeyRotated {
                    api_key_id: id,
                    api_key_name: ApiKeyName::parse(&format!("key-{n}")).unwrap(),
                    user_id: UserId::parse(&format!("user-{}", n % 1000)).unwrap(),
                    key_hash: KeyHash::of(&key(n)),
                    previous_key_hash: KeyHash::of(&checksummed(n)),
                    previous_key_expires_at: now + chrono::Duration::days(1),
                    grace_period_seconds: domain::GracePeriod::DEFAULT,
                    rotated_by: Actor::system(),
                    rotated_at: now,
                }),
            )
        });
    }
    assert_eq!(model.lookup.graces(), ROTATED);
    let mut bad = checksummed(KEYS / 2).into_bytes();
    bad[20] = if bad[20] == b'a' { b'b' } else { b'a' };
    let bad = String::from_utf8(bad).unwrap();
    let cases = [
        ("legacy_valid", key(ROTATED / 2), "VALID"),
        ("checksummed_valid", checksummed(KEYS / 2), "VALID"),
        ("grace_valid", checksummed(ROTATED / 2), "VALID"),
        ("legacy_unknown", key(KEYS + 7), "NOT_FOUND"),
        ("checksummed_unknown", checksummed(KEYS + 7), "NOT_FOUND"),
        ("bad_checksum", bad, "MALFORMED"),
    ];
    for (name, presented, code) in cases {
        assert_eq!(
            model.verify(&presented, now, None).code.as_str(),
            code,
            "{name}"
        );
        group.bench_function(name, |b| {
            b.iter(|| black_box(model.verify(black_box(&presented), now, None)))
        });
    }
    group.finish();
}

/// A key with all four settings (role scope, rate limit, allowed networks, metadata) against one
/// with none, among 100 000 keys of which 1 000 have settings: the allowlist scan, the role
/// intersection and the limiter's count (`admit_now`, what the request path calls) included.
fn settings(c: &mut Criterion) {
    use domain::api_key::{ApiKeyChanges, Change};
    use domain::key_policy::{AllowedCidrs, KeyMeta, KeyRoles, RateLimit};
    use projections::key_rate::KeyRateLimiter;
    const KEYS: usize = 100_000;
    const SET: usize = 1_000;
    let now = Utc::now();
    let mut model = model_of(KEYS, checksummed);
    for n in 0..SET {
        let id = Uuid::from_u128(n as u128 + 1);
        let changes = ApiKeyChanges {
            roles: Some(Change {
                old: None,
                new: Some(KeyRoles::parse(["reader", "writer"]).unwrap()),
            }),
            rate_limit: Some(Change {
                old: None,
                new: Some(RateLimit::new(1_000_000, 1).unwrap()),
            }),
            allowed_cidrs: Some(Change {
                old: None,
                new: Some(
                    AllowedCidrs::parse(["10.0.0.0/8", "192.0.2.0/24", "127.0.0.0/8"]).unwrap(),
                ),
            }),
            meta: Some(Change {
                old: None,
                new: Some(KeyMeta::parse(serde_json::json!({"team": "bench", "tier": 3})).unwrap()),
            }),
            ..ApiKeyChanges::default()
        };
        model.apply(&RecordedEvent {
            sequence: 2,
            ..recorded(
                "ApiKey",
                id.to_string(),
                DomainEvent::ApiKey(ApiKeyEvent::ApiKeyUpdated {
                    api_key_id: id,
                    api_key_name: ApiKeyName::parse(&format!("key-{n}")).unwrap(),
                    user_id: UserId::parse(&format!("user-{}", n % 1000)).unwrap(),
                    changes,
                    updated_by: Actor::system(),
                    updated_at: now,
                }),
            )
        });
    }
    assert_eq!(model.lookup.policies(), SET);
    let client = Some(std::net::IpAddr::from([127, 0, 0, 1]));
    let limiter = KeyRateLimiter::local();
    let mut group = c.benchmark_group("settings");
    group.throughput(Throughput::Elements(1));
    let cases = [
        ("none", checksummed(KEYS / 2)),
        ("all_four", checksummed(SET / 2)),
    ];
    for (name, presented) in cases {
        group.bench_function(name, |b| {
            b.iter(|| {
                let v = model.verify(black_box(&presented), now, client);
                let p = v.principal.as_ref().expect("valid");
                if let Some(limit) = p.policy.as_ref().and_then(|p| p.rate_limit) {
                    // Millions of iterations fill the window: admitting and refusing cost the
                    // same (one count compared), so either outcome measures the counter.
                    let admission =
                        limiter.admit_now(p.api_key_id, limit.limit(), limit.period_seconds(), now);
                    black_box(admission);
                }
                black_box(v)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, verify, formats, settings);
criterion_main!(benches);
