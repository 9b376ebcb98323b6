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

criterion_group!(benches, verify, formats);
criterion_main!(benches);
