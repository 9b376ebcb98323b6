//! No command may take the last live admin key away: removing the admin role from its holder,
//! removing all their roles, deactivating or deleting it are refused with 409 and change nothing,
//! one request at a time or many racing.
use futures::future::join_all;
use serde_json::{json, Value};
use tests::keys::{key_path, CreatedKey};
use tests::{spawn_app, Api, Reply, TestApp};

/// What every refusal says.
pub(crate) const LAST_ADMIN: &str =
    "This would leave no active admin key: at least one unexpired, active key \
                          of a user holding an admin role (APIKEYD_ADMIN_ROLES) must remain";

/// Admin keys (or holders) left before a race.
const RACERS: usize = 6;

/// The id of the first-start key (user `admin`, role `admin`).
pub(crate) async fn bootstrap_key_id(app: &TestApp) -> String {
    let keys = app.list_keys().await;
    let key = keys
        .iter()
        .find(|k| k["apiKeyName"] == "bootstrap-admin")
        .unwrap_or_else(|| panic!("no bootstrap key in {keys:?}"));
    key["apiKeyId"].as_str().expect("an id").to_owned()
}

/// What must not change when a lockout is refused: the admin's roles, and the key listed active.
async fn admin_state(app: &TestApp, id: &str) -> (Vec<String>, Value) {
    let mut key = app.get_key(id).await.ok().clone();
    // Every request here uses the admin key: its last use moves, which is no change of state.
    if let Some(key) = key.as_object_mut() {
        key.remove("lastUsedAt");
        key.remove("lastUsedFrom");
    }
    (app.roles_of("admin").await, key)
}

/// The lockout requests against the bootstrap admin, by name.
async fn lockout(app: &TestApp, case: &str, id: &str) -> Reply {
    match case {
        "PUT /user-roles without admin" => app.replace_roles("admin", &["viewer"]).await,
        "DELETE /user-roles" => app.remove_user_roles("admin").await,
        "PUT isActive false" => app.update_key(id, &json!({ "isActive": false })).await,
        "PUT isActive \"false\"" => app.update_key(id, &json!({ "isActive": "false" })).await,
        "DELETE the key" => app.delete_key(id).await,
        other => panic!("unknown case {other}"),
    }
}

