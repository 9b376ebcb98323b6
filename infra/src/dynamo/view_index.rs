//! The views table's sparse index `Kind-ViewId`: live listing rows (spread over
//! [`KEY_SHARDS`] partitions), role rows and user-roles rows, so listings and the directory are
//! read by paginated queries instead of a scan of everything. Tombstones, versions, checkpoints
//! and leases carry no `Kind` and stay out of it.
//!
//! Index reads are eventually consistent (DynamoDB has no consistent reads on a global secondary
//! index): a row shows up there a few milliseconds after its write.
use super::item::{get_bool, get_s, s, Item};
use super::user_keys::Membership;
use super::{corrupt, unavailable, DynamoStore};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndex,
    GlobalSecondaryIndexUpdate, IndexStatus, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};
use projections::key_listing::ApiKeyView;
use projections::read_model::version_key;
use projections::role_directory::{RoleView, UserRolesView};
use projections::{ReadModel, StoreError};
use std::time::{Duration, Instant};

/// The index's name.
pub(super) const INDEX: &str = "Kind-ViewId";
/// The attribute the index is keyed by.
pub(super) const KIND: &str = "Kind";
/// Partitions of the listing rows in the index: a shard per key keeps one hot partition from
/// holding every key.
pub(super) const KEY_SHARDS: u8 = 16;
/// The row that says every live row carries its `Kind` (the backfill ran).
const MARKER: &str = "meta#kind-index";
/// How long a start waits for the index to become active. DynamoDB builds an index added to a
/// table with rows by reading all of them, which can take minutes on a large table.
const INDEX_ACTIVE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Why the index could not be described, added or waited for.
#[derive(Debug, thiserror::Error)]
pub enum ViewIndexError {
    /// The index's definition was refused before it was sent (a bug, not the store's state).
    #[error("index {INDEX}: invalid definition")]
    Definition(#[source] aws_sdk_dynamodb::error::BuildError),
    /// The index did not become active in time.
    #[error("index {INDEX} not active after {0:?}")]
    NotActive(Duration),
}

/// The `Kind` of the views row `view_id`: `key#<shard>` for a listing row, `role`, `user`, or
/// none for rows the index does not hold.
pub(super) fn kind_of(view_id: &str) -> Option<String> {
    let (kind, rest) = view_id.split_once('#')?;
    match kind {
        "key" => rest
            .parse::<uuid::Uuid>()
            .ok()
            .map(|id| key_kind(id.as_bytes()[15] % KEY_SHARDS)),
        "role" => Some("role".into()),
        "user" => Some("user".into()),
        _ => None,
    }
}

/// The `Kind` of the listing rows of one shard.
pub(super) fn key_kind(shard: u8) -> String {
    format!("key#{shard}")
}

/// The index as the views table is created with it and as it is added to an existing table.
pub(super) fn index_key_schema(
) -> Result<Vec<KeySchemaElement>, aws_sdk_dynamodb::error::BuildError> {
    Ok(vec![
        KeySchemaElement::builder()
            .attribute_name(KIND)
            .key_type(KeyType::Hash)
            .build()?,
        KeySchemaElement::builder()
            .attribute_name("ViewId")
            .key_type(KeyType::Range)
            .build()?,
    ])
}

/// The attribute the index adds to the views table's definitions (`ViewId` is the table's key).
pub(super) fn kind_attribute() -> Result<AttributeDefinition, aws_sdk_dynamodb::error::BuildError> {
    AttributeDefinition::builder()
        .attribute_name(KIND)
        .attribute_type(ScalarAttributeType::S)
        .build()
}

/// The index of a new views table.
pub(super) fn index_definition() -> Result<GlobalSecondaryIndex, aws_sdk_dynamodb::error::BuildError>
{
    GlobalSecondaryIndex::builder()
        .index_name(INDEX)
        .set_key_schema(Some(index_key_schema()?))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
}

impl DynamoStore {
    /// Makes the views table's `Kind-ViewId` index usable: adds it to a table created before it
    /// (and waits until it is active), gives every live row written before it its `Kind`, then
    /// writes a marker row so later calls cost one consistent GetItem. Idempotent, and safe to run
    /// from several nodes at once. [`DynamoStore::init_tables`] runs it; a server started without
    /// creating tables should run it before serving listings.
    pub async fn ensure_view_index(&self) -> Result<(), StoreError> {
        if self.get_view_item(MARKER).await?.is_some() {
            return Ok(());
        }
        let patient = self.patient();
        patient.add_view_index().await?;
        patient.backfill_kind().await?;
        self.client
            .put_item()
            .table_name(&self.tables.views)
            .item("ViewId", s(MARKER))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// The index's status, `None` when the table has no such index.
    async fn view_index_status(&self) -> Result<Option<IndexStatus>, StoreError> {
        let described = self
            .client
            .describe_table()
            .table_name(&self.tables.views)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(described
            .table()
            .map(|t| t.global_secondary_indexes())
            .unwrap_or_default()
            .iter()
            .find(|i| i.index_name() == Some(INDEX))
            .map(|i| i.index_status().cloned().unwrap_or(IndexStatus::Creating)))
    }

    /// Adds the index unless the table has it, then waits until it is active.
    async fn add_view_index(&self) -> Result<(), StoreError> {
        if self.view_index_status().await?.is_none() {
            let create = CreateGlobalSecondaryIndexAction::builder()
                .index_name(INDEX)
                .set_key_schema(Some(
                    index_key_schema().map_err(|e| corrupt(ViewIndexError::Definition(e)))?,
                ))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .map_err(|e| corrupt(ViewIndexError::Definition(e)))?;
            let added = self
                .client
                .update_table()
                .table_name(&self.tables.views)
                .attribute_definitions(
                    kind_attribute().map_err(|e| corrupt(ViewIndexError::Definition(e)))?,
                )
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name("ViewId")
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .map_err(|e| corrupt(ViewIndexError::Definition(e)))?,
                )
                .global_secondary_index_updates(
                    GlobalSecondaryIndexUpdate::builder().create(create).build(),
                )
                .send()
                .await;
            // A node starting at the same time may have added it first (the loser's request is
            // refused: the index exists, or the table is being updated); the index is all it wanted.
            if let Err(error) = added {
                if self.view_index_status().await?.is_none() {
                    return Err(unavailable(error));
                }
            }
        }
        let deadline = Instant::now() + INDEX_ACTIVE_TIMEOUT;
        loop {
            if self.view_index_status().await? == Some(IndexStatus::Active) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(unavailable(ViewIndexError::NotActive(INDEX_ACTIVE_TIMEOUT)));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Sets `Kind` on every live row of the index's kinds that lacks it (rows written before the
    /// index) and puts every live key in its user's key set, one scanned page at a time. Each update is conditional on the row still being live
    /// and without `Kind`, so a row deleted or rewritten meanwhile is left as it is.
    async fn backfill_kind(&self) -> Result<(), StoreError> {
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.tables.views)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            let missing = page.items().iter().filter_map(|item| {
                let id = get_s(item, "ViewId")?;
                let live = !get_bool(item, "Deleted") && item.contains_key("Body");
                (live && !item.contains_key(KIND))
                    .then(|| kind_of(id).map(|kind| (id.to_owned(), kind)))
                    .flatten()
            });
            let updates = missing.map(|(id, kind)| self.set_kind(id, kind));
            futures::future::try_join_all(updates).await?;
            // Keys written before the users' key sets join them (an idempotent set update).
            let keys = page.items().iter().filter(|item| {
                get_s(item, "ViewId").is_some_and(|id| id.starts_with("key#"))
                    && !get_bool(item, "Deleted")
                    && item.contains_key("Body")
            });
            let joins = keys.map(|item| async move {
                let view: ApiKeyView = body_of(item)?;
                self.note_user_key(&view.user_id, &view.api_key_id, Membership::Join)
                    .await
            });
            futures::future::try_join_all(joins).await?;
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(());
            }
        }
    }

