//! Benchmark helper: adds N keys to the persisted views of an embedded store (listing and lookup
//! rows, versions), leaving the views checkpoint where it is. A server started on the file then
//! loads those keys from the lookup rows exactly as it would after taking N creates, which is what
//! start-to-ready and resident memory at a million keys measure. The log does not get the events:
//! use `apikeyd bench seed` for a store `projections verify` accepts.
//!
//! `cargo run --release -p infra --example seed_views -- <apikeyd.db> <N> [user]`
use chrono::Utc;
use domain::{KeyHash, UserId};
use projections::key_listing::{ApiKeyView, KeyChange};
use projections::{ViewChanges, ViewStore};
use std::path::PathBuf;
use uuid::Uuid;

const CHUNK: usize = 20_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().expect("usage: seed_views <db> <N> [user]"));
    let keys: usize = args.next().expect("N").parse()?;
    let user = UserId::from_stored(args.next().unwrap_or_else(|| "admin".into()));
    let store = infra::SqliteStore::open(&path).await?;
    let cursor = store.checkpoint("views").await?;
    let now = Utc::now();
    let started = std::time::Instant::now();
    for chunk in (0..keys).collect::<Vec<_>>().chunks(CHUNK) {
        let mut changes = ViewChanges::default();
        for &n in chunk {
            let id = Uuid::new_v4();
            let view = ApiKeyView {
                api_key_id: id,
                api_key_name: format!("bench-key-{n:07}"),
                user_id: user.clone(),
                description: format!("benchmark key number {n}"),
                key_hash: KeyHash::of(&format!("vams_bench{n:0>40}")),
                created_by: "bench".into(),
                created_at: now,
                updated_at: now,
                expires_at: None,
                is_active: true,
                version: 1,
                secret: Default::default(),
                policy: Default::default(),
            };
            changes.versions.push((format!("ApiKey:{id}"), 1));
            changes.keys.push((id, KeyChange::Put(view)));
        }
        store.save(&changes, &cursor).await?;
    }
    eprintln!("{keys} keys in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
