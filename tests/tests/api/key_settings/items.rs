//! The settings in every item: shown normalized (and only when set) by create, get, list and
//! update; absent on update leaves a setting alone, `null` clears it; they survive a restart; the
//! audit trail shows old and new; scoping the last admin key away from the admin role is refused.
use super::{app_with_user, create_with, set, settled, verified_roles, USER};
use crate::last_admin::{bootstrap_key_id, LAST_ADMIN};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tests::backend::audit_log;
use tests::keys::{expected_key_fields, field_names, key_path};
use tests::secrets::read_audit;
use tests::{spawn_app, Api, TestApp};

/// The four settings, as the items name them.
const FIELDS: [&str; 4] = ["roles", "rateLimit", "allowedCidrs", "meta"];

/// All four settings as a client may send them: roles unsorted, CIDRs with host bits and bare.
fn all_four() -> Value {
    json!({
        "roles": ["viewer", "auditor"],
        "rateLimit": { "limit": 100, "periodSeconds": 60 },
        "allowedCidrs": ["10.1.2.3/8", "192.0.2.7", "2001:db8:1::5/32"],
        "meta": { "team": "data", "tier": 2, "tags": ["a", "b"], "owner": { "name": "x" } },
    })
}

/// [`all_four`] as every item must show it.
fn all_four_normalized() -> Value {
    json!({
        "roles": ["auditor", "viewer"],
        "rateLimit": { "limit": 100, "periodSeconds": 60 },
        "allowedCidrs": ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"],
        "meta": { "team": "data", "tier": 2, "tags": ["a", "b"], "owner": { "name": "x" } },
    })
}

#[track_caller]
fn assert_shows_all_four(item: &Value, extra: &[&str], what: &str) {
    let mut fields = FIELDS.to_vec();
    fields.extend(extra);
    assert_eq!(
        field_names(item),
        expected_key_fields(&fields),
        "{what}: {item}"
    );
    let expected = all_four_normalized();
    for field in FIELDS {
        assert_eq!(item[field], expected[field], "{what}: {field}");
    }
}

#[tokio::test]
async fn given_all_four_settings_when_creating_then_every_item_shows_them_normalized() {
    let app = app_with_user().await;
    let key = create_with(&app, "all four", all_four()).await;
    assert_shows_all_four(&key.item, &["apiKey"], "create answer");
    let got = app.get_key(&key.id).await.ok().clone();
    assert_shows_all_four(&got, &[], "get");
    let listed = app.listed_key(&key.id).await.expect("the key is listed");
    assert_shows_all_four(&listed, &[], "list");

    // A key without settings serializes exactly as before.
    let plain = app.create_key_ok("plain", USER).await;
    let got = app.get_key(&plain.id).await.ok().clone();
    assert_eq!(field_names(&got), expected_key_fields(&[]), "{got}");
    let listed = app.listed_key(&plain.id).await.expect("listed");
    assert_eq!(field_names(&listed), expected_key_fields(&[]), "{listed}");
}

#[tokio::test]
async fn given_a_key_with_settings_when_updating_each_then_absent_keeps_and_null_clears() {
    let app = app_with_user().await;
    let key = create_with(&app, "edited", all_four()).await;
    let mut expected = settled(app.get_key(&key.id).await.ok());
    let steps: Vec<(Value, &str, Option<Value>)> = vec![
        (
            json!({ "description": "only this" }),
            "description",
            Some(json!("only this")),
        ),
        (json!({ "roles": ["ops"] }), "roles", Some(json!(["ops"]))),
        (
            json!({ "rateLimit": { "limit": 5, "periodSeconds": 86_400 } }),
            "rateLimit",
            Some(json!({ "limit": 5, "periodSeconds": 86_400 })),
        ),
        (
            json!({ "allowedCidrs": ["127.0.0.1"] }),
            "allowedCidrs",
            Some(json!(["127.0.0.1/32"])),
        ),
        (
            json!({ "meta": { "v": 2 } }),
            "meta",
            Some(json!({ "v": 2 })),
        ),
        (json!({ "roles": null }), "roles", None),
        (json!({ "rateLimit": null }), "rateLimit", None),
        (json!({ "allowedCidrs": null }), "allowedCidrs", None),
        (json!({ "meta": null }), "meta", None),
    ];
    for (body, field, value) in steps {
        let after = settled(app.update_key(&key.id, &body).await.ok());
        match value {
            Some(value) => expected[field] = value,
            None => {
                expected.as_object_mut().unwrap().remove(field);
            }
        }
        expected["updatedAt"] = after["updatedAt"].clone();
        assert_eq!(after, expected, "after {body}");
        let got = settled(app.get_key(&key.id).await.ok());
        assert_eq!(got, after, "GET after {body}");
    }
    let got = app.get_key(&key.id).await.ok().clone();
    assert_eq!(
        field_names(&got),
        expected_key_fields(&[]),
        "all cleared: {got}"
    );
}

#[tokio::test]
async fn given_settings_when_the_server_restarts_then_they_are_kept_and_enforced() {
    let app = app_with_user().await;
    let settings = json!({
        "roles": ["viewer"],
        "allowedCidrs": ["127.0.0.1"],
        "rateLimit": { "limit": 1000, "periodSeconds": 86_400 },
        "meta": { "k": "v" },
    });
    let key = create_with(&app, "durable", settings).await;
    let before = settled(app.get_key(&key.id).await.ok());
    let app = app.restart().await;
    assert_eq!(settled(app.get_key(&key.id).await.ok()), before);
    let reply = app.verify(&key.key).await;
    assert_eq!(verified_roles(&reply), set(&["viewer"]));
    assert_eq!(reply.body["meta"], json!({ "k": "v" }));
}

