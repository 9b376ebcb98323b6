//! `GET /auth/api-keys` (listing, filter, pages) and `GET /auth/api-keys/{id}`.
use serde_json::{json, Value};
use std::collections::BTreeSet;
use tests::keys::{created, expected_key_fields, field_names, items, key_body};
use tests::secrets::sha256_hex;
use tests::{spawn_app, TestApp};

async fn app_with_users(users: &[&str]) -> TestApp {
    let app = spawn_app().await;
    app.ensure_role("viewer").await;
    for user in users {
        app.assign_roles(user, &["viewer"]).await.ok();
    }
    app
}

fn ids(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|item| item["apiKeyId"].as_str().expect("apiKeyId").to_owned())
        .collect()
}

fn names(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|item| item["apiKeyName"].as_str().expect("apiKeyName").to_owned())
        .collect()
}

#[tokio::test]
async fn list_shows_every_key_with_string_flags_and_no_secrets() {
    let app = app_with_users(&["bot"]).await;
    let plain = app.create_key_ok("plain", "bot").await;
    let paused = app.create_key_ok("paused", "bot").await;
    app.set_active(&paused.id, false).await;
    let mut body = key_body("dated", "bot", "d");
    body["expiresAt"] = json!("2031-05-06");
    let dated = created(&app.create_key(&body).await);

    let reply = app.get("/auth/api-keys").send().await;
    let body = reply.ok();
    let top: BTreeSet<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert!(top.contains("Items"), "{body}");
    assert!(
        top.is_subset(&BTreeSet::from(["Items", "NextToken"])),
        "{body}"
    );
    assert!(
        body.get("NextToken").is_none_or(Value::is_null),
        "one page when unpaged: {body}"
    );
    let listed = items(body, "Items");
    let expected = [
        (&plain, "true", ""),
        (&paused, "false", ""),
        (&dated, "true", "2031-05-06T23:59:59+00:00"),
    ];
    for (key, active, expires) in expected {
        let item = listed
            .iter()
            .find(|i| i["apiKeyId"] == json!(key.id))
            .unwrap_or_else(|| panic!("{} not listed in {body}", key.id));
        assert_eq!(field_names(item), expected_key_fields(&[]), "{item}");
        assert_eq!(item["isActive"], json!(active), "{item}");
        assert_eq!(item["expiresAt"], json!(expires), "{item}");
        assert!(!reply.text.contains(&key.key), "plaintext listed");
        assert!(!reply.text.contains(&sha256_hex(&key.key)), "hash listed");
    }
}

#[tokio::test]
async fn get_by_id_returns_the_listed_item() {
    let app = app_with_users(&["bot"]).await;
    let key = app.create_key_ok("one", "bot").await;
    let listed = app.listed_key(&key.id).await.expect("listed");
    assert_eq!(app.get_key(&key.id).await.ok(), &listed);
}

#[tokio::test]
async fn filter_matches_name_user_and_description_case_insensitively() {
    let app = app_with_users(&["alice-ops", "bob-ci"]).await;
    let keys = [
        ("Nightly Backup", "alice-ops", "copies buckets"),
        ("deploy-bot", "bob-ci", "Ships RELEASES"),
        ("metrics", "alice-ops", "reads dashboards"),
    ];
    for (name, user, description) in keys {
        created(&app.create_key(&key_body(name, user, description)).await);
    }
    let cases: [(&str, &[&str], &str); 8] = [
        ("backup", &["Nightly Backup"], "name, other case"),
        ("NIGHTLY", &["Nightly Backup"], "name, upper case"),
        ("BOB", &["deploy-bot"], "user id"),
        (
            "alice",
            &["Nightly Backup", "metrics"],
            "user id of two keys",
        ),
        ("releases", &["deploy-bot"], "description, other case"),
        ("dashboards", &["metrics"], "description"),
        ("ly Back", &["Nightly Backup"], "substring across a space"),
        ("zzz-nothing", &[], "no match"),
    ];
    for (filter, expected, why) in cases {
        let reply = app.list_keys_with(&[("filter", filter)]).await;
        let got = names(items(reply.ok(), "Items"));
        let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(got, expected, "filter {filter:?} ({why})");
    }
    let everything = app.list_keys_with(&[("filter", "")]).await;
    assert_eq!(
        ids(items(everything.ok(), "Items")),
        ids(&app.list_keys().await),
        "an empty filter matches everything"
    );
}

