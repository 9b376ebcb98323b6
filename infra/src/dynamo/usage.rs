//! Key usage on DynamoDB: one item per key in the `usage` table (`ApiKeyId`), its own table beside
//! the views, written by every node for its own observations.
//!
//! A flush reads a key's item, merges by [`Usage::merge`] and puts it back on the condition that
//! its `Version` is still the one read; a node that lost the race reads again and merges again
//! (bounded). So counts from every node add up and an older observation never overwrites a newer
//! last use, whatever the order the nodes flush in.
use super::item::{get_n, get_s, n, s, Item};
use super::{corrupt, unavailable, DynamoStore};
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use projections::usage::{LastUse, Usage, UsageStore};
use projections::StoreError;
use uuid::Uuid;

/// Tries of one key's read-merge-put when other nodes keep winning the race.
const ATTEMPTS: usize = 8;
/// Keys merged at once.
const CONCURRENCY: usize = 16;

fn last_use_of(item: &Item) -> Result<Option<LastUse>, StoreError> {
    let Some(at) = get_s(item, "LastUsedAt") else {
        return Ok(None);
    };
    Ok(Some(LastUse {
        at: at.parse::<DateTime<Utc>>().map_err(corrupt)?,
        from: get_s(item, "LastUsedFrom").and_then(|f| f.parse().ok()),
    }))
}

impl DynamoStore {
    async fn usage_item(&self, id: &Uuid) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.usage)
            .key("ApiKeyId", s(id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item().cloned())
    }

    /// One key's read-merge-put, retried while another node's put lands in between.
    async fn merge_usage(
        &self,
        id: &Uuid,
        observed: &Usage,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for _ in 0..ATTEMPTS {
            let item = self.usage_item(id).await?;
            let version = item.as_ref().and_then(|i| get_n(i, "Version"));
            let mut merged: Usage = match item.as_ref().and_then(|i| get_s(i, "Body")) {
                Some(body) => serde_json::from_str(body).map_err(corrupt)?,
                None => Usage::default(),
            };
            merged.merge(observed, now);
            let mut put = Item::from([
                ("ApiKeyId".into(), s(id.to_string())),
                (
                    "Body".into(),
                    s(serde_json::to_string(&merged).map_err(corrupt)?),
                ),
                ("Version".into(), n(version.unwrap_or(0) + 1)),
            ]);
            if let Some(last) = merged.last {
                put.insert(
                    "LastUsedAt".into(),
                    s(last.at.to_rfc3339_opts(SecondsFormat::Micros, true)),
                );
                if let Some(from) = last.from {
                    put.insert("LastUsedFrom".into(), s(from.to_string()));
                }
            }
            let request = self
                .client
                .put_item()
                .table_name(&self.tables.usage)
                .set_item(Some(put));
            let request = match version {
                Some(v) => request
                    .condition_expression("Version = :v")
                    .expression_attribute_values(":v", n(v)),
                None => request.condition_expression("attribute_not_exists(ApiKeyId)"),
            };
            match request.send().await {
                Ok(_) => return Ok(()),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
                {
                    continue
                }
                Err(e) => return Err(unavailable(e)),
            }
        }
        Err(unavailable(format!(
            "usage of key {id}: {ATTEMPTS} concurrent writes in a row"
        )))
    }
}

#[async_trait]
impl UsageStore for DynamoStore {
    async fn last_uses(&self) -> Result<Vec<(Uuid, LastUse)>, StoreError> {
        let mut uses = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.tables.usage)
                .projection_expression("ApiKeyId, LastUsedAt, LastUsedFrom")
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items() {
                let id =
                    get_s(item, "ApiKeyId").ok_or_else(|| corrupt("usage item lacks ApiKeyId"))?;
                if let Some(last) = last_use_of(item)? {
                    uses.push((id.parse().map_err(corrupt)?, last));
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(uses);
            }
        }
    }

    async fn usage(&self, id: &Uuid) -> Result<Option<Usage>, StoreError> {
        let item = self.usage_item(id).await?;
        item.as_ref()
            .and_then(|i| get_s(i, "Body"))
            .map(|body| serde_json::from_str(body).map_err(corrupt))
            .transpose()
    }

    async fn add(&self, observed: &[(Uuid, Usage)], now: DateTime<Utc>) -> Result<(), StoreError> {
        for chunk in observed.chunks(CONCURRENCY) {
            futures::future::try_join_all(
                chunk
                    .iter()
                    .map(|(id, usage)| self.merge_usage(id, usage, now)),
            )
            .await?;
        }
        Ok(())
    }
}
