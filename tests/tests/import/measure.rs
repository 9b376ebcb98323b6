//! The import rate into the embedded store, printed with its baseline (not asserted: timings are the
//! machine's). `cargo test --release -p tests --test import -- --ignored --nocapture import_rate`
//! after `cargo build --release -p api --bin apikeyd`; docs/BENCHMARKS.md records the result.
//!
//! Baseline, measured in the same run: a raw scan of the same VAMS table (every page, items
//! transferred, nothing done with them), the least any import of it must spend. The import runs
//! end to end as the `apikeyd` binary (scan, plan, bulk write, views, audit) next to the server.
use crate::env::Emulators;
use crate::vams::{key_item, vams_key, Vams};
use std::time::{Duration, Instant};
use tests::{spawn_app_on, Backend};

/// Keys in the measured deployment (`APIKEYD_IMPORT_KEYS` overrides, bounded to 100 000).
const KEYS: usize = 10_000;

fn keys() -> usize {
    std::env::var("APIKEYD_IMPORT_KEYS")
        .ok()
        .and_then(|n| n.parse().ok())
        .map_or(KEYS, |n: usize| n.clamp(1, 100_000))
}

#[tokio::test]
#[ignore = "measurement: run on purpose, see docs/BENCHMARKS.md"]
async fn import_rate() {
    if Emulators::or_skip("import rate").is_none() {
        return;
    }
    let keys = keys();
    let app = spawn_app_on(Backend::Embedded).await;
    let vams = Vams::create().await;
    vams.put_role("reader", "Reads assets").await;
    vams.put_user_role("alice", "reader").await;
    let items = (0..keys)
        .map(|i| {
            let id = uuid::Uuid::new_v4().to_string();
            key_item(
                &id,
                &format!("key-{i:06}"),
                &vams_key(),
                "alice",
                "",
                "true",
            )
        })
        .collect();
    vams.put_many(&vams.api_keys, items).await;

    let scan_started = Instant::now();
    let scanned = vams.scan_count(&vams.api_keys).await;
    let scan = scan_started.elapsed();
    assert_eq!(scanned, keys);

    let args = [
        "import",
        "vams",
        "--api-keys-table",
        &vams.api_keys,
        "--user-roles-table",
        &vams.user_roles,
        "--roles-table",
        &vams.roles,
        "--json",
    ];
    let started = Instant::now();
    let output = tests::binary::run(app.backend, app.data_path(), &args, &[]).await;
    let run = started.elapsed();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert_eq!(report["imported"]["apiKeys"], keys, "{report}");

    let rate = |d: Duration| keys as f64 / d.as_secs_f64().max(1e-9);
    let seconds = |field: &str| Duration::from_secs_f64(report[field].as_f64().unwrap_or(0.0));
    let (read, write) = (seconds("readSeconds"), seconds("writeSeconds"));
    println!(
        "raw scan of {keys} VAMS keys: {:.2}s, {:.0} items/s (baseline)\n\
         apikeyd import vams end to end (process start to exit): {:.2}s, {:.0} keys/s = {:.2} of the raw scan rate\n\
         inside the run: reading VAMS {:.2}s ({:.0} items/s), writing {:.2}s ({:.0} keys/s)",
        scan.as_secs_f64(),
        rate(scan),
        run.as_secs_f64(),
        rate(run),
        rate(run) / rate(scan),
        read.as_secs_f64(),
        rate(read),
        write.as_secs_f64(),
        rate(write),
    );
}
