//! Each user's key ids in the views table (`userkeys#<user>`, a string set outside the index):
//! how a node whose key lookup is a bounded cache finds an admin user's keys for the admin guard
//! without reading the whole listing.
//!
//! The set is a superset of the user's live keys: an id is added before the key's row is written
//! and removed after its tombstone is, and set updates are idempotent, so nodes writing the same
//! change in any order converge. Readers confirm each id against the key's own row.
use super::item::s;
use super::{unavailable, DynamoStore};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::UserId;
use futures::future::try_join_all;
use projections::key_listing::ApiKeyView;
use projections::key_views::UserKeys;
use projections::StoreError;
use uuid::Uuid;

/// The attribute holding the ids.
const KEYS: &str = "Keys";

/// Whether a key joins or leaves its user's set.
#[derive(Debug, Clone, Copy)]
pub(super) enum Membership {
    Join,
    Leave,
}

/// The views row of a user's key ids.
pub(super) fn user_keys_row(user: &UserId) -> String {
    format!("userkeys#{user}")
}

impl DynamoStore {
    /// Adds `id` to or removes it from `user`'s set.
    pub(super) async fn note_user_key(
        &self,
        user: &UserId,
        id: &Uuid,
        membership: Membership,
    ) -> Result<(), StoreError> {
        let action = match membership {
            Membership::Join => "ADD #k :id",
            Membership::Leave => "DELETE #k :id",
        };
        self.client
            .update_item()
            .table_name(&self.tables.views)
            .key("ViewId", s(user_keys_row(user)))
            .update_expression(action)
            .expression_attribute_names("#k", KEYS)
            .expression_attribute_values(":id", AttributeValue::Ss(vec![id.to_string()]))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl UserKeys for DynamoStore {
    /// One consistent read of the set, then one of each key's row.
    async fn keys_of(&self, user: &UserId) -> Result<Vec<ApiKeyView>, StoreError> {
        let row = self.get_view_item(&user_keys_row(user)).await?;
        let ids: Vec<Uuid> = match row.as_ref().and_then(|r| r.get(KEYS)) {
            Some(AttributeValue::Ss(ids)) => ids.iter().filter_map(|i| i.parse().ok()).collect(),
            _ => Vec::new(),
        };
        let rows = try_join_all(ids.iter().map(|id| self.stored_key(id))).await?;
        Ok(rows
            .into_iter()
            .flatten()
            .filter(|view| &view.user_id == user)
            .collect())
    }
}
