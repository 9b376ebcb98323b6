//! Refused keys are rate-limited per client IP, but a key that verifies is always served: after the
//! burst, a *refused* key from that IP gets 429 `{"message"}` with an integer `Retry-After` (no store
//! look-up, no audit record of its own), while a valid key from the same IP keeps getting 200 on
//! every route. Other clients, requests without a key and routes that check no key are unaffected;
//! the limit lifts after `Retry-After`; a flood of limited requests costs a bounded number of log
//! lines.
//!
//! Clients are told apart with `X-Forwarded-For`, which the app believes only from a trusted proxy
//! (loopback here).
use crate::helpers::{count, get, metrics, send};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};
use tests::binary::Server;
use tests::{spawn_app_with, Api, Backend, TestApp};

const BURST: u32 = 3;

/// Refused keys per minute: one token every 3 s, slow enough that a busy machine cannot refill a
/// bucket between two requests of a test, fast enough to wait for.
const PER_MINUTE: u32 = 20;

/// Where [`limited_app`] writes its audit trail, on every backend.
const AUDIT: &str = "audit-rate-limit.log";

/// [`PER_MINUTE`] refused keys a minute after a burst of [`BURST`].
async fn limited_app(trust_loopback: bool) -> TestApp {
    spawn_app_with(move |s| {
        s.audit_file = Some(s.data_dir.join(AUDIT));
        s.auth_fail_limit = PER_MINUTE;
        s.auth_fail_burst = BURST;
        s.trusted_proxies = if trust_loopback {
            vec!["127.0.0.1".parse().expect("cidr")]
        } else {
            Vec::new()
        };
    })
    .await
}

fn from(ip: &str) -> [(&str, &str); 1] {
    [("X-Forwarded-For", ip)]
}

fn wrong_key(n: u32) -> String {
    format!("vams_wrongguess{n:040}")
}

