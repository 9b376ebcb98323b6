//! Last use without a write per request: `lastUsedAt`/`lastUsedFrom` in list and get, the usage
//! route, the `unusedForDays`/`expiringWithinDays` filters, persistence across a restart and a
//! rebuild, and two nodes whose observations add up with the latest use winning.
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tests::binary::{self, describe};
use tests::keys::{items, key_body, key_path};
use tests::{spawn_app_with, Api, TestApp};

/// How long a flushed value may take to show (the tests flush every second).
const FLUSH_DEADLINE: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(100);

/// The suite's app: flushing every second, and trusting the loopback proxy so each test picks the
/// client address a use is recorded from (`X-Forwarded-For`).
async fn app() -> TestApp {
    spawn_app_with(|s| {
        s.last_used_flush_seconds = 1;
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("cidr")];
    })
    .await
}

async fn key_item(api: &Api, id: &str) -> Value {
    api.get(&key_path(id)).send().await.ok().clone()
}

/// Polls `probe` until it answers `Some`, failing after [`FLUSH_DEADLINE`].
async fn within_deadline<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let started = Instant::now();
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(last) => assert!(
                started.elapsed() < FLUSH_DEADLINE,
                "{what}: not within {FLUSH_DEADLINE:?}; last: {last}"
            ),
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A metric's value on `/metrics`.
async fn metric(api: &Api, name: &str) -> Option<f64> {
    let text = api
        .client
        .get(api.url("/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Waits until this node has flushed every use it recorded (after at least one flush).
async fn flushed(api: &Api) {
    within_deadline("every recorded use flushed", || async {
        let pending = metric(api, "apikeyd_last_use_pending_keys").await;
        let flushes = metric(api, "apikeyd_last_use_flushes").await;
        match (pending, flushes) {
            (Some(p), Some(f)) if p == 0.0 && f >= 1.0 => Ok(()),
            other => Err(format!("pending, flushes = {other:?}")),
        }
    })
    .await
}

fn total_verifications(usage: &Value) -> u64 {
    items(usage, "hours")
        .iter()
        .map(|h| h["verifications"].as_u64().expect("a count"))
        .sum()
}

#[tokio::test]
async fn a_verification_shows_as_last_use_in_get_list_and_usage() {
    let app = app().await;
    let key = app.key_for_new_user("last-use-user", &["viewer"]).await;
    let fresh = key_item(&app, &key.id).await;
    assert_eq!(fresh["lastUsedAt"], "", "never used: {fresh}");
    assert_eq!(fresh["lastUsedFrom"], "");
    let never = app.key_usage(&key.id).await;
    assert_eq!(never["lastUsedAt"], "");
    assert_eq!(items(&never, "hours").len(), 0);

    app.check_from(&key.key, "198.51.100.7").await;
    app.check_from(&key.key, "198.51.100.7").await;
    let verified = app
        .client
        .post(app.url("/auth/verify"))
        .header("X-Forwarded-For", "203.0.113.9")
        .json(&json!({ "apiKey": key.key }))
        .send()
        .await
        .expect("verify");
    assert_eq!(verified.status(), 200);

    // Shown at once from this node's memory, before any flush.
    let item = key_item(&app, &key.id).await;
    assert_eq!(item["lastUsedFrom"], "203.0.113.9", "{item}");
    let at: chrono::DateTime<chrono::Utc> = item["lastUsedAt"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("lastUsedAt is RFC 3339: {item}"));
    assert!((chrono::Utc::now() - at).num_seconds().abs() < 60);
    let listed = app.listed_key(&key.id).await.expect("listed");
    assert_eq!(listed["lastUsedAt"], item["lastUsedAt"]);

    let report = app.key_usage(&key.id).await;
    assert_eq!(report["apiKeyId"], key.id.as_str());
    assert_eq!(report["lastUsedAt"], item["lastUsedAt"]);
    assert_eq!(report["lastUsedFrom"], "203.0.113.9");
    assert_eq!(total_verifications(&report), 3, "{report}");
    let hour = items(&report, "hours")[0]["hour"]
        .as_str()
        .expect("an hour");
    assert!(hour.ends_with(":00:00Z"), "{hour}");
    let ips = items(&report, "sourceIps");
    assert_eq!(
        ips[0]["ip"], "198.51.100.7",
        "most frequent first: {report}"
    );
    assert_eq!(ips[0]["count"], 2);
    assert_eq!(ips[1]["ip"], "203.0.113.9");
    assert!(ips[1]["lastSeen"].as_str().is_some_and(|s| !s.is_empty()));

    // A refused key counts as no use.
    app.set_active(&key.id, false).await;
    app.check(&key.key).await.assert_status(401);
    assert_eq!(total_verifications(&app.key_usage(&key.id).await), 3);

    app.get(&format!(
        "{}/usage",
        key_path(&uuid::Uuid::new_v4().to_string())
    ))
    .send()
    .await
    .assert_json_error(404);
    app.get("/auth/api-keys/not-a-uuid/usage")
        .send()
        .await
        .assert_json_error(400);
    let deleted = app.create_key_ok("doomed-usage", "last-use-user").await;
    app.check_from(&deleted.key, "198.51.100.8").await;
    app.delete_key(&deleted.id).await.ok();
    app.get(&format!("{}/usage", key_path(&deleted.id)))
        .send()
        .await
        .assert_json_error(404);
}

#[tokio::test]
async fn last_use_and_counts_survive_a_restart_and_a_rebuild() {
    let app = app().await;
    let key = app.key_for_new_user("restart-user", &["viewer"]).await;
    app.check_from(&key.key, "198.51.100.20").await;
    app.check_from(&key.key, "198.51.100.20").await;
    let before = key_item(&app, &key.id).await;
    flushed(&app).await;

    // An abrupt stop: only what was flushed can come back.
    let app = app.restart().await;
    let after = key_item(&app, &key.id).await;
    assert_eq!(after["lastUsedAt"], before["lastUsedAt"], "{after}");
    assert_eq!(after["lastUsedFrom"], "198.51.100.20");
    assert_eq!(total_verifications(&app.key_usage(&key.id).await), 2);

    // New uses add to the persisted counts.
    app.check_from(&key.key, "198.51.100.21").await;
    assert_eq!(total_verifications(&app.key_usage(&key.id).await), 3);
    flushed(&app).await;

    // Usage is not derived from events: a rebuild of the views keeps it.
    let output = binary::run(
        app.backend,
        app.data_path(),
        &["projections", "rebuild"],
        &[],
    )
    .await;
    assert!(output.status.success(), "rebuild: {}", describe(&output));
    let app = app.restart().await;
    let rebuilt = app.key_usage(&key.id).await;
    assert_eq!(total_verifications(&rebuilt), 3, "{rebuilt}");
    assert_eq!(rebuilt["lastUsedFrom"], "198.51.100.21");
}

#[tokio::test]
async fn two_nodes_add_up_and_the_latest_use_wins() {
    let a = app().await;
    let b = a.another_node().await;
    let key = a.key_for_new_user("two-node-user", &["viewer"]).await;
    // The embedded node learns of a's key at its next poll of the log.
    within_deadline("node b knows the key", || async {
        let status = b
            .client
            .get(b.url("/auth/check"))
            .bearer_auth(&key.key)
            .header("X-Forwarded-For", "198.51.100.32")
            .send()
            .await
            .map_err(|e| e.to_string())?
            .status();
        if status == 200 {
            Ok(())
        } else {
            Err(status.to_string())
        }
    })
    .await;
    a.check_from(&key.key, "198.51.100.31").await;
    a.check_from(&key.key, "198.51.100.31").await;
    // Later, on the other node: whichever node flushes last, this is the last use everywhere.
    tokio::time::sleep(Duration::from_millis(5)).await;
    b.check_from(&key.key, "198.51.100.32").await;
    let latest = key_item(&b, &key.id).await["lastUsedAt"].clone();

    for (name, node) in [("a", &a), ("b", &b)] {
        let report = within_deadline(&format!("node {name} sees both nodes' uses"), || async {
            let report = node.key_usage(&key.id).await;
            let ips = items(&report, "sourceIps").len();
            if report["lastUsedFrom"] == "198.51.100.32" && ips == 2 {
                Ok(report)
            } else {
                Err(report.to_string())
            }
        })
        .await;
        assert_eq!(report["lastUsedAt"], latest, "node {name}: {report}");
        // The listing reads what the node's last flush read back from the store.
        let item = within_deadline(&format!("node {name} lists the latest use"), || async {
            let item = key_item(node, &key.id).await;
            if item["lastUsedFrom"] == "198.51.100.32" {
                Ok(item)
            } else {
                Err(item.to_string())
            }
        })
        .await;
        assert_eq!(item["lastUsedAt"], latest, "node {name}: {item}");
    }
    flushed(&a).await;
    flushed(&b).await;
    // Both nodes' counts add up: two on a, two on b.
    let report = a.key_usage(&key.id).await;
    assert_eq!(total_verifications(&report), 4, "{report}");
}

#[tokio::test]
async fn unused_and_expiring_filters_combine_with_every_paging() {
    let app = app().await;
    app.key_for_new_user("filter-user", &["viewer"]).await;
    let used = app.create_key_ok("lu-filter-used", "filter-user").await;
    let mut soon = key_body("lu-filter-soon", "filter-user", "expires soon");
    soon["expiresAt"] = json!((chrono::Utc::now() + chrono::TimeDelta::days(10)).to_rfc3339());
    let soon = tests::keys::created(&app.create_key(&soon).await);
    let mut late = key_body("lu-filter-late", "filter-user", "expires late");
    late["expiresAt"] = json!((chrono::Utc::now() + chrono::TimeDelta::days(100)).to_rfc3339());
    let late = tests::keys::created(&app.create_key(&late).await);
    app.check_from(&used.key, "198.51.100.40").await;

    let names = |reply: &Value| {
        let mut n: Vec<String> = items(reply, "Items")
            .iter()
            .map(|i| i["apiKeyName"].as_str().expect("a name").to_owned())
            .collect();
        n.sort();
        n
    };
    let list = |query: &'static [(&'static str, &'static str)]| {
        let app = &app;
        async move { app.list_keys_with(query).await.ok().clone() }
    };
    let unused = list(&[("filter", "lu-filter"), ("unusedForDays", "1")]).await;
    assert_eq!(names(&unused), ["lu-filter-late", "lu-filter-soon"]);
    let expiring = list(&[("filter", "lu-filter"), ("expiringWithinDays", "30")]).await;
    assert_eq!(names(&expiring), ["lu-filter-soon"]);
    let both = list(&[("unusedForDays", "1"), ("expiringWithinDays", "365")]).await;
    assert_eq!(names(&both), ["lu-filter-late", "lu-filter-soon"]);

    // VAMS paging: pages of one, tokens included.
    let first = list(&[
        ("filter", "lu-filter"),
        ("unusedForDays", "1"),
        ("maxItems", "1"),
    ])
    .await;
    assert_eq!(items(&first, "Items").len(), 1);
    let token = first["NextToken"].as_str().expect("a next page").to_owned();
    let second = app
        .list_keys_with(&[
            ("filter", "lu-filter"),
            ("unusedForDays", "1"),
            ("maxItems", "1"),
            ("startingToken", &token),
        ])
        .await
        .ok()
        .clone();
    assert_eq!(items(&second, "Items").len(), 1);
    assert!(second["NextToken"].is_null(), "{second}");

    // Console pages: the count is of the matching keys.
    let page = list(&[
        ("search", "lu-filter"),
        ("unusedForDays", "1"),
        ("pageSize", "1"),
        ("sortBy", "expiresAt"),
    ])
    .await;
    assert_eq!(page["totalCount"], 2, "{page}");
    assert_eq!(names(&page), ["lu-filter-soon"]);
    let console = list(&[("expiringWithinDays", "30"), ("page", "1")]).await;
    assert_eq!(page_ids(&console), vec![soon.id.clone()]);
    let _ = late;

    for (name, bad) in [
        ("unusedForDays", "-1"),
        ("unusedForDays", "soon"),
        ("expiringWithinDays", "36501"),
        ("expiringWithinDays", "1.5"),
    ] {
        app.list_keys_with(&[(name, bad)])
            .await
            .assert_json_error(400);
    }
}

fn page_ids(reply: &Value) -> Vec<String> {
    items(reply, "Items")
        .iter()
        .map(|i| i["apiKeyId"].as_str().expect("an id").to_owned())
        .collect()
}
