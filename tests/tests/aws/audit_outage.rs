//! CloudWatch goes away under a running node: commands keep answering 200, the records wait, and once
//! CloudWatch is back (empty, as moto restarts) every one of them is delivered exactly once, in order.
use crate::cloudwatch::{self, assert_no_duplicates, ids, Line};
use crate::emulator::{Emulator, Kind};
use crate::env::{eventually, fresh_group, fresh_prefix, Emulators};
use crate::node::{Node, NodeConfig};
use serde_json::json;
use std::time::{Duration, Instant};
use tests::Api;

/// The bootstrap's three events plus the test's first three.
const BEFORE_OUTAGE: usize = 6;

/// The backlog gauge of the CloudWatch sink on `/metrics`.
const BACKLOG: &str = "apikeyd_audit_backlog_events{sink=\"audit-cloudwatch\"}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_written_while_cloudwatch_is_down_arrive_once_in_order() {
    let Some(_emulators) = Emulators::or_skip("audit_outage") else {
        return;
    };
    let mut moto = Emulator::start(Kind::Moto).await;
    let group = fresh_group("outage");
    let logs = tempfile::tempdir().expect("a logs dir");
    let config = NodeConfig::new(&fresh_prefix(), &group)
        .with_env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", &moto.endpoint());
    let node = Node::start(&config, "outage", logs.path()).await;
    let admin_key = node.bootstrap_key().expect("a fresh table set bootstraps");
    let api = node.api(&admin_key);
    let client = cloudwatch::client(&moto.endpoint()).await;

    let first = api.key_for_new_user("bob", &["outage-readers"]).await;
    let before = cloudwatch::settled(&client, &group, BEFORE_OUTAGE).await;

    moto.kill().await;
    let second = api.create_key_ok("made while down", "bob").await;
    for (id, body) in [
        (&first.id, json!({ "description": "changed while down" })),
        (&second.id, json!({ "isActive": false })),
    ] {
        api.update_key(id, &body).await.ok();
    }
    api.delete_key(&first.id).await.ok();
    api.create_role("made-while-down").await.ok();
    let expected = [
        ("apiKeyCreate", second.id.as_str()),
        ("apiKeyUpdate", first.id.as_str()),
        ("apiKeyUpdate", second.id.as_str()),
        ("apiKeyDelete", first.id.as_str()),
        ("roleCreate", "made-while-down"),
    ];
    backlog_reaches(&api, expected.len()).await;

    moto.restart().await;
    let after = cloudwatch::settled(&client, &group, expected.len()).await;
    assert_no_duplicates(&after, "after the outage");
    let old = ids(&before);
    assert!(
        after
            .iter()
            .all(|l| !old.contains(&l.event_id().to_owned())),
        "records delivered before the outage were sent again: {:?}",
        ids(&after)
    );
    let delivered: Vec<(&str, &str)> = after.iter().map(subject).collect();
    assert_eq!(
        delivered, expected,
        "records written during the outage, in order"
    );
    drop(node);
}

/// The action and the key id (or role name) of a record.
fn subject(line: &Line) -> (&str, &str) {
    let r = &line.record;
    let id = r["apiKeyId"]
        .as_str()
        .or_else(|| r["roleName"].as_str())
        .unwrap_or_default();
    (line.action(), id)
}

/// How long the records are watched staying pending while CloudWatch is down: several delivery
/// attempts (the node polls every 200 ms).
const HOLD_OUTAGE: Duration = Duration::from_secs(2);

/// While CloudWatch is down the node counts the undelivered records (bounded wait), and keeps
/// counting them over several failed delivery attempts: they are pending, not dropped.
async fn backlog_reaches(api: &Api, pending: usize) {
    let (seen, took) = eventually(
        "the CloudWatch sink's backlog counts the records written during the outage",
        Duration::from_secs(15),
        Duration::from_millis(250),
        || async {
            let value = backlog(api).await;
            if value >= pending as f64 {
                Ok(value)
            } else {
                Err(format!("{BACKLOG} = {value}"))
            }
        },
    )
    .await;
    eprintln!("audit_outage: backlog {seen} after {took:?} while CloudWatch is down");
    let until = Instant::now() + HOLD_OUTAGE;
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let value = backlog(api).await;
        assert!(
            value >= pending as f64,
            "{BACKLOG} fell to {value} while CloudWatch is down: records left the backlog undelivered"
        );
    }
}

/// The current value of [`BACKLOG`] (0 when not exposed).
async fn backlog(api: &Api) -> f64 {
    let text = api.get("/metrics").anonymous().send().await.text;
    text.lines()
        .find_map(|l| l.strip_prefix(BACKLOG)?.trim().parse::<f64>().ok())
        .unwrap_or(0.0)
}
