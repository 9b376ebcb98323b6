//! `allowedCidrs`: a key works only from a listed address. The client is the socket peer, unless
//! the peer is a trusted proxy: only then are verify's `clientIp` and `X-Forwarded-For` believed.
use super::{app_with_user, create_with, prepare, verify_code_from};
use serde_json::json;
use tests::{spawn_app_with, TestApp};

/// An app trusting the loopback peer (the tests) as a proxy, with the test user prepared.
async fn app_behind_a_proxy() -> TestApp {
    let app =
        spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1".parse().expect("cidr")]).await;
    prepare(&app).await;
    app
}

#[tokio::test]
async fn given_an_allowlist_then_the_key_works_only_from_a_listed_address() {
    let app = app_with_user().await;
    let here = create_with(
        &app,
        "loopback only",
        json!({ "allowedCidrs": ["127.0.0.1/32"] }),
    )
    .await;
    app.assert_key_works(&here.key).await;

    let elsewhere = create_with(
        &app,
        "private only",
        json!({ "allowedCidrs": ["10.0.0.0/8"] }),
    )
    .await;
    // 401 on a bearer route and on check, 200 valid:false on verify.
    app.assert_key_refused(&elsewhere.key, "IP_NOT_ALLOWED")
        .await;

    // Allowing the address lets the key in at once; clearing the list allows every address.
    let widened = json!({ "allowedCidrs": ["10.0.0.0/8", "127.0.0.0/8"] });
    app.update_key(&elsewhere.id, &widened).await.ok();
    app.assert_key_works(&elsewhere.key).await;
    app.update_key(&here.id, &json!({ "allowedCidrs": null }))
        .await
        .ok();
    app.assert_key_works(&here.key).await;
}

#[tokio::test]
async fn given_an_untrusted_peer_then_the_client_ip_in_the_verify_body_is_ignored() {
    let app = app_with_user().await;
    let private = create_with(&app, "private", json!({ "allowedCidrs": ["10.0.0.0/8"] })).await;
    let loopback = create_with(&app, "loopback", json!({ "allowedCidrs": ["127.0.0.1"] })).await;
    // The peer (127.0.0.1) is the client, whatever the body claims.
    assert_eq!(
        verify_code_from(&app, &private.key, "10.1.2.3").await,
        "IP_NOT_ALLOWED"
    );
    assert_eq!(
        verify_code_from(&app, &loopback.key, "10.1.2.3").await,
        "VALID"
    );
}

#[tokio::test]
async fn given_a_trusted_proxy_then_the_client_ip_it_names_is_the_client() {
    let app = app_behind_a_proxy().await;
    let private = create_with(&app, "private", json!({ "allowedCidrs": ["10.0.0.0/8"] })).await;
    assert_eq!(
        verify_code_from(&app, &private.key, "10.1.2.3").await,
        "VALID"
    );
    assert_eq!(
        verify_code_from(&app, &private.key, "192.0.2.1").await,
        "IP_NOT_ALLOWED"
    );
    // The same rule on a bearer route: the proxy names the client in X-Forwarded-For.
    app.check_from(&private.key, "10.9.8.7").await;

    let v6 = create_with(&app, "v6", json!({ "allowedCidrs": ["2001:db8::/32"] })).await;
    assert_eq!(
        verify_code_from(&app, &v6.key, "2001:db8:0:1::7").await,
        "VALID"
    );
    assert_eq!(
        verify_code_from(&app, &v6.key, "2001:db9::7").await,
        "IP_NOT_ALLOWED"
    );
    assert_eq!(
        verify_code_from(&app, &v6.key, "10.1.2.3").await,
        "IP_NOT_ALLOWED"
    );
}
