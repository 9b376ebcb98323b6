//! The authentication hot path: hash the presented key, look it up among N live keys, decide.
//!
//! `cargo bench -p projections --bench verify` (results in docs/BENCHMARKS.md). Also prints the
//! resident memory the read model takes per key.
use chrono::Utc;
use common::{key, model};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use domain::KeyHash;
use std::hint::black_box;

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
