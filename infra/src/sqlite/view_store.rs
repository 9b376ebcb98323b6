//! The persisted projections and checkpoints.
use super::{store_error, SqliteStore, VIEWS_CHECKPOINT};
use async_trait::async_trait;
use futures::TryStreamExt;
use projections::key_listing::{ApiKeyView, KeyChange};
use projections::role_directory::{RoleView, UserRolesView};
use projections::{ReadModel, StoreError, ViewChanges, ViewStore};
use serde::de::DeserializeOwned;
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(corrupt)
}

/// One read snapshot: every table of a load read as of the same commit, so a save committing
/// meanwhile (another process, a node still stopping) cannot pair old rows with a newer checkpoint.
type Snapshot<'a> = Transaction<'a, Sqlite>;

impl SqliteStore {
    async fn bodies<T: DeserializeOwned>(
        tx: &mut Snapshot<'_>,
        table: &str,
    ) -> Result<Vec<T>, StoreError> {
        let rows = sqlx::query(&format!("SELECT body FROM {table}"))
            .fetch_all(&mut **tx)
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|row| {
                let body: String = row.try_get("body").map_err(corrupt)?;
                serde_json::from_str(&body).map_err(corrupt)
            })
            .collect()
    }

    /// Every lookup row, streamed (a million of them never sit in memory as rows), with the key's
    /// name and version: all a compact model needs, without reading one listing body. Rows written
    /// before the lookup carried names and versions take them from the listing and versions tables.
    async fn load_lookup(tx: &mut Snapshot<'_>, model: &mut ReadModel) -> Result<(), StoreError> {
        let mut rows = sqlx::query(
            "SELECT l.key_hash, l.api_key_id, l.user_id, l.is_active, l.expires_at,
                l.previous_key_hash, l.previous_key_expires_at,
                COALESCE(l.api_key_name, (SELECT json_extract(v.body, '$.api_key_name')
                    FROM api_key_view v WHERE v.api_key_id = l.api_key_id)) AS api_key_name,
                COALESCE(l.version, (SELECT a.version FROM aggregate_versions a
                    WHERE a.aggregate = 'ApiKey:' || l.api_key_id)) AS version
             FROM api_key_lookup l",
        )
        .fetch(&mut **tx);
        while let Some(row) = rows.try_next().await.map_err(store_error)? {
            let text = |c: &str| row.try_get::<&str, _>(c).map_err(corrupt);
            let hash = domain::KeyHash::from_hex(text("key_hash")?).map_err(corrupt)?;
            let expires: Option<&str> = row.try_get("expires_at").map_err(corrupt)?;
            let entry = projections::key_lookup::LookupEntry {
                api_key_id: text("api_key_id")?.parse().map_err(corrupt)?,
                user_id: domain::UserId::from_stored(text("user_id")?),
                is_active: row.try_get::<i64, _>("is_active").map_err(corrupt)? != 0,
                expires_at: expires
                    .map(crate::stored_time::read)
                    .transpose()
                    .map_err(corrupt)?,
            };
            let name: Option<&str> = row.try_get("api_key_name").map_err(corrupt)?;
            let version: Option<i64> = row.try_get("version").map_err(corrupt)?;
            let id = entry.api_key_id;
            model.lookup.insert(hash, entry, name.unwrap_or_default());
            model.lookup.set_version(id, version.unwrap_or(0) as u64);
            model.lookup.set_grace(&id, grace_of(&row)?);
        }
        Ok(())
    }

    async fn load_directory(
        tx: &mut Snapshot<'_>,
        model: &mut ReadModel,
    ) -> Result<(), StoreError> {
        for view in Self::bodies::<RoleView>(tx, "role_view").await? {
            model
                .directory
                .roles
                .insert(view.definition.role_name.clone(), view);
        }
        for view in Self::bodies::<UserRolesView>(tx, "user_roles_view").await? {
            model.directory.users.insert(view.user_id.clone(), view);
        }
        Ok(())
    }

    /// Aggregate versions; `keys: false` skips the keys' (a compact load has the live keys' from
    /// their lookup rows, and a deleted key's is only needed to skip a re-read, which this store's
    /// strictly ordered feed never does).
    async fn load_versions(
        tx: &mut Snapshot<'_>,
        model: &mut ReadModel,
        keys: bool,
    ) -> Result<(), StoreError> {
        let sql = match keys {
            true => "SELECT aggregate, version FROM aggregate_versions",
            false => {
                "SELECT aggregate, version FROM aggregate_versions
                      WHERE aggregate < 'ApiKey:' OR aggregate >= 'ApiKey;'"
            }
        };
        let versions = sqlx::query(sql)
            .fetch_all(&mut **tx)
            .await
            .map_err(store_error)?;
        for row in versions {
            let version: i64 = row.try_get("version").map_err(corrupt)?;
            model.set_version(row.try_get("aggregate").map_err(corrupt)?, version as u64);
        }
        Ok(())
    }
}

