//! `api-key create|update --roles --rate-limit --allowed-cidrs --meta` (issue 13): what each flag
//! sends, that "" clears on update, that typing mistakes are usage errors sent nowhere, and how
//! `get` and `list` show the settings. The stub tests check the exact request bodies; the last
//! test runs the same flags against the real server.
use crate::helpers::{cell, spawn_server, Client};
use crate::stub::{self, json_type, Stub};
use serde_json::{json, Value};

/// A key as the server returns it, with all four settings.
fn limited_item() -> Value {
    json!({
        "apiKeyId": "00000000-0000-4000-8000-000000000013",
        "apiKeyName": "gateway",
        "userId": "bot",
        "description": "behind the proxy",
        "createdBy": "admin",
        "createdAt": "2026-12-02T12:00:00+00:00",
        "updatedAt": "2026-12-02T12:00:00+00:00",
        "expiresAt": "",
        "isActive": "true",
        "roles": ["deploy", "read"],
        "rateLimit": {"limit": 100, "periodSeconds": 60},
        "allowedCidrs": ["10.0.0.0/8", "2001:db8::/32"],
        "meta": {"team": "ci"},
    })
}

/// A stub answering every request with `body`.
async fn stub_answering(body: Value) -> Stub {
    let body = body.to_string();
    stub::start(Box::new(move |_, _: &str| (200, json_type(), body.clone()))).await
}

