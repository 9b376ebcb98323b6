//! Typed helpers for `/auth/api-keys`.
use crate::call::Api;
use crate::call::Reply;
use serde_json::{json, Value};

/// The fields of every key item on the wire (list, get, update); a create adds `apiKey`.
pub const KEY_ITEM_FIELDS: [&str; 11] = [
    "apiKeyId",
    "apiKeyName",
    "userId",
    "description",
    "createdBy",
    "createdAt",
    "updatedAt",
    "expiresAt",
    "isActive",
    "lastUsedAt",
    "lastUsedFrom",
];

/// A key the server created: its id, the plaintext shown once, and the whole create answer.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    /// `apiKeyId`.
    pub id: String,
    /// The plaintext `vams_…` key.
    pub key: String,
    /// The create response body.
    pub item: Value,
}

/// A create body with the three required fields.
pub fn key_body(name: &str, user_id: &str, description: &str) -> Value {
    json!({ "apiKeyName": name, "userId": user_id, "description": description })
}

/// `/auth/api-keys/{id}`.
pub fn key_path(id: &str) -> String {
    format!("/auth/api-keys/{}", crate::call::encode(id))
}

impl Api {
    /// `POST /auth/api-keys` as admin.
    pub async fn create_key(&self, body: &Value) -> Reply {
        self.post("/auth/api-keys").json(body).send().await
    }

    /// Creates a key for `user_id` (who must hold a role) and asserts it worked.
    pub async fn create_key_ok(&self, name: &str, user_id: &str) -> CreatedKey {
        let reply = self
            .create_key(&key_body(name, user_id, "created by a test"))
            .await;
        created(&reply)
    }

    /// Makes sure each role exists, gives `user_id` those roles and creates a key for them.
    pub async fn key_for_new_user(&self, user_id: &str, roles: &[&str]) -> CreatedKey {
        for role in roles {
            self.ensure_role(role).await;
        }
        self.assign_roles(user_id, roles).await.ok();
        self.create_key_ok(&format!("key of {user_id}"), user_id)
            .await
    }

    /// `GET /auth/api-keys` with query parameters.
    pub async fn list_keys_with(&self, query: &[(&str, &str)]) -> Reply {
        let query = query
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::call::encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.get(&format!("/auth/api-keys?{query}")).send().await
    }

    /// Every key item of `GET /auth/api-keys`.
    pub async fn list_keys(&self) -> Vec<Value> {
        let reply = self.get("/auth/api-keys").send().await;
        items(reply.ok(), "Items").to_vec()
    }

    /// The listed item with this id, if any.
    pub async fn listed_key(&self, id: &str) -> Option<Value> {
        self.list_keys()
            .await
            .into_iter()
            .find(|item| item["apiKeyId"] == id)
    }

    /// `GET /auth/api-keys/{id}`.
    pub async fn get_key(&self, id: &str) -> Reply {
        self.get(&key_path(id)).send().await
    }

    /// `PUT /auth/api-keys/{id}`.
    pub async fn update_key(&self, id: &str, body: &Value) -> Reply {
        self.put(&key_path(id)).json(body).send().await
    }

    /// `PUT … {"isActive": active}` and asserts it worked.
    pub async fn set_active(&self, id: &str, active: bool) -> Value {
        let reply = self.update_key(id, &json!({ "isActive": active })).await;
        reply.ok().clone()
    }

    /// `DELETE /auth/api-keys/{id}`.
    pub async fn delete_key(&self, id: &str) -> Reply {
        self.delete(&key_path(id)).send().await
    }
}

/// Asserts a create answer (200, a `vams_` key, an id) and unpacks it.
#[track_caller]
pub fn created(reply: &Reply) -> CreatedKey {
    let item = reply.ok().clone();
    let key = item["apiKey"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: no apiKey in {}", reply.what, reply.text))
        .to_owned();
    let id = item["apiKeyId"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: no apiKeyId in {}", reply.what, reply.text))
        .to_owned();
    CreatedKey { id, key, item }
}

/// The array under `field`, or a panic naming what was there instead.
#[track_caller]
pub fn items<'v>(body: &'v Value, field: &str) -> &'v [Value] {
    body[field]
        .as_array()
        .unwrap_or_else(|| panic!("expected an array at {field:?} in {body}"))
}

/// The sorted field names of a JSON object.
#[track_caller]
pub fn field_names(item: &Value) -> Vec<String> {
    let mut names: Vec<String> = item
        .as_object()
        .unwrap_or_else(|| panic!("expected an object, got {item}"))
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

/// [`KEY_ITEM_FIELDS`] (plus `extra`) sorted, to compare with [`field_names`].
pub fn expected_key_fields(extra: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = KEY_ITEM_FIELDS
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect();
    names.sort();
    names
}
