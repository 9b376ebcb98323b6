//! Typed helpers for `/roles` and `/user-roles`.
use crate::call::Api;
use crate::call::{encode, Reply};
use crate::keys::items;
use serde_json::{json, Value};

impl Api {
    /// `POST /roles` with a name and a description.
    pub async fn create_role(&self, name: &str) -> Reply {
        self.create_role_body(&json!({ "roleName": name, "description": format!("role {name}") }))
            .await
    }

    /// `POST /roles` with any body.
    pub async fn create_role_body(&self, body: &Value) -> Reply {
        self.post("/roles").json(body).send().await
    }

    /// Creates the role unless it already exists.
    pub async fn ensure_role(&self, name: &str) {
        let exists = self
            .list_roles()
            .await
            .iter()
            .any(|r| r["roleName"] == name);
        if !exists {
            self.create_role(name).await.ok();
        }
    }

    /// `PUT /roles`.
    pub async fn update_role(&self, body: &Value) -> Reply {
        self.put("/roles").json(body).send().await
    }

    /// `DELETE /roles/{name}`.
    pub async fn delete_role(&self, name: &str) -> Reply {
        self.delete(&format!("/roles/{}", encode(name)))
            .send()
            .await
    }

    /// Every role item of `GET /roles`.
    pub async fn list_roles(&self) -> Vec<Value> {
        let reply = self.get("/roles").send().await;
        items(&reply.ok()["message"], "Items").to_vec()
    }

    /// `POST /user-roles`.
    pub async fn assign_roles(&self, user_id: &str, roles: &[&str]) -> Reply {
        self.post("/user-roles")
            .json(&json!({ "userId": user_id, "roleName": roles }))
            .send()
            .await
    }

    /// `PUT /user-roles`.
    pub async fn replace_roles(&self, user_id: &str, roles: &[&str]) -> Reply {
        self.put("/user-roles")
            .json(&json!({ "userId": user_id, "roleName": roles }))
            .send()
            .await
    }

    /// `DELETE /user-roles` with `{"userId": user_id}`.
    pub async fn remove_user_roles(&self, user_id: &str) -> Reply {
        self.delete("/user-roles")
            .json(&json!({ "userId": user_id }))
            .send()
            .await
    }

    /// Every item of `GET /user-roles`.
    pub async fn list_user_roles(&self) -> Vec<Value> {
        let reply = self.get("/user-roles").send().await;
        items(&reply.ok()["message"], "Items").to_vec()
    }

    /// The roles `GET /user-roles` lists for `user_id`, sorted (empty when the user is not listed).
    pub async fn roles_of(&self, user_id: &str) -> Vec<String> {
        let mut roles: Vec<String> = self
            .list_user_roles()
            .await
            .iter()
            .filter(|item| item["userId"] == user_id)
            .flat_map(|item| item["roleName"].as_array().cloned().unwrap_or_default())
            .filter_map(|role| role.as_str().map(str::to_owned))
            .collect();
        roles.sort();
        roles
    }
}