async fn guess(api: &Api, ip: &str, n: u32) -> tests::Reply {
    get(api, "/auth/api-keys", Some(&wrong_key(n)), &from(ip)).await
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

/// Every route that checks a key, with `key`, from `ip`; returns the statuses.
async fn every_key_route(api: &Api, key: &str, ip: &str) -> Vec<(&'static str, u16)> {
    let verify = send(
        api,
        Method::POST,
        "/auth/verify",
        None,
        &from(ip),
        Some(&json!({ "apiKey": key })),
    )
    .await;
    vec![
        (
            "bearer route",
            get(api, "/auth/api-keys", Some(key), &from(ip))
                .await
                .status,
        ),
        (
            "/auth/check",
            get(api, "/auth/check", Some(key), &from(ip)).await.status,
        ),
        (
            "/secure-config",
            get(api, "/secure-config", Some(key), &from(ip))
                .await
                .status,
        ),
        ("/auth/verify", verify.status),
    ]
}

#[tokio::test]
async fn a_refused_key_flood_never_locks_out_a_valid_key_from_the_same_ip() {
    let app = limited_app(true).await;
    let ip = "203.0.113.7";
    for n in 0..BURST {
        guess(&app, ip, n).await.assert_status(401);
    }
    // The flood goes on; between any two refused keys the valid key from the same address works.
    let flood = 30;
    for n in BURST..BURST + flood {
        assert_limited(&guess(&app, ip, n).await);
        get(&app, "/auth/api-keys", Some(&app.admin_key), &from(ip))
            .await
            .assert_status(200);
    }
    for (route, status) in every_key_route(&app, &app.admin_key, ip).await {
        assert_eq!(status, 200, "valid key on {route} from the limited address");
    }
    for (route, status) in every_key_route(&app, &wrong_key(999), ip).await {
        assert_eq!(
            status, 429,
            "refused key on {route} from the limited address"
        );
    }
    // Other clients and key-less routes are unaffected.
    guess(&app, "203.0.113.8", 0).await.assert_status(401);
    get(&app, "/api/version", None, &from(ip))
        .await
        .assert_status(200);
    get(&app, "/healthz", None, &from(ip))
        .await
        .assert_status(200);
    let limited = flood + 4;
    let text = metrics(&app).await;
    assert_eq!(
        count(&text, "apikeyd_auth_rate_limited_total"),
        f64::from(limited),
        "{text}"
    );
    // The audit has a record for each refusal that was looked at (the burst and the other
    // client's), and only a count for the limited ones.
    let (records, suppressed) = audited_refusals(&app, BURST + 1, limited).await;
    assert_eq!(records, BURST + 1, "authFailure records");
    assert_eq!(
        suppressed,
        u64::from(limited),
        "authFailureSuppressed total"
    );
}

/// `authFailure` records and the `authFailureSuppressed` total in the audit trail, once they reach
/// at least the expected numbers (bounded wait: refusals are written once a second).
async fn audited_refusals(app: &TestApp, records: u32, suppressed: u32) -> (u32, u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let trail = tests::secrets::read_audit(&app.data_path().join(AUDIT));
        let found = trail
            .iter()
            .filter(|r| r["action"] == "authFailure")
            .count() as u32;
        let total: u64 = trail
            .iter()
            .filter(|r| r["action"] == "authFailureSuppressed")
            .filter_map(|r| r["changes"]["suppressed"].as_u64())
            .sum();
        if (found >= records && total >= u64::from(suppressed)) || Instant::now() > deadline {
            return (found, total);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_limit_lifts_after_retry_after() {
    let app = limited_app(true).await;
    let ip = "203.0.113.17";
    for n in 0..BURST {
        guess(&app, ip, n).await.assert_status(401);
    }
    let retry = assert_limited(&guess(&app, ip, 100).await);
    // Limited refusals take no token, so asking again does not extend the wait.
    let deadline = Instant::now() + Duration::from_secs(retry) + Duration::from_secs(30);
    loop {
        match guess(&app, ip, 101).await.status {
            401 => break,
            429 => assert!(
                Instant::now() < deadline,
                "still limited long after Retry-After"
            ),
            other => panic!("unexpected status {other}"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
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
    guess(&app, ip, 0).await.assert_status(401);
}

#[tokio::test]
async fn forwarded_addresses_from_untrusted_peers_are_ignored() {
    let app = limited_app(false).await;
    // Each guess claims a different address; the peer (loopback) is what counts.
    for n in 0..BURST {
        let ip = format!("198.51.100.{n}");
        guess(&app, &ip, n).await.assert_status(401);
    }
    assert_limited(&guess(&app, "198.51.100.200", 50).await);
    get(
        &app,
        "/auth/api-keys",
        Some(&app.admin_key),
        &from("198.51.100.201"),
    )
    .await
    .assert_status(200);
}

/// Lines of `stderr` about the flood: refusals, sampled rate-limit lines and access-log lines.
fn flood_lines(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| {
            l.contains("authentication refused")
                || l.contains("rate-limited")
                || l.contains("\"GET /auth/check\"")
        })
        .count()
}

#[tokio::test]
async fn a_limited_flood_costs_a_bounded_number_of_log_lines() {
    let data = tempfile::tempdir().expect("data dir");
    let logs = tempfile::tempdir().expect("logs dir");
    let env = [
        ("APIKEYD_AUTH_FAIL_LIMIT", "1"),
        ("APIKEYD_AUTH_FAIL_BURST", "2"),
        ("RUST_LOG", "info"),
    ];
    let server = Server::start(Backend::from_env(), data.path(), logs.path(), "flood", &env).await;
    let api = Api::new(server.address.clone(), "unused");
    let flood = 200;
    let mut limited = 0;
    for n in 0..flood {
        let reply = get(&api, "/auth/check", Some(&wrong_key(n)), &[]).await;
        match reply.status {
            401 => {}
            429 => limited += 1,
            other => panic!("refused key {n}: status {other}"),
        }
    }
    assert_eq!(
        limited,
        flood - 2,
        "everything after the burst of 2 is limited"
    );
    let stderr_path = server.stderr.clone();
    server.stop().await;
    let stderr = std::fs::read_to_string(&stderr_path).expect("stderr");
    // The burst: 2 refusals + 2 access lines; the limited rest: one sampled line (two if the run
    // spans a minute on a very slow machine).
    let lines = flood_lines(&stderr);
    assert!(
        (5..=8).contains(&lines),
        "{lines} log lines for {flood} refused keys:\n{stderr}"
    );
    assert!(
        stderr.contains("limited_since_last_line"),
        "the sampled line carries its count:\n{stderr}"
    );
}