    async fn set_kind(&self, id: String, kind: String) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.views)
            .key("ViewId", s(id))
            .update_expression("SET #k = :k")
            .condition_expression(
                "attribute_exists(Body) AND attribute_not_exists(#k) \
                 AND (attribute_not_exists(Deleted) OR Deleted = :false)",
            )
            .expression_attribute_names("#k", KIND)
            .expression_attribute_values(":k", s(kind))
            .expression_attribute_values(
                ":false",
                aws_sdk_dynamodb::types::AttributeValue::Bool(false),
            )
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

    /// Every row of one `Kind` in the index, page by page (eventually consistent).
    pub(super) async fn query_kind(
        &self,
        kind: &str,
        mut each: impl FnMut(&Item) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.tables.views)
                .index_name(INDEX)
                .key_condition_expression("#k = :k")
                .expression_attribute_names("#k", KIND)
                .expression_attribute_values(":k", s(kind))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items() {
                each(item)?;
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(());
            }
        }
    }

    /// Reads the role and user-roles rows from the index into `model.directory`, with each
    /// aggregate's version, as [`projections::ViewStore::load`] does, without reading any key row.
    /// Index reads trail writes by the index's propagation (milliseconds): a start replays the
    /// feed from the views checkpoint read before this, and the versions skip what it re-reads.
    pub async fn load_directory(&self, model: &mut ReadModel) -> Result<(), StoreError> {
        let mut roles = Vec::new();
        self.query_kind("role", |item| {
            roles.push(body_of::<RoleView>(item)?);
            Ok(())
        })
        .await?;
        let mut users = Vec::new();
        self.query_kind("user", |item| {
            users.push(body_of::<UserRolesView>(item)?);
            Ok(())
        })
        .await?;
        for view in roles {
            let name = view.definition.role_name.clone();
            model.set_version(version_key("Role", name.as_ref()), view.version);
            model.directory.roles.insert(name, view);
        }
        for view in users {
            model.set_version(
                version_key("UserRoles", view.user_id.as_ref()),
                view.version,
            );
            model.directory.users.insert(view.user_id.clone(), view);
        }
        Ok(())
    }
}

/// The JSON body of an indexed row (indexed rows are live, so they have one).
pub(super) fn body_of<T: serde::de::DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    let body = get_s(item, "Body").ok_or(super::DynamoError::MissingAttribute("Body"))?;
    serde_json::from_str(body).map_err(corrupt)
}
