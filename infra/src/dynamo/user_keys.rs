//! Each user's keys in the views table's index: a row `userkey#<user>#<id>` of `Kind`
//! `userkeys#<user>` per key, so a node whose key lookup is a bounded cache finds an admin user's
//! keys for the admin guard with one paginated query instead of a read of the whole listing.
//!
//! The rows are a superset of the user's live keys: one is put before the key's listing row is
//! written and deleted after its tombstone is, and both writes are idempotent, so nodes writing the
//! same change in any order converge (a late re-put of a deleted key's row is harmless).
//! Readers confirm each id against the key's own row, read consistently.
use super::item::{get_s, s, Item};
use super::view_index::{INDEX, KIND};
use super::{unavailable, DynamoStore};
use async_trait::async_trait;
use domain::UserId;
use futures::future::try_join_all;
use projections::key_listing::ApiKeyView;
use projections::key_views::UserKeys;
use projections::StoreError;
use uuid::Uuid;

/// Ids read per query page (and confirmed per round of reads).
const PAGE: i32 = 32;

/// Whether a key joins or leaves its user's rows.
#[derive(Debug, Clone, Copy)]
pub(super) enum Membership {
    Join,
    Leave,
}

/// The `Kind` of a user's key rows.
fn user_kind(user: &UserId) -> String {
    format!("userkeys#{user}")
}

fn user_key_view_id(user: &UserId, id: &Uuid) -> String {
    format!("userkey#{user}#{id}")
}

/// The row saying `id` is one of `user`'s keys.
pub(super) fn user_key_row(user: &UserId, id: &Uuid) -> Item {
    Item::from([
        ("ViewId".into(), s(user_key_view_id(user, id))),
        (KIND.into(), s(user_kind(user))),
        ("ApiKeyId".into(), s(id.to_string())),
    ])
}

impl DynamoStore {
    /// Puts or deletes the row saying `id` is one of `user`'s keys.
    pub(super) async fn note_user_key(
        &self,
        user: &UserId,
        id: &Uuid,
        membership: Membership,
    ) -> Result<(), StoreError> {
        match membership {
            Membership::Join => self
                .client
                .put_item()
                .table_name(&self.tables.views)
                .set_item(Some(user_key_row(user, id)))
                .send()
                .await
                .map(|_| ())
                .map_err(unavailable),
            Membership::Leave => self
                .client
                .delete_item()
                .table_name(&self.tables.views)
                .key("ViewId", s(user_key_view_id(user, id)))
                .send()
                .await
                .map(|_| ())
                .map_err(unavailable),
        }
    }
}

#[async_trait]
impl UserKeys for DynamoStore {
    /// Pages through the user's rows in the index, confirming each page's ids against the keys'
    /// rows, until `enough` are kept or the rows end.
    async fn keys_of(
        &self,
        user: &UserId,
        keep: &(dyn for<'v> Fn(&'v ApiKeyView) -> bool + Send + Sync),
        enough: usize,
    ) -> Result<Vec<ApiKeyView>, StoreError> {
        let mut kept = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.tables.views)
                .index_name(INDEX)
                .key_condition_expression("#k = :k")
                .expression_attribute_names("#k", KIND)
                .expression_attribute_values(":k", s(user_kind(user)))
                .limit(PAGE)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            let ids: Vec<Uuid> = page
                .items()
                .iter()
                .filter_map(|item| get_s(item, "ApiKeyId")?.parse().ok())
                .collect();
            let rows = try_join_all(ids.iter().map(|id| self.stored_key(id))).await?;
            kept.extend(
                rows.into_iter()
                    .flatten()
                    .filter(|view| &view.user_id == user && keep(view)),
            );
            start = page.last_evaluated_key().cloned();
            if kept.len() >= enough || start.is_none() {
                kept.truncate(enough);
                return Ok(kept);
            }
        }
    }
}
