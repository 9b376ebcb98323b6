//! `rateLimit`: a fixed window (aligned to multiples of the period since the epoch) admits `limit`
//! valid requests of the key across every route, then verify answers `RATE_LIMITED` with
//! `retryAfterSeconds`, check 429 with `Retry-After`, a bearer route 429 `{"message"}`. Refused
//! requests (deactivated, not allowed from here) do not count.
use super::{app_with_user, create_with};
use serde_json::{json, Value};
use std::time::Duration;
use tests::rate_window::{seconds_left, with_room};
use tests::{Api, Reply};

/// A day: the window cannot roll during a test once [`with_room`] has said there is [`ROOM`].
const PERIOD: u64 = 86_400;
const ROOM: Duration = Duration::from_secs(120);

fn limited(limit: u64) -> Value {
    json!({ "rateLimit": { "limit": limit, "periodSeconds": PERIOD } })
}

/// Asserts `retry_after` points at the end of the window in force (within a few seconds).
#[track_caller]
fn assert_until_window_end(retry_after: u64, what: &str) {
    let left = seconds_left(PERIOD);
    assert!(
        retry_after >= 1 && retry_after <= left + 1 && retry_after + 10 >= left,
        "{what}: retry after {retry_after} s, but the window ends in {left} s"
    );
}

#[track_caller]
fn retry_after_header(reply: &Reply) -> u64 {
    let value = reply.header("retry-after").unwrap_or_else(|| {
        panic!(
            "{}: 429 without Retry-After: {:?}",
            reply.what, reply.headers
        )
    });
    value
        .parse()
        .unwrap_or_else(|_| panic!("{}: Retry-After {value:?} is not seconds", reply.what))
}

/// Asserts every route refuses `key` for its rate limit.
async fn assert_rate_limited(app: &Api, key: &str) {
    let reply = app.verify(key).await;
    let body = reply.ok();
    assert_eq!(
        (&body["valid"], &body["code"]),
        (&json!(false), &json!("RATE_LIMITED")),
        "{body}"
    );
    let retry = body["retryAfterSeconds"]
        .as_u64()
        .unwrap_or_else(|| panic!("RATE_LIMITED without retryAfterSeconds: {body}"));
    assert_until_window_end(retry, "verify");

    let check = app.check(key).await;
    check.assert_status(429);
    assert_until_window_end(retry_after_header(&check), "check");

    let bearer = app.secure_config_as(key).await;
    let message = bearer.assert_json_error(429);
    assert!(
        message.starts_with("Rate limit exceeded for this API key; retry after "),
        "bearer route: {message}"
    );
    assert_until_window_end(retry_after_header(&bearer), "bearer route");
}

#[tokio::test]
async fn given_a_limit_of_3_then_3_requests_on_any_route_are_admitted_and_then_all_refused() {
    let app = app_with_user().await;
    let key = create_with(&app, "limited", limited(3)).await;
    let other = create_with(&app, "also limited", limited(3)).await;
    with_room(PERIOD, ROOM).await;
    assert_eq!(app.verify_code(&key.key).await, "VALID");
    app.check(&key.key).await.assert_status(200);
    app.secure_config_as(&key.key).await.assert_status(200);
    assert_rate_limited(&app, &key.key).await;
    // Refusals are not admissions: it stays refused, and other keys count on their own.
    assert_rate_limited(&app, &key.key).await;
    app.assert_key_works(&other.key).await;
    app.assert_key_works(&app.admin_key).await;
}

#[tokio::test]
async fn given_refused_requests_then_they_do_not_consume_the_limit() {
    let app = app_with_user().await;
    let paused = create_with(&app, "paused", limited(3)).await;
    app.set_active(&paused.id, false).await;
    let remote = json!({ "allowedCidrs": ["10.0.0.0/8"], "rateLimit": { "limit": 2, "periodSeconds": PERIOD } });
    let remote = create_with(&app, "remote only", remote).await;
    with_room(PERIOD, ROOM).await;
    for _ in 0..5 {
        app.assert_key_refused(&paused.key, "DISABLED").await;
        app.assert_key_refused(&remote.key, "IP_NOT_ALLOWED").await;
    }

    app.set_active(&paused.id, true).await;
    for n in 0..3 {
        assert_eq!(app.verify_code(&paused.key).await, "VALID", "request {n}");
    }
    assert_rate_limited(&app, &paused.key).await;

    app.update_key(&remote.id, &json!({ "allowedCidrs": null }))
        .await
        .ok();
    for n in 0..2 {
        assert_eq!(app.verify_code(&remote.key).await, "VALID", "request {n}");
    }
    assert_rate_limited(&app, &remote.key).await;
}
