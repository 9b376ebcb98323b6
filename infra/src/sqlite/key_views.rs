//! The key listing answered from the persisted views: VAMS pages by id, console pages sorted by an
//! indexed column with a total count, one key by id.
//!
//! The listing table keeps each key as one JSON body; virtual generated columns expose the fields
//! the console sorts and searches by, with an index per sort column. Matching (`filter`, `search`)
//! runs in Rust on those columns so it is exactly [`projections::key_listing::matches`] (SQLite's
//! `lower()` folds ASCII only); only matching rows' bodies are parsed.
use super::{corrupt, store_error, SqliteStore};
use async_trait::async_trait;
use futures::TryStreamExt;
use projections::key_listing::{matches, ApiKeyView};
use projections::key_views::{Conditions, ConsoleQuery, KeyPage, KeyViews, SortBy};
use projections::StoreError;
use sqlx::{Row, SqlitePool};
use uuid::Uuid;

/// Columns added to the listing table and the indexes the console sorts by; safe to run on every
/// start (each is added only when missing).
const COLUMNS: &[(&str, &str)] = &[
    ("key_name", "json_extract(body, '$.api_key_name')"),
    ("key_user", "json_extract(body, '$.user_id')"),
    ("key_description", "json_extract(body, '$.description')"),
    ("key_created_by", "json_extract(body, '$.created_by')"),
    ("key_is_active", "json_extract(body, '$.is_active')"),
    ("key_created_at", "json_extract(body, '$.created_at')"),
    ("key_updated_at", "json_extract(body, '$.updated_at')"),
    ("key_expires_at", "json_extract(body, '$.expires_at')"),
];
/// The sort columns with an index; the others (rarely sorted by) sort without one.
const INDEXED: &[&str] = &[
    "key_name",
    "key_user",
    "key_created_at",
    "key_updated_at",
    "key_expires_at",
];
/// `PRAGMA user_version` once every lookup row carries its key's name and version.
const LOOKUP_COMPLETE: i64 = 1;
/// Columns added to the lookup table since its first release: name and version, and a rotated
/// key's previous secret with the end of its grace.
const LOOKUP_COLUMNS: &[(&str, &str)] = &[
    ("api_key_name", "TEXT"),
    ("version", "INTEGER"),
    ("previous_key_hash", "TEXT"),
    ("previous_key_expires_at", "TEXT"),
    ("policy", "TEXT"),
];

