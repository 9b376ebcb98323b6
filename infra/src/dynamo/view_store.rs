//! Persisted views on DynamoDB. Every node writes every row it folds; writes are conditional on the
//! row's aggregate version, so they are idempotent, order-independent and never move a row back.
//! Deleted rows become tombstones (they keep their version) so a late, older write cannot revive them.
use super::item::{get_bool, get_n, get_s, n, s, Item};
use super::user_keys::Membership;
use super::view_index::{kind_of, KIND};
use super::{corrupt, unavailable, DynamoStore};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::try_join_all;
use projections::key_listing::{ApiKeyView, KeyChange};
use projections::key_lookup::LookupEntry;
use projections::read_model::version_key;
use projections::role_directory::{RoleView, UserRolesView};
use projections::{ReadModel, StoreError, ViewChanges, ViewStore};
use std::collections::HashMap;

/// Checkpoint name of the persisted views.
const VIEWS_CHECKPOINT: &str = "views";

/// The attribute that makes a lookup row a previous secret's: when its grace ends.
const GRACE_UNTIL: &str = "GraceUntil";

/// A lookup row's settings (JSON), present only on keys that have any.
const POLICY: &str = "Policy";

/// A lookup row's hash and entry.
fn lookup_entry(item: &Item) -> Result<(domain::KeyHash, LookupEntry), StoreError> {
    let text =
        |name: &str| get_s(item, name).ok_or_else(|| corrupt(format!("lookup row lacks {name}")));
    let hash = domain::KeyHash::from_hex(text("KeyHash")?).map_err(corrupt)?;
    let entry = LookupEntry {
        api_key_id: text("ApiKeyId")?.parse().map_err(corrupt)?,
        user_id: domain::UserId::from_stored(text("UserId")?),
        is_active: get_bool(item, "IsActive"),
        expires_at: get_s(item, "ExpiresAt")
            .map(crate::stored_time::read)
            .transpose()
            .map_err(corrupt)?,
        policy: match get_s(item, POLICY) {
            Some(text) => {
                LookupEntry::policy_of(&crate::stored_policy::read(text).map_err(corrupt)?)
            }
            None => None,
        },
    };
    Ok((hash, entry))
}

/// Every secret a listing row has: the current one, and the previous one while in grace.
fn secrets_of(view: &ApiKeyView) -> Vec<domain::KeyHash> {
    std::iter::once(view.key_hash)
        .chain(view.secret.previous_key.map(|g| g.key_hash))
        .collect()
}

/// The lookup rows of a listing row, by hash: the current secret's, and the previous one's (with
/// [`GRACE_UNTIL`]) while in grace.
fn lookup_rows(view: &ApiKeyView) -> Vec<(domain::KeyHash, Item)> {
    let row = |hash: domain::KeyHash| {
        let mut item = Item::from([
            ("KeyHash".into(), s(hash.to_hex())),
            ("ApiKeyId".into(), s(view.api_key_id.to_string())),
            ("UserId".into(), s(view.user_id.as_ref())),
            ("IsActive".into(), AttributeValue::Bool(view.is_active)),
        ]);
        if let Some(at) = view.expires_at {
            item.insert("ExpiresAt".into(), s(crate::stored_time::write(at)));
        }
        if let Some(policy) = crate::stored_policy::write(&view.policy) {
            item.insert(POLICY.into(), s(policy));
        }
        item
    };
    let mut rows = vec![(view.key_hash, row(view.key_hash))];
    if let Some(grace) = view.secret.previous_key {
        let mut item = row(grace.key_hash);
        item.insert(
            GRACE_UNTIL.into(),
            s(crate::stored_time::write(grace.until)),
        );
        rows.push((grace.key_hash, item));
    }
    rows
}

fn body<T: serde::Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_json::to_string(value)
        .map(AttributeValue::S)
        .map_err(corrupt)
}

