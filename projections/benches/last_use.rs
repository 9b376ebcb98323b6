//! What recording a key's last use adds to a verification: the lookup alone against the lookup
//! plus [`UsageTracker::record`], same model, same run.
//!
//! `cargo bench -p projections --bench last_use` (results in docs/BENCHMARKS.md). The "spread"
//! cases record 10 000 distinct keys in turn from 200 addresses (the maps already hold them, as
//! between two flushes); "one key" records the same key from one address.
use chrono::Utc;
use common::{key, model};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use projections::usage::UsageTracker;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use uuid::Uuid;

mod common;

const KEYS: usize = 10_000;

fn last_use(c: &mut Criterion) {
    let model = model(KEYS);
    let keys: Vec<String> = (0..KEYS).map(key).collect();
    let ips: Vec<IpAddr> = (0..200u32)
        .map(|n| IpAddr::V4(Ipv4Addr::from(0xC633_6400 + n)))
        .collect();
    let tracker = UsageTracker::new(true);
    let mut group = c.benchmark_group("last_use");
    group.throughput(Throughput::Elements(1));
    let mut n = 0usize;
    group.bench_function(BenchmarkId::new("verify", "spread"), |b| {
        b.iter(|| {
            n = (n + 1) % KEYS;
            black_box(model.verify(black_box(&keys[n]), Utc::now(), None))
        })
    });
    group.bench_function(BenchmarkId::new("verify_and_record", "spread"), |b| {
        b.iter(|| {
            n = (n + 1) % KEYS;
            let now = Utc::now();
            let verified = model.verify(black_box(&keys[n]), now, None);
            if let Some(p) = &verified.principal {
                tracker.record(p.api_key_id, Some(ips[n % ips.len()]), now);
            }
            black_box(verified)
        })
    });
    group.bench_function(BenchmarkId::new("verify_and_record", "one key"), |b| {
        b.iter(|| {
            let now = Utc::now();
            let verified = model.verify(black_box(&keys[7]), now, None);
            if let Some(p) = &verified.principal {
                tracker.record(p.api_key_id, Some(ips[0]), now);
            }
            black_box(verified)
        })
    });
    group.bench_function(BenchmarkId::new("record_only", "spread"), |b| {
        let ids: Vec<Uuid> = keys
            .iter()
            .filter_map(|k| model.verify(k, Utc::now(), None).api_key_id)
            .collect();
        b.iter(|| {
            n = (n + 1) % ids.len();
            tracker.record(black_box(ids[n]), Some(ips[n % ips.len()]), Utc::now());
        })
    });
    group.finish();
}

criterion_group!(benches, last_use);
criterion_main!(benches);