/// Walks every page of `GET /auth/api-keys?maxItems=…[&filter=…]`, checking each page's size.
async fn walk_pages(app: &TestApp, page_size: usize, filter: Option<&str>) -> Vec<Value> {
    let size = page_size.to_string();
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..50 {
        let mut query = vec![("maxItems", size.as_str())];
        if let Some(filter) = filter {
            query.push(("filter", filter));
        }
        if let Some(token) = &token {
            query.push(("startingToken", token.as_str()));
        }
        let reply = app.list_keys_with(&query).await;
        let body = reply.ok();
        let page = items(body, "Items");
        assert!(page.len() <= page_size, "page larger than maxItems: {body}");
        all.extend(page.iter().cloned());
        match body.get("NextToken") {
            None | Some(Value::Null) => return all,
            Some(Value::String(next)) => {
                assert_eq!(
                    page.len(),
                    page_size,
                    "only the last page may be short: {body}"
                );
                token = Some(next.clone());
            }
            Some(other) => panic!("NextToken must be a string or null, got {other}"),
        }
    }
    panic!("more than 50 pages: NextToken never ends");
}

#[tokio::test]
async fn pages_cover_every_key_exactly_once() {
    let app = app_with_users(&["bot"]).await;
    for i in 0..7 {
        app.create_key_ok(&format!("paged {i}"), "bot").await;
    }
    let all = app.list_keys().await;
    for page_size in [1, 3, 100] {
        let walked = walk_pages(&app, page_size, None).await;
        assert_eq!(
            walked.len(),
            all.len(),
            "maxItems={page_size}: duplicates or gaps"
        );
        assert_eq!(ids(&walked), ids(&all), "maxItems={page_size}");
    }
    let filtered = walk_pages(&app, 2, Some("PAGED")).await;
    assert_eq!(filtered.len(), 7, "filter and pages combine");
    assert!(filtered
        .iter()
        .all(|k| k["apiKeyName"].as_str().unwrap().starts_with("paged")));
}

#[tokio::test]
async fn list_parameters_never_cause_a_server_error() {
    let app = app_with_users(&["bot"]).await;
    app.create_key_ok("one", "bot").await;
    let cases: [(&str, &str); 8] = [
        ("maxItems", "abc"),
        ("maxItems", "0"),
        ("maxItems", "-1"),
        ("maxItems", "99999999999999999999999"),
        ("startingToken", "garbage"),
        ("startingToken", ""),
        ("filter", "%_*"),
        ("filter", "\u{0}"),
    ];
    for (name, value) in cases {
        let reply = app.list_keys_with(&[(name, value)]).await;
        if reply.status != 200 {
            reply.assert_client_error();
        }
    }
}

#[tokio::test]
async fn filter_folds_case_beyond_ascii() {
    let app = app_with_users(&["bot"]).await;
    app.create_key(&key_body("Ünïcode Schlüssel", "bot", "Überwachung"))
        .await
        .ok();
    for filter in ["üNÏCODE", "SCHLÜSSEL", "überwachung"] {
        let reply = app.list_keys_with(&[("filter", filter)]).await;
        let got = names(items(reply.ok(), "Items"));
        assert_eq!(
            got,
            BTreeSet::from(["Ünïcode Schlüssel".to_owned()]),
            "filter {filter:?}"
        );
    }
}