/// The key's records of `action` on `/auth/api-keys/{id}/audit`.
async fn records(app: &Api, id: &str, action: &str) -> Vec<Value> {
    let trail = app.get(&format!("{}/audit", key_path(id))).send().await;
    let items = trail.ok()["Items"].as_array().cloned().unwrap_or_default();
    items
        .into_iter()
        .filter(|i| i["action"] == action)
        .collect()
}

/// The audit file's `apiKeyUpdate` line of `id`, polled for (delivery follows the commit).
async fn update_line(app: &TestApp, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lines = read_audit(&audit_log(app.data_path()));
        let found = lines
            .into_iter()
            .find(|l| l["action"] == "apiKeyUpdate" && l["apiKeyId"] == id);
        if let Some(line) = found {
            return line;
        }
        assert!(
            Instant::now() < deadline,
            "no apiKeyUpdate line for {id} in the audit file"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn given_an_update_of_the_settings_then_the_audit_shows_old_and_new() {
    let app = app_with_user().await;
    let before = json!({ "roles": ["viewer", "auditor"], "rateLimit": { "limit": 100, "periodSeconds": 60 } });
    let key = create_with(&app, "audited", before).await;
    let change = json!({
        "roles": ["viewer"], "rateLimit": null, "allowedCidrs": ["10.1.2.3/8"], "meta": { "team": "data" },
    });
    app.update_key(&key.id, &change).await.ok();

    let create = records(&app, &key.id, "apiKeyCreate").await;
    let recorded = &create[0]["changes"];
    assert_eq!(
        recorded["roles"],
        json!(["auditor", "viewer"]),
        "{recorded}"
    );
    assert_eq!(
        recorded["rateLimit"],
        json!({ "limit": 100, "periodSeconds": 60 }),
        "{recorded}"
    );
    assert!(
        recorded.get("allowedCidrs").is_none() && recorded.get("meta").is_none(),
        "{recorded}"
    );

    let updates = records(&app, &key.id, "apiKeyUpdate").await;
    assert_eq!(updates.len(), 1, "{updates:?}");
    let changes = &updates[0]["changes"];
    let expected = [
        ("roles", json!(["auditor", "viewer"]), json!(["viewer"])),
        (
            "rateLimit",
            json!({ "limit": 100, "periodSeconds": 60 }),
            Value::Null,
        ),
        ("allowedCidrs", Value::Null, json!(["10.0.0.0/8"])),
        ("meta", Value::Null, json!({ "team": "data" })),
    ];
    for (field, old, new) in expected {
        assert_eq!(changes[field]["old"], old, "{field}: {changes}");
        assert_eq!(changes[field]["new"], new, "{field}: {changes}");
    }
    let line = update_line(&app, &key.id).await;
    let mut named: Vec<String> = line["changedFields"]
        .as_array()
        .unwrap_or_else(|| panic!("changedFields must be a list: {line}"))
        .iter()
        .filter_map(|f| f.as_str().map(str::to_owned))
        .collect();
    named.sort();
    assert_eq!(
        named,
        ["allowedCidrs", "meta", "rateLimit", "roles"],
        "{line}"
    );
}

#[tokio::test]
async fn given_the_last_admin_key_when_scoping_it_away_from_admin_then_409() {
    let app = spawn_app().await;
    app.ensure_role("viewer").await;
    app.assign_roles("admin", &["viewer"]).await.ok();
    let first = bootstrap_key_id(&app).await;
    let before = settled(app.get_key(&first).await.ok());
    let reply = app
        .update_key(&first, &json!({ "roles": ["viewer"] }))
        .await;
    reply.assert_error(409, LAST_ADMIN);
    assert_eq!(
        settled(app.get_key(&first).await.ok()),
        before,
        "a refused scope changed the key"
    );
    app.assert_key_works(&app.admin_key).await;

    // Allowed networks that shut out the address the change comes from lock out the same way.
    let elsewhere = json!({ "allowedCidrs": ["10.0.0.0/8"] });
    app.update_key(&first, &elsewhere)
        .await
        .assert_error(409, LAST_ADMIN);
    assert_eq!(
        settled(app.get_key(&first).await.ok()),
        before,
        "a refused allowlist changed the key"
    );
    app.update_key(&first, &json!({ "allowedCidrs": ["127.0.0.1"] }))
        .await
        .ok();
    app.assert_key_works(&app.admin_key).await;
    app.update_key(&first, &json!({ "allowedCidrs": null }))
        .await
        .ok();

    // Keeping the admin role in the scope takes nothing away.
    app.update_key(&first, &json!({ "roles": ["admin", "viewer"] }))
        .await
        .ok();
    // With a second admin key, the first may lose the role; then the second is the last one.
    let second = app.create_key_ok("second admin", "admin").await;
    let as_second = Api::new(app.address.clone(), second.key.clone());
    as_second
        .update_key(&first, &json!({ "roles": ["viewer"] }))
        .await
        .ok();
    as_second
        .update_key(&second.id, &json!({ "roles": ["viewer"] }))
        .await
        .assert_error(409, LAST_ADMIN);
    as_second.assert_key_works(&second.key).await;
}
