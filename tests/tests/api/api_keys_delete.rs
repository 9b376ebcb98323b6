//! `DELETE /auth/api-keys/{id}` and what every id route answers for unknown or malformed ids.
use reqwest::Method;
use serde_json::json;
use tests::keys::key_path;
use tests::{spawn_app, Expect};

#[tokio::test]
async fn delete_answers_the_vams_message_and_the_key_is_gone() {
    let app = spawn_app().await;
    let key = app.key_for_new_user("bot", &["viewer"]).await;
    let reply = app.delete_key(&key.id).await;
    assert_eq!(
        reply.ok(),
        &json!({ "message": format!("API key '{}' deleted successfully", key.id) })
    );
    assert!(app.listed_key(&key.id).await.is_none(), "still listed");
    let not_found = "API key not found";
    app.get_key(&key.id).await.assert_error(404, not_found);
    app.update_key(&key.id, &json!({ "description": "late" }))
        .await
        .assert_error(404, not_found);
    app.update_key(&key.id, &json!({ "isActive": true }))
        .await
        .assert_error(404, not_found);
    app.delete_key(&key.id).await.assert_error(404, not_found);
}

#[tokio::test]
async fn id_routes_answer_404_for_unknown_ids_and_400_for_malformed_ones() {
    let app = spawn_app().await;
    let key = app.key_for_new_user("bot", &["viewer"]).await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let update = json!({ "description": "x" });
    let ids = [
        (unknown.as_str(), 404, "unknown UUID"),
        ("not-a-uuid", 400, "not a UUID"),
        ("1234", 400, "a number"),
        ("00000000-0000-0000-0000-00000000000g", 400, "bad hex digit"),
        ("a b", 400, "a space"),
    ];
    let before = app.snapshot().await;
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        for (id, status, why) in ids {
            let mut call = app.call(method.clone(), &key_path(id));
            if method == Method::PUT {
                call = call.json(&update);
            }
            let reply = call.send().await;
            let why = format!("{method} {why}");
            match status {
                404 => Expect::exact("API key not found").check(&reply, 404, &why),
                _ => Expect::Any.check(&reply, status, &why),
            }
        }
    }
    assert_eq!(app.snapshot().await, before, "nothing written");
    app.assert_key_works(&key.key).await;
}
