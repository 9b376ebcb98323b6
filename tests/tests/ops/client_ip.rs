//! Who the client is, by the trusted-proxy rule: behind a trusted proxy the client is the rightmost
//! untrusted `X-Forwarded-For` entry; a client-sent `X-Real-IP` or left-hand `X-Forwarded-For` entry
//! cannot change it; an untrusted peer's forwarding headers are ignored. The failure limiter and the
//! audit trail (events' and refusals' `sourceIp`) name the same client.
use crate::helpers::get;
use std::time::{Duration, Instant};
use tests::secrets::read_audit;
use tests::{spawn_app_with, Api, TestApp};

const BURST: u32 = 2;

/// A limited app trusting `trusted` as proxies, auditing to a file on every backend.
async fn app_trusting(trusted: &'static [&'static str], real_ip_header: bool) -> TestApp {
    spawn_app_with(move |s| {
        s.auth_fail_limit = 1;
        s.auth_fail_burst = BURST;
        s.trusted_proxies = trusted.iter().map(|t| t.parse().expect("cidr")).collect();
        if real_ip_header {
            s.client_ip_header = api::client_info::ClientIpHeader::XRealIp;
        }
        s.audit_file = Some(s.data_dir.join("audit-client-ip.log"));
    })
    .await
}

fn wrong_key(n: usize) -> String {
    format!("vams_clientipguess{n:040}")
}

/// Presents `BURST` refused keys with the given header sets, then one more with `last`; returns the
/// status of that last one (429 when all were charged to one client).
async fn guesses(api: &Api, each: &[Vec<(&str, String)>], last: &[(&str, String)]) -> u16 {
    for (n, headers) in each.iter().enumerate() {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        get(api, "/auth/check", Some(&wrong_key(n)), &headers)
            .await
            .assert_status(401);
    }
    let headers: Vec<(&str, &str)> = last.iter().map(|(k, v)| (*k, v.as_str())).collect();
    get(api, "/auth/check", Some(&wrong_key(99)), &headers)
        .await
        .status
}

#[tokio::test]
async fn a_client_behind_a_trusted_proxy_cannot_pick_its_address() {
    let app = app_trusting(&["127.0.0.1"], false).await;
    // X-Real-IP is not the configured header: a different one per request changes nothing.
    let each: Vec<_> = (0..BURST)
        .map(|n| {
            vec![
                ("X-Forwarded-For", "203.0.113.10".to_owned()),
                ("X-Real-IP", format!("198.51.100.{n}")),
            ]
        })
        .collect();
    let last = [
        ("X-Forwarded-For", "203.0.113.10".to_owned()),
        ("X-Real-IP", "198.51.100.99".to_owned()),
    ];
    assert_eq!(guesses(&app, &each, &last).await, 429, "X-Real-IP spoof");

    // Multi-hop: entries the client wrote (left) vary; the one the proxy appended (right) counts.
    let each: Vec<_> = (0..BURST)
        .map(|n| vec![("X-Forwarded-For", format!("10.9.9.{n}, 203.0.113.11"))])
        .collect();
    let last = [("X-Forwarded-For", "6.6.6.6, 203.0.113.11".to_owned())];
    assert_eq!(
        guesses(&app, &each, &last).await,
        429,
        "left-hand XFF spoof"
    );

    // The rightmost entry is the client: a different one is a different client.
    let last = [("X-Forwarded-For", "203.0.113.11, 203.0.113.12".to_owned())];
    assert_eq!(guesses(&app, &[], &last).await, 401, "another client");
}

#[tokio::test]
async fn trusted_proxy_ranges_are_skipped_from_the_right() {
    let app = app_trusting(&["127.0.0.0/8", "10.0.0.0/8"], false).await;
    let each: Vec<_> = (0..BURST)
        .map(|n| vec![("X-Forwarded-For", format!("203.0.113.20, 10.0.0.{n}"))])
        .collect();
    let last = [("X-Forwarded-For", "203.0.113.20, 10.1.2.3".to_owned())];
    assert_eq!(
        guesses(&app, &each, &last).await,
        429,
        "inner proxies skipped"
    );
}

#[tokio::test]
async fn x_real_ip_is_believed_only_when_configured_and_only_from_a_trusted_peer() {
    let app = app_trusting(&["127.0.0.1"], true).await;
    let each: Vec<_> = (0..BURST)
        .map(|n| {
            vec![
                ("X-Real-IP", "203.0.113.30".to_owned()),
                ("X-Forwarded-For", format!("198.51.100.{n}")),
            ]
        })
        .collect();
    let last = [("X-Real-IP", "203.0.113.30".to_owned())];
    assert_eq!(
        guesses(&app, &each, &last).await,
        429,
        "X-Real-IP names the client"
    );
    let other = [("X-Real-IP", "203.0.113.31".to_owned())];
    assert_eq!(
        guesses(&app, &[], &other).await,
        401,
        "another X-Real-IP, another client"
    );

    let untrusted = app_trusting(&["10.0.0.1"], true).await;
    let each: Vec<_> = (0..BURST)
        .map(|n| vec![("X-Real-IP", format!("198.51.100.{n}"))])
        .collect();
    let last = [("X-Real-IP", "198.51.100.77".to_owned())];
    assert_eq!(
        guesses(&untrusted, &each, &last).await,
        429,
        "untrusted peer: the peer counts"
    );
}

#[tokio::test]
async fn the_audit_names_the_forwarded_client_not_the_proxy() {
    let app = app_trusting(&["127.0.0.1"], false).await;
    let client = "198.51.100.23";
    let xff = [("X-Forwarded-For", client)];
    let body = tests::keys::key_body("via proxy", "admin", "audited");
    let reply = crate::helpers::send(
        &app,
        reqwest::Method::POST,
        "/auth/api-keys",
        Some(&app.admin_key),
        &xff,
        Some(&body),
    )
    .await;
    let created = tests::keys::created(&reply);
    get(&app, "/auth/check", Some(&wrong_key(1)), &xff)
        .await
        .assert_status(401);

    let path = app.data_path().join("audit-client-ip.log");
    let deadline = Instant::now() + Duration::from_secs(30);
    let (create, refusal) = loop {
        let trail = read_audit(&path);
        let create = trail
            .iter()
            .find(|r| r["action"] == "apiKeyCreate" && r["apiKeyId"] == created.id.as_str());
        let refusal = trail.iter().find(|r| r["action"] == "authFailure");
        if let (Some(c), Some(r)) = (create.cloned(), refusal.cloned()) {
            break (c, r);
        }
        assert!(
            Instant::now() < deadline,
            "audit records missing: {trail:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(create["sourceIp"], client, "event record: {create}");
    assert_eq!(refusal["sourceIp"], client, "refusal record: {refusal}");
}