impl DynamoStore {
    /// Puts `item` unless the stored row already has a version ≥ `version`.
    async fn put_versioned(
        &self,
        table: &str,
        mut item: Item,
        version: u64,
    ) -> Result<(), StoreError> {
        item.insert("Version".into(), n(version));
        let result = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(Version) OR Version < :v")
            .expression_attribute_values(":v", n(version))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn view_row(
        &self,
        id: String,
        version: u64,
        payload: Option<AttributeValue>,
    ) -> Result<(), StoreError> {
        let mut item = Item::new();
        match payload {
            Some(body) => {
                // Live rows enter the `Kind-ViewId` index; tombstones stay out of it.
                if let Some(kind) = kind_of(&id) {
                    item.insert(KIND.into(), s(kind));
                }
                item.insert("Body".into(), body)
            }
            None => item.insert("Deleted".into(), AttributeValue::Bool(true)),
        };
        item.insert("ViewId".into(), s(id));
        self.put_versioned(&self.tables.views, item, version).await
    }

    /// One row of the views table, consistently read.
    pub(super) async fn get_view_item(&self, id: &str) -> Result<Option<Item>, StoreError> {
        self.get_view(id).await
    }

    /// A JSON-bodied row, or its tombstone when `view` is `None`.
    async fn body_row<T: serde::Serialize>(
        &self,
        id: String,
        version: u64,
        view: Option<&T>,
    ) -> Result<(), StoreError> {
        self.view_row(id, version, view.map(body).transpose()?)
            .await
    }

    async fn get_view(&self, id: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.views)
            .key("ViewId", s(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item().cloned())
    }

    /// A key's stored listing row (`None` when absent or deleted).
    pub(super) async fn stored_key(
        &self,
        id: &uuid::Uuid,
    ) -> Result<Option<ApiKeyView>, StoreError> {
        let item = self.get_view(&format!("key#{id}")).await?;
        item.as_ref()
            .filter(|i| !get_bool(i, "Deleted"))
            .and_then(|i| get_s(i, "Body"))
            .map(serde_json::from_str::<ApiKeyView>)
            .transpose()
            .map_err(corrupt)
    }

    /// Writes a key's listing row and its lookup rows: one for the current secret, one for the
    /// previous secret while its grace runs (what a node that has not folded the key yet finds),
    /// and a tombstone for every secret `old` had that `view` no longer has (deleted key, replaced
    /// or ended grace). `old` is the stored row this change applies to, when known.
    async fn write_key(
        &self,
        id: &uuid::Uuid,
        old: Option<&ApiKeyView>,
        view: Option<&ApiKeyView>,
        version: u64,
    ) -> Result<(), StoreError> {
        let row = format!("key#{id}");
        let stored;
        let old = match (old, view) {
            (Some(old), _) => Some(old),
            // The hashes of a deleted key are only in its previous listing row.
            (None, None) => {
                stored = self.stored_key(id).await?;
                stored.as_ref()
            }
            (None, Some(_)) => None,
        };
        let rows = view.map(lookup_rows).unwrap_or_default();
        let gone = old
            .map(secrets_of)
            .unwrap_or_default()
            .into_iter()
            .filter(|hash| !rows.iter().any(|(kept, _)| kept == hash));
        let tombstones: Vec<Item> = gone
            .map(|hash| {
                Item::from([
                    ("KeyHash".into(), s(hash.to_hex())),
                    ("Deleted".into(), AttributeValue::Bool(true)),
                ])
            })
            .collect();
        let writes = rows
            .into_iter()
            .map(|(_, item)| item)
            .chain(tombstones)
            .map(|item| self.put_versioned(&self.tables.lookup, item, version));
        // The user's set holds every live key before its row is written and after its tombstone.
        if let (None, Some(created)) = (old, view) {
            self.note_user_key(&created.user_id, id, Membership::Join)
                .await?;
        }
        try_join_all(writes).await?;
        self.view_row(row, version, view.map(body).transpose()?)
            .await?;
        if let (Some(deleted), None) = (old, view) {
            self.note_user_key(&deleted.user_id, id, Membership::Leave)
                .await?;
        }
        Ok(())
    }

    pub(super) async fn scan_all(&self, table: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            items.extend(page.items().iter().cloned());
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// Deletes every row of a table (rebuild).
    async fn clear(&self, table: &str, key: &str) -> Result<(), StoreError> {
        for chunk in self.scan_all(table).await?.chunks(32) {
            try_join_all(chunk.iter().map(|item| async move {
                let id = item
                    .get(key)
                    .cloned()
                    .ok_or_else(|| corrupt("row without key"))?;
                self.client
                    .delete_item()
                    .table_name(table)
                    .key(key, id)
                    .send()
                    .await
                    .map_err(unavailable)
                    .map(|_| ())
            }))
            .await?;
        }
        Ok(())
    }

    async fn write_changes(&self, changes: &ViewChanges) -> Result<(), StoreError> {
        let versions: HashMap<&str, u64> = changes
            .versions
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        let version = |t: &str, id: &str| {
            versions
                .get(version_key(t, id).as_str())
                .copied()
                .unwrap_or(0)
        };
        let keys = changes.keys.iter().map(|(id, change)| async move {
            let view = match change {
                KeyChange::Put(view) => (None, Some(view.clone())),
                KeyChange::Delete => (None, None),
                KeyChange::Patch(patch) => match self.stored_key(id).await? {
                    Some(stored) => {
                        let mut view = stored.clone();
                        patch.apply_to(&mut view);
                        (Some(stored), Some(view))
                    }
                    // Nothing to patch: a newer delete is already stored.
                    None => return Ok(()),
                },
            };
            let (old, view) = view;
            let version = version("ApiKey", &id.to_string());
            self.write_key(id, old.as_ref(), view.as_ref(), version)
                .await
        });
        try_join_all(keys).await?;
        let roles = changes.roles.iter().map(|(name, view)| {
            let row = format!("role#{name}");
            self.body_row(row, version("Role", name.as_ref()), view.as_ref())
        });
        try_join_all(roles).await?;
        let users = changes.users.iter().map(|(user, view)| {
            let row = format!("user#{user}");
            self.body_row(row, version("UserRoles", user.as_ref()), view.as_ref())
        });
        try_join_all(users).await?;
        let versioned = changes.versions.iter().map(|(key, v)| {
            let item = Item::from([("ViewId".into(), s(format!("version#{key}")))]);
            self.put_versioned(&self.tables.views, item, *v)
        });
        try_join_all(versioned).await?;
        Ok(())
    }

    /// The current secrets' rows; a grace comes from the key's listing row (loaded first), so a
    /// grace row is only read by the look-up of a key memory does not know.
    fn load_lookup(model: &mut ReadModel, items: &[Item]) -> Result<(), StoreError> {
        let current = items
            .iter()
            .filter(|i| !get_bool(i, "Deleted") && !i.contains_key(GRACE_UNTIL));
        for item in current {
            let (hash, entry) = lookup_entry(item)?;
            // Rows load before the lookup, so a live key's name is known here.
            let listed = model.listing.get(&entry.api_key_id);
            let name = listed.map(|v| v.api_key_name.clone()).unwrap_or_default();
            let grace = listed.and_then(|v| v.secret.previous_key);
            let id = entry.api_key_id;
            model.lookup.insert(hash, entry, &name);
            model.lookup.set_grace(&id, grace);
        }
        Ok(())
    }
}

#[async_trait]
impl ViewStore for DynamoStore {
    async fn load(&self) -> Result<(ReadModel, String), StoreError> {
        let mut model = ReadModel::default();
        // The checkpoint first: other nodes save views while this one scans, so rows scanned after
        // it are at least as new, and replaying from it re-reads what they already hold (versions
        // skip it) instead of skipping what they lack.
        let cursor = self.checkpoint(VIEWS_CHECKPOINT).await?;
        for item in self.scan_all(&self.tables.views).await? {
            let id = get_s(&item, "ViewId").unwrap_or_default();
            let payload = get_s(&item, "Body").filter(|_| !get_bool(&item, "Deleted"));
            let (kind, rest) = id.split_once('#').unwrap_or((id, ""));
            match (kind, payload) {
                ("key", Some(b)) => model
                    .listing
                    .upsert(serde_json::from_str(b).map_err(corrupt)?),
                ("role", Some(b)) => {
                    let view: RoleView = serde_json::from_str(b).map_err(corrupt)?;
                    model
                        .directory
                        .roles
                        .insert(view.definition.role_name.clone(), view);
                }
                ("user", Some(b)) => {
                    let view: UserRolesView = serde_json::from_str(b).map_err(corrupt)?;
                    model.directory.users.insert(view.user_id.clone(), view);
                }
                ("version", _) => {
                    model.set_version(rest.to_owned(), get_n(&item, "Version").unwrap_or(0))
                }
                _ => {}
            }
        }
        Self::load_lookup(&mut model, &self.scan_all(&self.tables.lookup).await?)?;
        Ok((model, cursor))
    }

    /// A server keeps no listing rows (listings are queries of the views' index), a bounded key
    /// cache that starts empty (a key is read from the lookup table when first presented), and the
    /// roles and user roles read from the index: no key row is read, so a start costs the same
    /// whatever the number of keys. The checkpoint is read first; the start replays the feed from
    /// [`projections::EventFeed::replay_from`] it, which also covers the index trailing its table.
    async fn load_for_serving(&self) -> Result<(ReadModel, String), StoreError> {
        let cursor = self.checkpoint(VIEWS_CHECKPOINT).await?;
        let mut model = ReadModel::cached(self.cache_keys);
        self.load_directory(&mut model).await?;
        Ok((model, cursor))
    }

    async fn save(&self, changes: &ViewChanges, cursor: &str) -> Result<(), StoreError> {
        self.write_changes(changes).await?;
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.views)
            .item("ViewId", s(format!("checkpoint#{VIEWS_CHECKPOINT}")))
            .item("Cursor", s(cursor))
            .condition_expression("attribute_not_exists(#c) OR #c < :c")
            .expression_attribute_names("#c", "Cursor")
            .expression_attribute_values(":c", s(cursor))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn replace_all(&self, model: &ReadModel, cursor: &str) -> Result<(), StoreError> {
        self.clear(&self.tables.lookup, "KeyHash").await?;
        let checkpoints: Vec<Item> = self
            .scan_all(&self.tables.views)
            .await?
            .into_iter()
            .filter(|i| get_s(i, "ViewId").is_some_and(|id| id.starts_with("checkpoint#")))
            .collect();
        self.clear(&self.tables.views, "ViewId").await?;
        for item in checkpoints {
            let name = get_s(&item, "ViewId")
                .unwrap_or_default()
                .trim_start_matches("checkpoint#");
            if name != VIEWS_CHECKPOINT {
                self.set_checkpoint(name, get_s(&item, "Cursor").unwrap_or_default())
                    .await?;
            }
        }
        let changes = ViewChanges::everything(model);
        self.write_changes(&changes).await?;
        self.set_checkpoint(VIEWS_CHECKPOINT, cursor).await
    }

    async fn checkpoint(&self, name: &str) -> Result<String, StoreError> {
        let item = self.get_view(&format!("checkpoint#{name}")).await?;
        Ok(item
            .as_ref()
            .and_then(|i| get_s(i, "Cursor"))
            .unwrap_or_default()
            .to_owned())
    }

    async fn set_checkpoint(&self, name: &str, cursor: &str) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.tables.views)
            .item("ViewId", s(format!("checkpoint#{name}")))
            .item("Cursor", s(cursor))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

/// A cold look-up is one consistent `GetItem`: the user's roles come from the node's directory.
#[async_trait]
impl projections::miss::LookupFallback for DynamoStore {
    async fn lookup(
        &self,
        hash: &domain::KeyHash,
    ) -> Result<Option<projections::miss::StoredKey>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.lookup)
            .key("KeyHash", s(hash.to_hex()))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = out.item().filter(|i| !get_bool(i, "Deleted")) else {
            return Ok(None);
        };
        let (_, mut entry) = lookup_entry(item)?;
        let grace = match get_s(item, GRACE_UNTIL) {
            Some(until) => {
                // A previous secret: valid until its grace ends, never past the key's expiry.
                let until = crate::stored_time::read(until).map_err(corrupt)?;
                if until <= chrono::Utc::now() {
                    return Ok(None);
                }
                entry.expires_at = Some(entry.expires_at.map_or(until, |e| e.min(until)));
                true
            }
            None => false,
        };
        Ok(Some(projections::miss::StoredKey {
            entry,
            version: get_n(item, "Version").unwrap_or(0),
            grace,
        }))
    }
}

