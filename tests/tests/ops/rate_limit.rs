//! Refused keys are rate-limited per client IP: after the burst, every request from that IP that
//! would check a key gets 429 `{"message"}` with an integer `Retry-After` — valid keys included, since
//! answering them normally would tell a guesser which guess was right. Other clients, and routes that
//! check no key, are unaffected; the limit lifts after `Retry-After`.
//!
//! Clients are told apart with `X-Real-IP`, which the app believes only from a trusted proxy
//! (loopback here).
use crate::helpers::{count, get, metrics, send};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use tests::{spawn_app_with, TestApp};

const BURST: u32 = 3;

/// Refused keys per minute: one token every 3 s, slow enough that a busy machine cannot refill a
/// bucket between two requests of a test, fast enough to wait for.
const PER_MINUTE: u32 = 20;

/// [`PER_MINUTE`] refused keys a minute after a burst of [`BURST`].
async fn limited_app(trust_loopback: bool) -> TestApp {
    spawn_app_with(move |s| {
        s.auth_fail_limit = PER_MINUTE;
        s.auth_fail_burst = BURST;
        s.trusted_proxies = if trust_loopback {
            vec!["127.0.0.1".parse().expect("ip")]
        } else {
            Vec::new()
        };
    })
    .await
}

fn from(ip: &str) -> [(&str, &str); 1] {
    [("X-Real-IP", ip)]
}

async fn guess(app: &TestApp, ip: &str, n: u32) -> u16 {
    let key = format!("vams_wrongguess{n:040}");
    get(app, "/auth/api-keys", Some(&key), &from(ip))
        .await
        .status
}

/// Asserts a 429 with `{"message"}` and an integer `Retry-After` of at most one token's time; returns
/// it.
fn assert_limited(reply: &tests::Reply) -> u64 {
    reply.assert_json_error(429);
    let retry: u64 = reply
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "{}: Retry-After {:?}",
                reply.what,
                reply.header("retry-after")
            )
        });
    assert!(
        (1..=u64::from(60 / PER_MINUTE)).contains(&retry),
        "Retry-After {retry}"
    );
    retry
}

#[tokio::test]
async fn refused_keys_from_one_ip_are_limited_valid_keys_included() {
    let app = limited_app(true).await;
    let ip = "203.0.113.7";
    for n in 0..BURST {
        assert_eq!(guess(&app, ip, n).await, 401, "guess {n} within the burst");
    }
    assert_limited(&get(&app, "/auth/api-keys", Some("vams_another"), &from(ip)).await);
    // While limited, no key from that IP is looked at: a valid one gets 429 too, on every route
    // that checks keys.
    let admin = app.admin_key.clone();
    let retry = assert_limited(&get(&app, "/auth/api-keys", Some(&admin), &from(ip)).await);
    assert_limited(&get(&app, "/auth/check", Some(&admin), &from(ip)).await);
    assert_limited(&get(&app, "/secure-config", Some(&admin), &from(ip)).await);
    let verify = send(
        &app,
        Method::POST,
        "/auth/verify",
        None,
        &from(ip),
        Some(&json!({ "apiKey": admin })),
    )
    .await;
    assert_limited(&verify);

    // Other clients and key-less routes are unaffected.
    get(&app, "/auth/api-keys", Some(&admin), &from("203.0.113.8"))
        .await
        .assert_status(200);
    get(&app, "/api/version", None, &from(ip))
        .await
        .assert_status(200);
    get(&app, "/healthz", None, &from(ip))
        .await
        .assert_status(200);

    // After Retry-After the valid key works again from the same IP.
    tokio::time::sleep(Duration::from_secs(retry) + Duration::from_millis(100)).await;
    get(&app, "/auth/api-keys", Some(&admin), &from(ip))
        .await
        .assert_status(200);
    let text = metrics(&app).await;
    assert!(
        count(&text, "apikeyd_auth_rate_limited_total") >= 5.0,
        "{text}"
    );
}

#[tokio::test]
async fn requests_without_a_key_are_not_guesses() {
    let app = limited_app(true).await;
    let ip = "203.0.113.9";
    for _ in 0..(BURST * 3) {
        get(&app, "/auth/api-keys", None, &from(ip))
            .await
            .assert_status(401);
    }
    get(&app, "/auth/api-keys", Some(&app.admin_key), &from(ip))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn forwarded_addresses_from_untrusted_peers_are_ignored() {
    let app = limited_app(false).await;
    // Each guess claims a different address; the peer (loopback) is what counts.
    for n in 0..BURST {
        let ip = format!("198.51.100.{n}");
        assert_eq!(guess(&app, &ip, n).await, 401);
    }
    let reply = get(
        &app,
        "/auth/api-keys",
        Some(&app.admin_key),
        &from("198.51.100.200"),
    )
    .await;
    assert_limited(&reply);
}