/// Adds the generated listing columns, their indexes and the lookup's name and version columns.
pub(super) async fn migrate(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let generated: Vec<(&str, String)> = COLUMNS
        .iter()
        .map(|(column, expression)| {
            (
                *column,
                format!("GENERATED ALWAYS AS ({expression}) VIRTUAL"),
            )
        })
        .collect();
    add_missing(pool, "api_key_view", &generated).await?;
    for column in INDEXED {
        sqlx::query(&format!(
            "CREATE INDEX IF NOT EXISTS api_key_view_{column} ON api_key_view ({column}, api_key_id)"
        ))
        .execute(pool)
        .await?;
    }
    let plain: Vec<(&str, String)> = LOOKUP_COLUMNS
        .iter()
        .map(|(column, kind)| (*column, kind.to_string()))
        .collect();
    add_missing(pool, "api_key_lookup", &plain).await?;
    // Lookup rows written without a name or version (a bulk rebuild before they were written)
    // get them once, so a start reads the lookup table alone. Every writer since writes both.
    let schema: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(pool)
        .await?;
    if schema < LOOKUP_COMPLETE {
        sqlx::query(
            "UPDATE api_key_lookup SET
                api_key_name = COALESCE(api_key_name, (SELECT json_extract(v.body, '$.api_key_name')
                    FROM api_key_view v WHERE v.api_key_id = api_key_lookup.api_key_id)),
                version = COALESCE(version, (SELECT a.version FROM aggregate_versions a
                    WHERE a.aggregate = 'ApiKey:' || api_key_lookup.api_key_id))
             WHERE api_key_name IS NULL OR version IS NULL",
        )
        .execute(pool)
        .await?;
        sqlx::query(&format!("PRAGMA user_version = {LOOKUP_COMPLETE}"))
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// Adds each `(column, definition)` the table lacks (generated columns included).
async fn add_missing(
    pool: &SqlitePool,
    table: &str,
    columns: &[(&str, String)],
) -> Result<(), sqlx::Error> {
    let present: Vec<String> =
        sqlx::query_scalar(&format!("SELECT name FROM pragma_table_xinfo('{table}')"))
            .fetch_all(pool)
            .await?;
    for (column, definition) in columns {
        if !present.iter().any(|p| p == column) {
            sqlx::query(&format!(
                "ALTER TABLE {table} ADD COLUMN {column} {definition}"
            ))
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}

fn parse(body: &str) -> Result<ApiKeyView, StoreError> {
    serde_json::from_str(body).map_err(corrupt)
}

/// `ORDER BY` for a sort; keys that never expire sort after every expiry, as in memory.
fn order_by(sort: SortBy, descending: bool) -> String {
    let dir = if descending { "DESC" } else { "ASC" };
    let column = match sort {
        SortBy::ApiKeyName => "key_name",
        SortBy::ApiKeyId => return format!("api_key_id {dir}"),
        SortBy::Description => "key_description",
        SortBy::UserId => "key_user",
        SortBy::CreatedBy => "key_created_by",
        SortBy::IsActive => "key_is_active",
        SortBy::CreatedAt => "key_created_at",
        SortBy::UpdatedAt => "key_updated_at",
        SortBy::ExpiresAt => {
            return format!("key_expires_at IS NULL {dir}, key_expires_at {dir}, api_key_id {dir}")
        }
    };
    format!("{column} {dir}, api_key_id {dir}")
}

/// Whether a row's searchable columns contain `needle` (lowercase).
fn row_matches(row: &sqlx::sqlite::SqliteRow, needle: &str) -> Result<bool, StoreError> {
    let text = |c: &str| row.try_get::<Option<&str>, _>(c).map_err(corrupt);
    Ok(matches(
        [
            text("key_name")?.unwrap_or_default(),
            text("key_user")?.unwrap_or_default(),
            text("key_description")?.unwrap_or_default(),
        ],
        needle,
    ))
}

/// Whether a row meets the last-use and expiry conditions (`api_key_id`, `key_expires_at`).
fn row_holds(row: &sqlx::sqlite::SqliteRow, only: &Conditions) -> Result<bool, StoreError> {
    if only.is_empty() {
        return Ok(true);
    }
    let id: String = row.try_get("api_key_id").map_err(corrupt)?;
    let expires: Option<String> = row.try_get("key_expires_at").map_err(corrupt)?;
    let expires_at = expires
        .map(|e| e.parse::<chrono::DateTime<chrono::Utc>>().map_err(corrupt))
        .transpose()?;
    Ok(only.hold(&id.parse().map_err(corrupt)?, expires_at))
}

impl SqliteStore {
    async fn bodies_of(&self, ids: &[String]) -> Result<Vec<ApiKeyView>, StoreError> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let marks = vec!["?"; ids.len()].join(", ");
        let sql = format!("SELECT body FROM api_key_view WHERE api_key_id IN ({marks})");
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let bodies = query.fetch_all(&self.pool).await.map_err(store_error)?;
        let mut views = bodies
            .iter()
            .map(|b| parse(b))
            .collect::<Result<Vec<_>, _>>()?;
        let rank = |v: &ApiKeyView| ids.iter().position(|id| *id == v.api_key_id.to_string());
        views.sort_by_key(rank);
        Ok(views)
    }

    /// A console page when searching or filtering: every row's searchable columns in sort order,
    /// matched here.
    async fn searched(
        &self,
        query: &ConsoleQuery,
        needle: Option<&str>,
    ) -> Result<KeyPage, StoreError> {
        let sql = format!(
            "SELECT api_key_id, key_name, key_user, key_description, key_expires_at FROM api_key_view ORDER BY {}",
            order_by(query.sort_by, query.descending)
        );
        let mut rows = sqlx::query(&sql).fetch(&self.pool);
        let (mut total, mut ids) = (0usize, Vec::new());
        while let Some(row) = rows.try_next().await.map_err(store_error)? {
            if let Some(needle) = needle {
                if !row_matches(&row, needle)? {
                    continue;
                }
            }
            if !row_holds(&row, &query.only)? {
                continue;
            }
            if total >= query.offset && ids.len() < query.page_size {
                ids.push(row.try_get::<String, _>("api_key_id").map_err(corrupt)?);
            }
            total += 1;
        }
        drop(rows);
        Ok(KeyPage {
            items: self.bodies_of(&ids).await?,
            next_token: None,
            total_count: total,
        })
    }
}

#[async_trait]
impl KeyViews for SqliteStore {
    async fn page(
        &self,
        filter: Option<&str>,
        only: &Conditions,
        start_after: Option<Uuid>,
        max_items: Option<usize>,
    ) -> Result<KeyPage, StoreError> {
        let needle = filter.map(str::to_lowercase).filter(|f| !f.is_empty());
        let after = start_after.map(|id| id.to_string()).unwrap_or_default();
        let limit = max_items.unwrap_or(usize::MAX);
        let mut rows = sqlx::query(
            "SELECT body, api_key_id, key_name, key_user, key_description, key_expires_at FROM api_key_view
             WHERE api_key_id > ? ORDER BY api_key_id",
        )
        .bind(after)
        .fetch(&self.pool);
        let mut items = Vec::new();
        let mut more = false;
        while let Some(row) = rows.try_next().await.map_err(store_error)? {
            if let Some(n) = &needle {
                if !row_matches(&row, n)? {
                    continue;
                }
            }
            if !row_holds(&row, only)? {
                continue;
            }
            if items.len() == limit {
                more = true;
                break;
            }
            items.push(parse(row.try_get("body").map_err(corrupt)?)?);
        }
        let next_token = match (items.last(), more) {
            (Some(last), true) => Some(last.api_key_id.to_string()),
            _ => None,
        };
        Ok(KeyPage {
            total_count: items.len(),
            items,
            next_token,
        })
    }

    async fn console(&self, query: &ConsoleQuery) -> Result<KeyPage, StoreError> {
        let needle = query.search.as_deref().filter(|n| !n.is_empty());
        if needle.is_some() || !query.only.is_empty() {
            return self.searched(query, needle).await;
        }
        let total: i64 = sqlx::query_scalar("SELECT count(*) FROM api_key_view")
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)?;
        let sql = format!(
            "SELECT body FROM api_key_view ORDER BY {} LIMIT ? OFFSET ?",
            order_by(query.sort_by, query.descending)
        );
        let bodies: Vec<String> = sqlx::query_scalar(&sql)
            .bind(query.page_size as i64)
            .bind(query.offset as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(KeyPage {
            items: bodies.iter().map(|b| parse(b)).collect::<Result<_, _>>()?,
            next_token: None,
            total_count: total as usize,
        })
    }

    async fn get(&self, id: &Uuid) -> Result<Option<ApiKeyView>, StoreError> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM api_key_view WHERE api_key_id = ?")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
        body.as_deref().map(parse).transpose()
    }
}