/// Rows per `BatchWriteItem` (DynamoDB's limit).
const BATCH_WRITE: usize = 25;

/// Batches in flight while seeding.
const SEED_CONCURRENCY: usize = 16;

impl DynamoStore {
    /// Writes the rows that `views` leave in the views and lookup tables (each key's listing row,
    /// its secret's lookup row and its user's key row, in the format [`ViewStore::save`] writes),
    /// 25 to a `BatchWriteItem`, with no version condition and no event: how a benchmark fills
    /// tables with many keys quickly. Only for tables nothing else writes (`apikeyd bench seed`).
    pub async fn seed_key_rows(&self, views: &[ApiKeyView]) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        use futures::stream::{StreamExt, TryStreamExt};
        let mut writes: Vec<(&str, Item)> = Vec::with_capacity(views.len() * 3);
        for view in views {
            let mut row = Item::from([
                ("ViewId".into(), s(format!("key#{}", view.api_key_id))),
                ("Body".into(), body(view)?),
                ("Version".into(), n(view.version)),
            ]);
            if let Some(kind) = kind_of(&format!("key#{}", view.api_key_id)) {
                row.insert(KIND.into(), s(kind));
            }
            writes.push((&self.tables.views, row));
            writes.push((
                &self.tables.views,
                super::user_keys::user_key_row(&view.user_id, &view.api_key_id),
            ));
            for (_, mut item) in lookup_rows(view) {
                item.insert("Version".into(), n(view.version));
                writes.push((&self.tables.lookup, item));
            }
        }
        let batches: Vec<Vec<(&str, Item)>> = writes
            .chunks(BATCH_WRITE)
            .map(<[(&str, Item)]>::to_vec)
            .collect();
        futures::stream::iter(batches)
            .map(|batch| async move {
                let mut pending: HashMap<String, Vec<WriteRequest>> = HashMap::new();
                for (table, item) in batch {
                    let put = PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .map_err(corrupt)?;
                    pending
                        .entry(table.to_owned())
                        .or_default()
                        .push(WriteRequest::builder().put_request(put).build());
                }
                // DynamoDB may leave some writes unprocessed under load: send those again.
                while !pending.is_empty() {
                    let out = self
                        .client
                        .batch_write_item()
                        .set_request_items(Some(pending))
                        .send()
                        .await
                        .map_err(unavailable)?;
                    pending = out.unprocessed_items().cloned().unwrap_or_default();
                    pending.retain(|_, requests| !requests.is_empty());
                }
                Ok::<_, StoreError>(())
            })
            .buffer_unordered(SEED_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }
}
