//! `/metrics`: requests counted and timed per route pattern and status, key checks per outcome, and
//! the projection and audit backlogs.
use crate::helpers::{count, get, metrics, sample};
use std::time::{Duration, Instant};
use tests::spawn_app;

#[tokio::test]
async fn requests_are_counted_and_timed_per_route_pattern_and_status() {
    let app = spawn_app().await;
    let missing = uuid::Uuid::new_v4();
    app.get("/auth/api-keys").send().await.ok();
    app.get("/auth/api-keys").send().await.ok();
    app.get(&format!("/auth/api-keys/{missing}"))
        .send()
        .await
        .assert_status(404);
    app.get("/no/such/route").send().await.assert_status(404);
    app.get("/auth/api-keys")
        .anonymous()
        .send()
        .await
        .assert_status(401);

    let text = metrics(&app).await;
    let cases = [
        (r#"method="GET",route="/auth/api-keys",status="200""#, 2.0),
        (
            r#"method="GET",route="/auth/api-keys/{api_key_id}",status="404""#,
            1.0,
        ),
        (r#"method="GET",route="unmatched",status="404""#, 1.0),
        (r#"method="GET",route="/auth/api-keys",status="401""#, 1.0),
    ];
    for (labels, expected) in cases {
        let counter = format!("apikeyd_http_requests_total{{{labels}}}");
        assert_eq!(sample(&text, &counter), Some(expected), "{counter}\n{text}");
        let histogram = format!("apikeyd_http_request_duration_seconds_count{{{labels}}}");
        assert_eq!(sample(&text, &histogram), Some(expected), "{histogram}");
        let inf = format!("apikeyd_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}}");
        assert_eq!(sample(&text, &inf), Some(expected), "{inf}");
    }
    assert!(
        !text.contains("/no/such/route"),
        "raw paths must not become labels"
    );
}

#[tokio::test]
async fn key_checks_are_counted_by_outcome() {
    let app = spawn_app().await;
    let disabled = app.create_key_ok("metrics disabled", "admin").await;
    app.set_active(&disabled.id, false).await;
    let series = |code: &str| format!("apikeyd_auth_verifications_total{{code=\"{code}\"}}");
    let before = metrics(&app).await;

    app.verify(&app.admin_key).await.ok();
    app.check(&app.admin_key).await.assert_status(200);
    app.verify("vams_unknownunknownunknownunknownunknownunkn")
        .await
        .ok();
    app.check("not a key").await.assert_status(401);
    app.verify(&disabled.key).await.ok();

    let after = metrics(&app).await;
    // The scrape itself needs no key; the admin calls above are the VALID ones (plus none else).
    for (code, added) in [
        ("VALID", 2.0),
        ("NOT_FOUND", 1.0),
        ("MALFORMED", 1.0),
        ("DISABLED", 1.0),
    ] {
        let name = series(code);
        assert_eq!(
            count(&after, &name) - count(&before, &name),
            added,
            "{name}\n{after}"
        );
    }
}

#[tokio::test]
async fn projection_and_audit_backlogs_are_exposed_and_drain() {
    let app = spawn_app().await;
    app.create_key_ok("metrics backlog", "admin").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = metrics(&app).await;
        let drained = [
            "apikeyd_projection_unapplied_events",
            "apikeyd_projection_views_unsaved",
            "apikeyd_audit_backlog_events{sink=\"audit-file\"}",
        ]
        .iter()
        .all(|series| sample(&text, series) == Some(0.0));
        if drained || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for (series, expected) in [
        ("apikeyd_store_up", 1.0),
        ("apikeyd_projection_unapplied_events", 0.0),
        ("apikeyd_projection_lag_seconds", 0.0),
        ("apikeyd_projection_views_unsaved", 0.0),
        ("apikeyd_audit_backlog_events{sink=\"audit-file\"}", 0.0),
        ("apikeyd_auth_rate_limited_total", 0.0),
    ] {
        assert_eq!(sample(&text, series), Some(expected), "{series}\n{text}");
    }
    for help in [
        "# TYPE apikeyd_http_request_duration_seconds histogram",
        "# TYPE apikeyd_http_requests_total counter",
        "# TYPE apikeyd_projection_lag_seconds gauge",
    ] {
        assert!(text.contains(help), "missing {help:?}");
    }
}

#[tokio::test]
async fn health_and_readiness_stay_open() {
    let app = spawn_app().await;
    let health = get(&app, "/healthz", None, &[]).await;
    assert_eq!(health.ok()["status"], "ok");
    let ready = get(&app, "/readyz", None, &[]).await;
    let body = ready.ok();
    assert_eq!(body["storeReachable"], true);
    assert_eq!(body["appliedCursor"], body["persistedCursor"]);
}
