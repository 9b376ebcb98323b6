//! A lease in the views table: one node at a time does a job (delivering the shared audit stream).
use super::item::{get_n, get_s, n, s};
use super::DynamoStore;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// How long a lease lasts without renewal: a dead holder is replaced after at most this.
const LEASE_TTL: Duration = Duration::from_secs(10);
/// Renew when less than this is left.
const RENEW_MARGIN: Duration = Duration::from_secs(6);

/// A named lease held (or sought) by this node.
pub struct Lease {
    store: DynamoStore,
    name: String,
    owner: String,
    /// Until when we hold it (epoch ms; 0 = not held).
    held_until: AtomicI64,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Lease {
    /// A lease called `name` for this process.
    pub fn new(store: DynamoStore, name: &str) -> Self {
        Self {
            store,
            name: name.to_owned(),
            owner: uuid::Uuid::new_v4().to_string(),
            held_until: AtomicI64::new(0),
        }
    }

    /// True while this node holds the lease; takes or renews it as needed. A store error means
    /// "not held": the job waits rather than risking two holders.
    pub async fn hold(&self) -> bool {
        let now = now_ms();
        if self.held_until.load(Ordering::Acquire) - now > RENEW_MARGIN.as_millis() as i64 {
            return true;
        }
        let until = now + LEASE_TTL.as_millis() as i64;
        let result = self
            .store
            .client
            .put_item()
            .table_name(&self.store.tables.views)
            .item("ViewId", s(format!("lease#{}", self.name)))
            .item("Owner", s(&self.owner))
            .item("ExpiresAt", n(until))
            .condition_expression("attribute_not_exists(ViewId) OR #o = :me OR ExpiresAt < :now")
            .expression_attribute_names("#o", "Owner")
            .expression_attribute_values(":me", s(&self.owner))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match result {
            Ok(_) => {
                self.held_until.store(until, Ordering::Release);
                true
            }
            Err(e) => {
                if !e
                    .as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception())
                {
                    tracing::warn!(lease = %self.name, error = %DisplayErrorContext(e), "lease renewal failed");
                }
                self.held_until.store(0, Ordering::Release);
                false
            }
        }
    }

    /// Who holds the lease and until when (tests, diagnostics).
    pub async fn holder(&self) -> Option<(String, i64)> {
        let item = self
            .store
            .get_view_item(&format!("lease#{}", self.name))
            .await
            .ok()??;
        Some((
            get_s(&item, "Owner")?.to_owned(),
            get_n(&item, "ExpiresAt")? as i64,
        ))
    }
}
