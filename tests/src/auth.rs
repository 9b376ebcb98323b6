//! Typed helpers for the open and authenticated non-management routes.
use crate::call::Api;
use crate::call::{encode, Auth, Reply};
use serde_json::{json, Value};

impl Api {
    /// `POST /auth/verify {"apiKey": key}`, sent without any `Authorization` header.
    pub async fn verify(&self, key: &str) -> Reply {
        self.post("/auth/verify")
            .anonymous()
            .json(&json!({ "apiKey": key }))
            .send()
            .await
    }

    /// The `code` of a 200 verify answer, after checking `valid` agrees with it.
    pub async fn verify_code(&self, key: &str) -> String {
        let reply = self.verify(key).await;
        let body = reply.ok();
        let code = body["code"]
            .as_str()
            .unwrap_or_else(|| panic!("verify: no string code in {body}"))
            .to_owned();
        assert_eq!(
            body["valid"],
            Value::Bool(code == "VALID"),
            "verify: valid disagrees with code in {body}"
        );
        code
    }

    /// `GET /auth/check` with `Authorization: Bearer <key>`.
    pub async fn check(&self, key: &str) -> Reply {
        self.get("/auth/check").key(key).send().await
    }

    /// `GET /auth/check` with `key`, as a trusted proxy forwarding for `client`
    /// (`X-Forwarded-For`); asserts 200.
    pub async fn check_from(&self, key: &str, client: &str) {
        let status = self
            .client
            .get(self.url("/auth/check"))
            .bearer_auth(key)
            .header("X-Forwarded-For", client)
            .send()
            .await
            .expect("GET /auth/check")
            .status();
        assert_eq!(status, 200, "GET /auth/check from {client}");
    }

    /// `GET /auth/api-keys/{id}/usage`'s body (asserts 200).
    pub async fn key_usage(&self, id: &str) -> serde_json::Value {
        let path = format!("{}/usage", crate::keys::key_path(id));
        self.get(&path).send().await.ok().clone()
    }

    /// `GET /auth/check` with the given authentication.
    pub async fn check_with(&self, auth: Auth) -> Reply {
        self.get("/auth/check").auth(auth).send().await
    }

    /// `GET /secure-config` with `Authorization: Bearer <key>`: the simplest authenticated call.
    pub async fn secure_config_as(&self, key: &str) -> Reply {
        self.get("/secure-config").key(key).send().await
    }

    /// `GET /auth/loginProfile/{user_id}` with `Authorization: Bearer <key>`.
    pub async fn login_profile(&self, user_id: &str, key: &str) -> Reply {
        self.get(&format!("/auth/loginProfile/{}", encode(user_id)))
            .key(key)
            .send()
            .await
    }

    /// Asserts `key` is accepted everywhere at once: bearer call, `/auth/verify` and `/auth/check`.
    pub async fn assert_key_works(&self, key: &str) {
        self.secure_config_as(key).await.assert_status(200);
        assert_eq!(self.verify_code(key).await, "VALID");
        self.check(key).await.assert_status(200);
    }

    /// Asserts `key` is refused everywhere at once: 401 on a bearer call and on `/auth/check`, and
    /// `/auth/verify` answers `code`.
    pub async fn assert_key_refused(&self, key: &str, code: &str) {
        self.secure_config_as(key)
            .await
            .assert_error(401, "Unauthorized");
        assert_eq!(self.verify_code(key).await, code);
        self.check(key).await.assert_error(401, "Unauthorized");
    }
}
