//! `APIKEYD_VAMS_REFUSAL_STATUS=403`: a refused bearer key is answered exactly as VAMS's API Gateway
//! answers (403 `{"message":"Forbidden"}`); a request without a key stays 401; the default stays 401.
use tests::secrets::unknown_key;
use tests::{spawn_app, spawn_app_with, Auth};

#[tokio::test]
async fn refused_keys_answer_403_forbidden_when_asked_to_match_vams() {
    let app =
        spawn_app_with(|s| s.vams_refusal_status = api::error::RefusalStatus::Forbidden).await;
    let cases = [
        (
            Auth::Bearer(unknown_key()),
            403,
            "Forbidden",
            "an unknown key",
        ),
        (
            Auth::Header("Bearer not-a-key".into()),
            403,
            "Forbidden",
            "a malformed key",
        ),
        (
            Auth::None,
            401,
            "Unauthorized",
            "no key at all (API Gateway skips the authorizer)",
        ),
    ];
    for (auth, status, message, why) in cases {
        let reply = app.get("/auth/api-keys").auth(auth).send().await;
        assert_eq!(reply.status, status, "{why}: {reply:?}");
        assert_eq!(
            reply.body,
            serde_json::json!({ "message": message }),
            "{why}"
        );
    }
    app.get("/auth/api-keys").send().await.assert_status(200);
}

#[tokio::test]
async fn refused_keys_answer_401_by_default() {
    let app = spawn_app().await;
    app.get("/auth/api-keys")
        .auth(Auth::Bearer(unknown_key()))
        .send()
        .await
        .assert_error(401, "Unauthorized");
}