/// A lookup row's previous secret in grace, when it has one.
fn grace_of(row: &sqlx::sqlite::SqliteRow) -> Result<Option<domain::api_key::Grace>, StoreError> {
    let hash: Option<&str> = row.try_get("previous_key_hash").map_err(corrupt)?;
    let until: Option<&str> = row.try_get("previous_key_expires_at").map_err(corrupt)?;
    let (Some(hash), Some(until)) = (hash, until) else {
        return Ok(None);
    };
    Ok(Some(domain::api_key::Grace {
        key_hash: domain::KeyHash::from_hex(hash).map_err(corrupt)?,
        until: crate::stored_time::read(until).map_err(corrupt)?,
    }))
}

/// The row a key change leaves (`None`: no row), reading the stored row a patch applies to.
async fn changed_row(
    tx: &mut Transaction<'_, Sqlite>,
    id: &uuid::Uuid,
    change: &KeyChange,
) -> Result<Option<ApiKeyView>, StoreError> {
    match change {
        KeyChange::Put(view) => Ok(Some(view.clone())),
        KeyChange::Delete => Ok(None),
        KeyChange::Patch(patch) => {
            let body: Option<String> =
                sqlx::query_scalar("SELECT body FROM api_key_view WHERE api_key_id = ?")
                    .bind(id.to_string())
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(store_error)?;
            let Some(body) = body else {
                // Views that lost the row (edited by hand): `projections verify` reports it, and a
                // stuck save would only keep every listing unavailable.
                tracing::warn!(api_key_id = %id, "update of a key without a listing row; skipped");
                return Ok(None);
            };
            let mut view: ApiKeyView = serde_json::from_str(&body).map_err(corrupt)?;
            patch.apply_to(&mut view);
            Ok(Some(view))
        }
    }
}