/// An admin deletes keys while a console pages through the list: the next page still comes, and no
/// remaining key is skipped or shown twice.
#[tokio::test]
async fn paging_survives_deleting_the_key_a_token_points_at() {
    let app = app_with_users(&["bot"]).await;
    for i in 0..6 {
        app.create_key_ok(&format!("paged {i}"), "bot").await;
    }
    // Only our keys: deleting the admin's own key would end the test early.
    let first = app
        .list_keys_with(&[("maxItems", "2"), ("filter", "paged")])
        .await;
    let first_page = items(first.ok(), "Items").to_vec();
    let token = first.body["NextToken"]
        .as_str()
        .expect("a next page")
        .to_owned();
    for item in &first_page {
        app.delete_key(item["apiKeyId"].as_str().unwrap())
            .await
            .ok();
    }
    let mut seen = Vec::new();
    let mut token = Some(token);
    for _ in 0..20 {
        let Some(current) = token.take() else { break };
        let reply = app
            .list_keys_with(&[
                ("maxItems", "2"),
                ("filter", "paged"),
                ("startingToken", &current),
            ])
            .await;
        let body = reply.ok();
        seen.extend(items(body, "Items").iter().cloned());
        token = body["NextToken"].as_str().map(str::to_owned);
    }
    assert!(token.is_none(), "pages never end");
    assert_eq!(seen.len(), ids(&seen).len(), "a key shown twice");
    let remaining = app.list_keys_with(&[("filter", "paged")]).await;
    assert_eq!(
        ids(&seen),
        ids(items(remaining.ok(), "Items")),
        "keys skipped"
    );
    assert_eq!(seen.len(), 4);
}

/// The console's pages: sorted and searched by the server, a page at a time, with a total count.
#[tokio::test]
async fn console_pages_sort_search_and_count() {
    let app = app_with_users(&["bot", "other"]).await;
    for n in 0..7 {
        let user = if n % 2 == 0 { "bot" } else { "other" };
        app.create_key(&key_body(
            &format!("page-{n}"),
            user,
            &format!("Console {n}"),
        ))
        .await
        .ok();
    }
    let all = app.list_keys_with(&[("pageSize", "500")]).await;
    let total = all.ok()["totalCount"].as_u64().expect("totalCount");
    assert_eq!(total as usize, items(all.ok(), "Items").len());
    assert!(
        all.ok().get("NextToken").is_none(),
        "console pages carry no NextToken"
    );

    let page = |n: &'static str, order: &'static str| {
        [
            ("search", "PAGE-"),
            ("sortBy", "apiKeyName"),
            ("sortOrder", order),
            ("pageSize", "3"),
            ("page", n),
        ]
    };
    let mut walked = Vec::new();
    for n in ["1", "2", "3", "4"] {
        let reply = app.list_keys_with(&page(n, "desc")).await;
        let body = reply.ok();
        assert_eq!(body["totalCount"], 7, "{body}");
        walked.extend(
            items(body, "Items")
                .iter()
                .map(|k| k["apiKeyName"].as_str().unwrap().to_owned()),
        );
    }
    let expected: Vec<String> = (0..7).rev().map(|n| format!("page-{n}")).collect();
    assert_eq!(
        walked, expected,
        "descending by name, pages of 3, nothing twice"
    );

    let by_user = app
        .list_keys_with(&[("search", "console"), ("sortBy", "userId")])
        .await;
    let users: Vec<String> = items(by_user.ok(), "Items")
        .iter()
        .map(|k| k["userId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(users.len(), 7);
    assert!(users.windows(2).all(|w| w[0] <= w[1]), "{users:?}");

    let cases: [(&str, &str); 6] = [
        ("pageSize", "0"),
        ("pageSize", "501"),
        ("page", "0"),
        ("page", "x"),
        ("sortBy", "hash"),
        ("sortOrder", "up"),
    ];
    for (name, value) in cases {
        let reply = app.list_keys_with(&[(name, value)]).await;
        assert_eq!(reply.status, 400, "{name}={value}");
        assert!(
            reply.body["message"].is_string(),
            "{name}={value}: {:?}",
            reply.body
        );
    }
}

/// A create is listed by the same node at once, though the persisted views follow it in the
/// background.
#[tokio::test]
async fn a_created_key_is_listed_and_got_at_once() {
    let app = app_with_users(&["bot"]).await;
    for n in 0..20 {
        let key = app.create_key_ok(&format!("ryw-{n}"), "bot").await;
        let filter = format!("ryw-{n}");
        let listed = app.list_keys_with(&[("filter", filter.as_str())]).await;
        assert_eq!(items(listed.ok(), "Items").len(), 1, "key {n} listed");
        app.get_key(&key.id).await.ok();
        let updated = app
            .update_key(&key.id, &json!({ "description": format!("changed {n}") }))
            .await;
        assert_eq!(updated.ok()["description"], format!("changed {n}"));
    }
}