fn stub_env(stub: &Stub) -> [(&'static str, &str); 2] {
    [
        ("APIKEYD_TOKEN", "vams_stubkey"),
        ("APIKEYD_API_URL", stub.url.as_str()),
    ]
}

/// `api-key create` for user `bot` with `extra` flags.
fn create_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "api-key",
        "create",
        "--name",
        "gateway",
        "--user-id",
        "bot",
        "--description",
        "behind the proxy",
    ];
    args.extend_from_slice(extra);
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_flag_becomes_its_wire_field_and_is_shown() {
    let client = Client::new("vams_stubkey");
    let mut created = limited_item();
    // A short stand-in for the one-time key: long enough to be printed, not key-shaped.
    created["apiKey"] = json!(format!("vams_{}", "s".repeat(8)));
    let server = stub_answering(created).await;
    let args = create_args(&[
        "--roles",
        "deploy, read",
        "--rate-limit",
        "100/60s",
        "--allowed-cidrs",
        "10.0.0.0/8,2001:db8::/32",
        "--meta",
        r#"{"team":"ci"}"#,
    ]);
    client
        .run_with(&args, &stub_env(&server))
        .await
        .expect(0)
        .out_has("Roles (scope):")
        .out_has("deploy, read")
        .out_has("100 per 1m")
        .out_has("10.0.0.0/8, 2001:db8::/32")
        .out_has(r#"{"team":"ci"}"#);
    assert_eq!(
        server.bodies(),
        [json!({
            "apiKeyName": "gateway",
            "userId": "bot",
            "description": "behind the proxy",
            "roles": ["deploy", "read"],
            "rateLimit": {"limit": 100, "periodSeconds": 60},
            "allowedCidrs": ["10.0.0.0/8", "2001:db8::/32"],
            "meta": {"team": "ci"},
        })]
    );

    // On create an empty value sets nothing: the field is left out.
    let server = stub_answering(limited_item()).await;
    let args = create_args(&["--roles", "", "--meta", ""]);
    client.run_with(&args, &stub_env(&server)).await.expect(0);
    let body = &server.bodies()[0];
    for field in ["roles", "rateLimit", "allowedCidrs", "meta"] {
        assert!(body.get(field).is_none(), "{field} sent in {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_update_empty_clears_and_a_settings_only_update_is_valid() {
    let client = Client::new("vams_stubkey");
    let server = stub_answering(limited_item()).await;
    let id = "00000000-0000-4000-8000-000000000013";
    let update = |flags: &[&'static str]| {
        let mut args = vec!["api-key", "update", "--api-key-id", id];
        args.extend_from_slice(flags);
        args
    };
    let env = stub_env(&server);
    let clear = update(&[
        "--roles",
        "",
        "--rate-limit",
        "",
        "--allowed-cidrs",
        "",
        "--meta",
        "",
    ]);
    client.run_with(&clear, &env).await.expect(0);
    client
        .run_with(&update(&["--rate-limit", "10/s"]), &env)
        .await
        .expect(0)
        .out_has("Updated API key 'gateway'");
    client
        .run_with(&update(&["--roles", "read"]), &env)
        .await
        .expect(0);
    assert_eq!(
        server.bodies(),
        [
            json!({"roles": null, "rateLimit": null, "allowedCidrs": null, "meta": null}),
            json!({"rateLimit": {"limit": 10, "periodSeconds": 1}}),
            json!({"roles": ["read"]}),
        ],
        "only the given fields, null to clear"
    );
    assert!(server.heads()[0].starts_with(&format!("PUT /auth/api-keys/{id} ")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_mistakes_are_usage_errors_and_send_nothing() {
    let client = Client::new("vams_stubkey");
    let server = stub_answering(limited_item()).await;
    let oversized = format!(r#"{{"notes":"{}"}}"#, "x".repeat(4096));
    let cases: [(&str, &str, &str, &str); 9] = [
        (
            "no period",
            "--rate-limit",
            "100",
            "invalid --rate-limit '100': use N/PERIOD",
        ),
        (
            "unknown unit",
            "--rate-limit",
            "100/60w",
            "invalid --rate-limit '100/60w'",
        ),
        (
            "count not a number",
            "--rate-limit",
            "x/s",
            "invalid --rate-limit 'x/s'",
        ),
        (
            "negative period",
            "--rate-limit",
            "5/-1",
            "invalid --rate-limit '5/-1'",
        ),
        (
            "meta not JSON",
            "--meta",
            "{team:ci}",
            "invalid --meta: not JSON",
        ),
        (
            "meta an array",
            "--meta",
            "[1,2]",
            "invalid --meta: give a JSON object",
        ),
        (
            "meta too big",
            "--meta",
            &oversized,
            "invalid --meta: at most 4096 bytes",
        ),
        ("roles only commas", "--roles", ",", "invalid --roles ','"),
        (
            "networks only commas",
            "--allowed-cidrs",
            " , ",
            "invalid --allowed-cidrs",
        ),
    ];
    for (case, flag, value, message) in cases {
        let args = create_args(&[flag, value]);
        let run = client.run_with(&args, &stub_env(&server)).await;
        assert_eq!(run.code, 2, "{case}: {run:#?}");
        assert!(run.stderr.contains(message), "{case}: {run:#?}");
        let args = ["api-key", "update", "--api-key-id", "k", flag, value];
        let run = client.run_with(&args, &stub_env(&server)).await;
        assert_eq!(run.code, 2, "{case} on update: {run:#?}");
    }
    assert!(server.heads().is_empty(), "nothing was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_has_a_limits_column() {
    let client = Client::new("vams_stubkey");
    let mut plain = limited_item();
    plain["apiKeyId"] = json!("00000000-0000-4000-8000-000000000001");
    plain["apiKeyName"] = json!("plain");
    for field in ["roles", "rateLimit", "allowedCidrs", "meta"] {
        plain.as_object_mut().unwrap().remove(field);
    }
    let mut limited_only = plain.clone();
    limited_only["apiKeyName"] = json!("throttled");
    limited_only["rateLimit"] = json!({"limit": 5, "periodSeconds": 3600});
    let server = stub_answering(json!({ "Items": [limited_item(), plain, limited_only] })).await;
    let table = client
        .run_with(&["api-key", "list"], &stub_env(&server))
        .await;
    table.expect(0);
    assert_eq!(
        cell(&table.stdout, "gateway", "Limits"),
        "scope,limit,networks,meta"
    );
    assert_eq!(cell(&table.stdout, "plain", "Limits"), "-");
    assert_eq!(cell(&table.stdout, "throttled", "Limits"), "limit");
    assert_eq!(cell(&table.stdout, "throttled", "Active"), "yes");
}

/// The same flags against the real server: stored, normalized, shown, cleared, and the server's
/// own refusals passed on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_round_trip_through_the_server() {
    let server = spawn_server().await;
    let client = Client::new(&server.admin_key);
    client.log_in(&server).await;
    let args = [
        "--json",
        "api-key",
        "create",
        "--name",
        "scoped",
        "--user-id",
        "admin",
        "--description",
        "scoped and limited",
        "--roles",
        "admin",
        "--rate-limit",
        "100/60s",
        "--allowed-cidrs",
        "10.1.2.3/8,192.0.2.7",
        "--meta",
        r#"{"team":"ci"}"#,
    ];
    let created = client.run(&args).await.expect(0).json();
    assert_eq!(created["roles"], json!(["admin"]));
    assert_eq!(
        created["rateLimit"],
        json!({"limit": 100, "periodSeconds": 60})
    );
    assert_eq!(
        created["allowedCidrs"],
        json!(["10.0.0.0/8", "192.0.2.7/32"]),
        "stored normalized"
    );
    assert_eq!(created["meta"], json!({"team": "ci"}));
    let id = created["apiKeyId"].as_str().unwrap().to_owned();

    client
        .run(&["api-key", "get", "--api-key-id", &id])
        .await
        .expect(0)
        .out_has("Roles (scope):")
        .out_has("100 per 1m")
        .out_has("10.0.0.0/8, 192.0.2.7/32");
    let table = client.run(&["api-key", "list"]).await;
    table.expect(0);
    assert_eq!(
        cell(&table.stdout, "scoped", "Limits"),
        "scope,limit,networks,meta"
    );

    let update = |flags: &[&'static str]| {
        let mut args = vec!["--json", "api-key", "update", "--api-key-id", id.as_str()];
        args.extend_from_slice(flags);
        args
    };
    let cleared = client
        .run(&update(&[
            "--roles",
            "",
            "--allowed-cidrs",
            "",
            "--meta",
            "",
        ]))
        .await
        .expect(0)
        .json();
    for field in ["roles", "allowedCidrs", "meta"] {
        assert!(cleared.get(field).is_none(), "{field} still in {cleared}");
    }
    assert_eq!(
        cleared["rateLimit"],
        json!({"limit": 100, "periodSeconds": 60}),
        "unchanged"
    );

    // The server's own checks come back as its messages (exit 1; in --json, on stdout).
    for (flags, message) in [
        (["--roles", "no-such-role"], "is not held by user 'admin'"),
        (["--rate-limit", "0/60s"], "rateLimit.limit"),
        (["--allowed-cidrs", "10.0.0.0/33"], "allowedCidrs"),
    ] {
        let refused = client.run(&update(&flags)).await.expect(1).json();
        assert_eq!(refused["status"], 400, "{flags:?}");
        let error = refused["error"].as_str().unwrap_or_default();
        assert!(error.contains(message), "{flags:?}: {error}");
    }
}