#[tokio::test]
async fn every_lockout_path_is_refused_with_409_and_changes_nothing() {
    let app = spawn_app().await;
    app.ensure_role("viewer").await;
    let id = bootstrap_key_id(&app).await;
    let before = admin_state(&app, &id).await;
    for case in [
        "PUT /user-roles without admin",
        "DELETE /user-roles",
        "PUT isActive false",
        "PUT isActive \"false\"",
        "DELETE the key",
    ] {
        let reply = lockout(&app, case, &id).await;
        assert_eq!(reply.status, 409, "{case}: {}", reply.text);
        assert_eq!(reply.message(), Some(LAST_ADMIN), "{case}");
        assert_eq!(admin_state(&app, &id).await, before, "{case} changed state");
        app.assert_key_works(&app.admin_key).await;
    }
    let audit = app.get(&format!("{}/audit", key_path(&id))).send().await;
    assert_eq!(audit.ok()["Items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn the_last_admin_key_may_still_change_description_and_expiry() {
    let app = spawn_app().await;
    let id = bootstrap_key_id(&app).await;
    let body = json!({ "description": "still mine", "expiresAt": "2099-01-01" });
    let reply = app.update_key(&id, &body).await;
    assert_eq!(reply.ok()["description"], "still mine");
    app.assert_key_works(&app.admin_key).await;
}

#[tokio::test]
async fn a_second_admin_key_lets_the_first_go_but_not_itself() {
    let app = spawn_app().await;
    let first = bootstrap_key_id(&app).await;
    let second = app.create_key_ok("second admin key", "admin").await;
    let as_second = Api::new(app.address.clone(), second.key.clone());
    app.set_active(&first, false).await;
    as_second
        .delete_key(&second.id)
        .await
        .assert_error(409, LAST_ADMIN);
    as_second.delete_key(&first).await.ok();
    as_second
        .update_key(&second.id, &json!({ "isActive": false }))
        .await
        .assert_error(409, LAST_ADMIN);
    as_second.assert_key_works(&second.key).await;
}

#[tokio::test]
async fn a_second_admin_holder_lets_the_first_lose_the_role() {
    let app = spawn_app().await;
    app.ensure_role("viewer").await;
    let bob = app.key_for_new_user("bob", &["admin"]).await;
    let as_bob = Api::new(app.address.clone(), bob.key.clone());
    app.replace_roles("admin", &["viewer"]).await.ok();
    as_bob
        .remove_user_roles("bob")
        .await
        .assert_error(409, LAST_ADMIN);
    as_bob
        .replace_roles("bob", &["viewer"])
        .await
        .assert_error(409, LAST_ADMIN);
    assert_eq!(as_bob.roles_of("bob").await, vec!["admin"]);
    as_bob.assign_roles("admin", &["admin"]).await.ok();
    as_bob.remove_user_roles("bob").await.ok();
    app.assert_key_works(&app.admin_key).await;
}

#[tokio::test]
async fn a_non_admin_key_and_role_go_freely() {
    let app = spawn_app().await;
    let carol = app.key_for_new_user("carol", &["viewer"]).await;
    app.set_active(&carol.id, false).await;
    app.delete_key(&carol.id).await.ok();
    app.remove_user_roles("carol").await.ok();
}

/// Admin keys of user `admin`: the bootstrap key and `RACERS - 1` more.
async fn admin_keys(app: &TestApp) -> Vec<CreatedKey> {
    let mut keys = vec![CreatedKey {
        id: bootstrap_key_id(app).await,
        key: app.admin_key.clone(),
        item: Value::Null,
    }];
    for i in 1..RACERS {
        keys.push(app.create_key_ok(&format!("admin key {i}"), "admin").await);
    }
    keys
}

/// Exactly one reply of `replies` is the lockout refusal and the others succeeded; returns its index.
#[track_caller]
fn one_refused(replies: &[Reply]) -> usize {
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    let refused: Vec<usize> = (0..replies.len())
        .filter(|i| replies[*i].status == 409)
        .collect();
    assert_eq!(refused.len(), 1, "statuses {statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        replies.len() - 1,
        "statuses {statuses:?}"
    );
    replies[refused[0]].assert_error(409, LAST_ADMIN);
    refused[0]
}

#[tokio::test]
async fn racing_removals_of_every_admin_key_leave_exactly_one() {
    let app = spawn_app().await;
    let keys = admin_keys(&app).await;
    // Each request acts with the key it removes, so none is refused for a key another one removed.
    let calls = keys.iter().enumerate().map(|(i, k)| {
        let api = Api::new(app.address.clone(), k.key.clone());
        async move {
            match i % 2 {
                0 => api.delete_key(&k.id).await,
                _ => api.update_key(&k.id, &json!({ "isActive": false })).await,
            }
        }
    });
    let replies = join_all(calls).await;
    let survivor = &keys[one_refused(&replies)];
    let api = Api::new(app.address.clone(), survivor.key.clone());
    api.assert_key_works(&survivor.key).await;
    let active: Vec<Value> = api
        .list_keys()
        .await
        .into_iter()
        .filter(|k| k["isActive"] == "true")
        .collect();
    assert_eq!(active.len(), 1, "{active:?}");
    assert_eq!(active[0]["apiKeyId"], survivor.id.as_str());
}

#[tokio::test]
async fn racing_removals_of_every_admin_holder_leave_exactly_one() {
    let app = spawn_app().await;
    app.ensure_role("viewer").await;
    let mut holders = vec![("admin".to_owned(), app.admin_key.clone())];
    for i in 1..RACERS {
        let user = format!("admin-{i}");
        let key = app.key_for_new_user(&user, &["admin", "viewer"]).await;
        holders.push((user, key.key));
    }
    let calls = holders.iter().enumerate().map(|(i, (user, key))| {
        let api = Api::new(app.address.clone(), key.clone());
        async move {
            match i % 2 {
                0 => api.replace_roles(user, &["viewer"]).await,
                _ => api.remove_user_roles(user).await,
            }
        }
    });
    let replies = join_all(calls).await;
    let (user, key) = &holders[one_refused(&replies)];
    let api = Api::new(app.address.clone(), key.clone());
    api.assert_key_works(key).await;
    let admins: Vec<Value> = api
        .list_user_roles()
        .await
        .into_iter()
        .filter(|u| {
            u["roleName"]
                .as_array()
                .is_some_and(|r| r.contains(&json!("admin")))
        })
        .collect();
    assert_eq!(admins.len(), 1, "{admins:?}");
    assert_eq!(admins[0]["userId"], user.as_str());
}

/// Waits until `node` authenticates `key` (it learns other nodes' keys from the shared log).
async fn wait_until_known(node: &Api, key: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while node.check(key).await.status != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "the other node never learned a key"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Rounds of the two-node race: one round lets a missing guard slip through only sometimes.
const ROUNDS: usize = 5;

#[tokio::test]
async fn racing_removals_on_two_nodes_of_one_store_leave_exactly_one() {
    let a = spawn_app().await;
    let b = a.another_node().await;
    let mut keys = admin_keys(&a).await;
    for round in 0..ROUNDS {
        let nodes = [&a.address, &b.address];
        let apis: Vec<Api> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| Api::new(nodes[i % 2].clone(), k.key.clone()))
            .collect();
        for (api, k) in apis.iter().zip(&keys) {
            wait_until_known(api, &k.key).await;
        }
        let calls = apis.iter().zip(&keys).map(|(api, k)| api.delete_key(&k.id));
        let replies = join_all(calls).await;
        let survivor = keys.swap_remove(one_refused(&replies));
        let admin = Api::new(a.address.clone(), survivor.key.clone());
        // Node A learns node B's deletes from the shared log.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let listed = loop {
            let listed: Vec<Value> = admin.list_keys().await;
            if listed.len() == 1 || std::time::Instant::now() > deadline {
                break listed;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        assert_eq!(listed.len(), 1, "round {round}: {listed:?}");
        assert_eq!(listed[0]["apiKeyId"], survivor.id.as_str());
        keys = vec![survivor];
        for i in 1..RACERS {
            keys.push(
                admin
                    .create_key_ok(&format!("round {round} key {i}"), "admin")
                    .await,
            );
        }
    }
}
