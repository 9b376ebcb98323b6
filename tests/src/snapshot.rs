//! Everything the management views show, to prove a request wrote nothing or a restart lost nothing.
use crate::call::Api;
use serde_json::Value;

/// The key, role and user-role views, each sorted so that order does not matter.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// `GET /auth/api-keys` items, by `apiKeyId`, without their last use.
    pub keys: Vec<Value>,
    /// `GET /roles` items, by `roleName`.
    pub roles: Vec<Value>,
    /// `GET /user-roles` items, by `userId`, each with its `roleName` list sorted.
    pub user_roles: Vec<Value>,
}

impl Api {
    /// Reads the three views as admin.
    pub async fn snapshot(&self) -> Snapshot {
        let mut keys = self.list_keys().await;
        // Last use is an observation, not a write: the snapshot's own reads move the admin key's.
        for item in &mut keys {
            if let Some(item) = item.as_object_mut() {
                item.remove("lastUsedAt");
                item.remove("lastUsedFrom");
            }
        }
        sort_by(&mut keys, "apiKeyId");
        let mut roles = self.list_roles().await;
        sort_by(&mut roles, "roleName");
        let mut user_roles = self.list_user_roles().await;
        for item in &mut user_roles {
            if let Some(names) = item["roleName"].as_array_mut() {
                names.sort_by_key(Value::to_string);
            }
        }
        sort_by(&mut user_roles, "userId");
        Snapshot {
            keys,
            roles,
            user_roles,
        }
    }
}

fn sort_by(items: &mut [Value], field: &str) {
    items.sort_by_key(|item| item[field].to_string());
}
