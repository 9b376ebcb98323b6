//! Typed helpers for rotation (`POST /auth/api-keys/{id}/rotate`) and leak reports
//! (`POST /auth/exposures`).
use crate::call::{Api, Reply};
use crate::keys::{created, key_path, CreatedKey};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// How long a leak report's background deactivation may take before a test gives up.
pub const REPORT_DEADLINE: Duration = Duration::from_secs(15);

impl Api {
    /// `POST /auth/api-keys/{id}/rotate` with `body`, as admin.
    pub async fn rotate_key_with(&self, id: &str, body: &Value) -> Reply {
        self.post(&format!("{}/rotate", key_path(id)))
            .json(body)
            .send()
            .await
    }

    /// Rotates with a grace of `grace` seconds and asserts it worked: the new key and the answer.
    pub async fn rotate_key(&self, id: &str, grace: u64) -> CreatedKey {
        let reply = self
            .rotate_key_with(id, &json!({ "gracePeriodSeconds": grace }))
            .await;
        created(&reply)
    }

    /// `POST /auth/exposures` without any key of ours in the header.
    pub async fn report_exposure(&self, keys: &[&str], source: &str) -> Reply {
        self.post("/auth/exposures")
            .anonymous()
            .json(&json!({ "keys": keys, "source": source }))
            .send()
            .await
    }

    /// Polls the admin view of key `id` until `isActive` is `"false"` (a leak report's background
    /// deactivation), within [`REPORT_DEADLINE`]; returns the item.
    pub async fn wait_until_deactivated(&self, id: &str) -> Value {
        let started = Instant::now();
        loop {
            let item = self.get_key(id).await.ok().clone();
            if item["isActive"] == "false" {
                return item;
            }
            assert!(
                started.elapsed() < REPORT_DEADLINE,
                "key {id} still active after {REPORT_DEADLINE:?}: {item}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