async fn write_key(
    tx: &mut Transaction<'_, Sqlite>,
    id: &uuid::Uuid,
    view: Option<&ApiKeyView>,
) -> Result<(), sqlx::Error> {
    let id = id.to_string();
    sqlx::query("DELETE FROM api_key_lookup WHERE api_key_id = ?")
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    let Some(view) = view else {
        sqlx::query("DELETE FROM api_key_view WHERE api_key_id = ?")
            .bind(&id)
            .execute(&mut **tx)
            .await?;
        return Ok(());
    };
    let body = serde_json::to_string(view).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query("INSERT OR REPLACE INTO api_key_view (api_key_id, body) VALUES (?, ?)")
        .bind(&id)
        .bind(body)
        .execute(&mut **tx)
        .await?;
    let grace = view.secret.previous_key;
    sqlx::query("INSERT INTO api_key_lookup (key_hash, api_key_id, user_id, is_active, expires_at, api_key_name, version, previous_key_hash, previous_key_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(view.key_hash.to_hex())
        .bind(&id)
        .bind(view.user_id.as_ref())
        .bind(view.is_active as i64)
        .bind(view.expires_at.map(crate::stored_time::write))
        .bind(&view.api_key_name)
        .bind(view.version as i64)
        .bind(grace.map(|g| g.key_hash.to_hex()))
        .bind(grace.map(|g| crate::stored_time::write(g.until)))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn write_body(
    tx: &mut Transaction<'_, Sqlite>,
    table: &str,
    key_col: &str,
    key: &str,
    body: Option<String>,
) -> Result<(), sqlx::Error> {
    match body {
        Some(body) => {
            sqlx::query(&format!(
                "INSERT OR REPLACE INTO {table} ({key_col}, body) VALUES (?, ?)"
            ))
            .bind(key)
            .bind(body)
            .execute(&mut **tx)
            .await?
        }
        None => {
            sqlx::query(&format!("DELETE FROM {table} WHERE {key_col} = ?"))
                .bind(key)
                .execute(&mut **tx)
                .await?
        }
    };
    Ok(())
}

async fn write_changes(
    tx: &mut Transaction<'_, Sqlite>,
    changes: &ViewChanges,
) -> Result<(), StoreError> {
    for (id, change) in &changes.keys {
        let view = changed_row(tx, id, change).await?;
        write_key(tx, id, view.as_ref())
            .await
            .map_err(store_error)?;
    }
    for (name, view) in &changes.roles {
        let body = view.as_ref().map(json).transpose()?;
        write_body(tx, "role_view", "role_name", name.as_ref(), body)
            .await
            .map_err(store_error)?;
    }
    for (aggregate, version) in &changes.versions {
        sqlx::query("INSERT OR REPLACE INTO aggregate_versions (aggregate, version) VALUES (?, ?)")
            .bind(aggregate)
            .bind(*version as i64)
            .execute(&mut **tx)
            .await
            .map_err(store_error)?;
    }
    for (user, view) in &changes.users {
        let body = view.as_ref().map(json).transpose()?;
        write_body(tx, "user_roles_view", "user_id", user.as_ref(), body)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

/// A named checkpoint's cursor (`""` when unknown).
async fn position(db: impl sqlx::SqliteExecutor<'_>, name: &str) -> Result<String, StoreError> {
    let cursor: Option<String> =
        sqlx::query_scalar("SELECT cursor FROM checkpoints WHERE name = ?")
            .bind(name)
            .fetch_optional(db)
            .await
            .map_err(store_error)?;
    Ok(cursor.unwrap_or_default())
}

async fn set_position(
    tx: &mut Transaction<'_, Sqlite>,
    name: &str,
    cursor: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT OR REPLACE INTO checkpoints (name, cursor) VALUES (?, ?)")
        .bind(name)
        .bind(cursor)
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// Rows per transaction of a rebuild: large enough that the pages a commit rewrites into the WAL
/// (random keys touch most of an index's pages) are written once for many rows, small enough that
/// the WAL stays bounded.
const ROWS_PER_TRANSACTION: usize = 20_000;

/// Rows per `INSERT` of a rebuild (seven parameters each, well under SQLite's limit of 32 766).
const ROWS_PER_STATEMENT: usize = 500;

fn all_rows<K: Clone, V: Clone>(map: &std::collections::BTreeMap<K, V>) -> Vec<(K, Option<V>)> {
    map.iter()
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .collect()
}

/// Listing and lookup rows of `views`, into tables a rebuild has emptied.
async fn insert_keys(
    tx: &mut Transaction<'_, Sqlite>,
    views: &[&ApiKeyView],
) -> Result<(), StoreError> {
    let bodies = views.iter().map(json).collect::<Result<Vec<_>, _>>()?;
    let mut listing = QueryBuilder::<Sqlite>::new("INSERT INTO api_key_view (api_key_id, body) ");
    listing.push_values(views.iter().zip(bodies), |mut row, (view, body)| {
        row.push_bind(view.api_key_id.to_string()).push_bind(body);
    });
    execute(tx, listing).await?;
    let mut lookup = QueryBuilder::<Sqlite>::new(
        "INSERT INTO api_key_lookup (key_hash, api_key_id, user_id, is_active, expires_at, previous_key_hash, previous_key_expires_at) ",
    );
    lookup.push_values(views, |mut row, view| {
        let grace = view.secret.previous_key;
        row.push_bind(view.key_hash.to_hex())
            .push_bind(view.api_key_id.to_string())
            .push_bind(view.user_id.as_ref().to_owned())
            .push_bind(view.is_active as i64)
            .push_bind(view.expires_at.map(crate::stored_time::write))
            .push_bind(grace.map(|g| g.key_hash.to_hex()))
            .push_bind(grace.map(|g| crate::stored_time::write(g.until)));
    });
    execute(tx, lookup).await?;
    Ok(())
}

async fn execute(
    tx: &mut Transaction<'_, Sqlite>,
    mut query: QueryBuilder<'_, Sqlite>,
) -> Result<(), StoreError> {
    query
        .build()
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
    Ok(())
}

async fn insert_versions(
    tx: &mut Transaction<'_, Sqlite>,
    versions: &[(String, u64)],
) -> Result<(), StoreError> {
    let mut insert = QueryBuilder::<Sqlite>::new(
        "INSERT OR REPLACE INTO aggregate_versions (aggregate, version) ",
    );
    insert.push_values(versions, |mut row, (aggregate, version)| {
        row.push_bind(aggregate.as_str()).push_bind(*version as i64);
    });
    execute(tx, insert).await?;
    Ok(())
}

impl SqliteStore {
    async fn write_transaction(&self) -> Result<Transaction<'_, Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(store_error)
    }
}

#[async_trait]
impl ViewStore for SqliteStore {
    async fn load(&self) -> Result<(ReadModel, String), StoreError> {
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        let mut model = ReadModel::default();
        for view in Self::bodies::<ApiKeyView>(&mut tx, "api_key_view").await? {
            model.listing.upsert(view);
        }
        Self::load_lookup(&mut tx, &mut model).await?;
        Self::load_directory(&mut tx, &mut model).await?;
        Self::load_versions(&mut tx, &mut model, true).await?;
        let cursor = position(&mut *tx, VIEWS_CHECKPOINT).await?;
        tx.commit().await.map_err(store_error)?;
        Ok((model, cursor))
    }

    /// The lookup rows, roles and users only: the listing is answered from the table
    /// ([`projections::key_views::KeyViews`]), so a million keys load in one streamed scan.
    async fn load_for_serving(&self) -> Result<(ReadModel, String), StoreError> {
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        let mut model = ReadModel::compact();
        Self::load_lookup(&mut tx, &mut model).await?;
        Self::load_directory(&mut tx, &mut model).await?;
        Self::load_versions(&mut tx, &mut model, false).await?;
        let cursor = position(&mut *tx, VIEWS_CHECKPOINT).await?;
        tx.commit().await.map_err(store_error)?;
        Ok((model, cursor))
    }

    async fn save(&self, changes: &ViewChanges, cursor: &str) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(store_error)?;
        write_changes(&mut tx, changes).await?;
        set_position(&mut tx, VIEWS_CHECKPOINT, cursor).await?;
        tx.commit().await.map_err(store_error)
    }

    /// In transactions of a few thousand rows, each statement inserting hundreds: the first clears
    /// the views and their checkpoint, the last sets it. A rebuild cut short leaves some rows at
    /// checkpoint `""`, which the next start completes by folding the whole log over them.
    async fn replace_all(&self, model: &ReadModel, cursor: &str) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        for table in [
            "api_key_view",
            "api_key_lookup",
            "role_view",
            "user_roles_view",
        ] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        }
        set_position(&mut tx, VIEWS_CHECKPOINT, "").await?;
        let directory = ViewChanges {
            roles: all_rows(&model.directory.roles),
            users: all_rows(&model.directory.users),
            ..ViewChanges::default()
        };
        write_changes(&mut tx, &directory).await?;
        tx.commit().await.map_err(store_error)?;
        let keys: Vec<&ApiKeyView> = model.listing.iter().collect();
        for chunk in keys.chunks(ROWS_PER_TRANSACTION) {
            let mut tx = self.write_transaction().await?;
            for rows in chunk.chunks(ROWS_PER_STATEMENT) {
                insert_keys(&mut tx, rows).await?;
            }
            tx.commit().await.map_err(store_error)?;
        }
        let versions: Vec<(String, u64)> = model.versions().collect();
        for chunk in versions.chunks(ROWS_PER_TRANSACTION) {
            let mut tx = self.write_transaction().await?;
            for rows in chunk.chunks(ROWS_PER_STATEMENT) {
                insert_versions(&mut tx, rows).await?;
            }
            tx.commit().await.map_err(store_error)?;
        }
        let mut tx = self.write_transaction().await?;
        set_position(&mut tx, VIEWS_CHECKPOINT, cursor).await?;
        tx.commit().await.map_err(store_error)
    }

    async fn checkpoint(&self, name: &str) -> Result<String, StoreError> {
        position(&self.pool, name).await
    }

    async fn set_checkpoint(&self, name: &str, cursor: &str) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(store_error)?;
        set_position(&mut tx, name, cursor).await?;
        tx.commit().await.map_err(store_error)
    }
}
