//! The import rate into the embedded store, printed (not asserted: timings are the machine's). Run
//! with `cargo test --release -p tests --test import -- --ignored --nocapture import_rate` after
//! `cargo build --release -p api --bin apikeyd`; docs/BENCHMARKS.md records the result.
use crate::env::Emulators;
use crate::vams::{key_item, vams_key, Vams};
use tests::{spawn_app_on, Backend};

/// Keys in the measured deployment.
const KEYS: usize = 10_000;

#[tokio::test]
#[ignore = "measurement: run on purpose, see docs/BENCHMARKS.md"]
async fn import_rate() {
    if Emulators::or_skip("import rate").is_none() {
        return;
    }
    let app = spawn_app_on(Backend::Embedded).await;
    let vams = Vams::create().await;
    vams.put_role("reader", "Reads assets").await;
    vams.put_user_role("alice", "reader").await;
    let items = (0..KEYS)
        .map(|i| {
            let id = uuid::Uuid::new_v4().to_string();
            key_item(
                &id,
                &format!("key-{i:05}"),
                &vams_key(),
                "alice",
                "",
                "true",
            )
        })
        .collect();
    vams.put_many(&vams.api_keys, items).await;
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
    let output = tests::binary::run(app.backend, app.data_path(), &args, &[]).await;
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert_eq!(report["imported"]["apiKeys"], KEYS, "{report}");
    let seconds = report["seconds"].as_f64().unwrap_or(0.0);
    let writing = report["writeSeconds"].as_f64().unwrap_or(0.0);
    println!(
        "imported {KEYS} keys in {seconds:.2}s: {:.0} keys/s over the whole run (scan, plan, write, \
         views, audit); writing alone {writing:.2}s: {:.0} keys/s",
        report["keysPerSecond"].as_f64().unwrap_or(0.0),
        KEYS as f64 / writing.max(1e-9)
    );
}
