//! Exit codes 2 (usage) and 3 (unreachable), JSON errors, and bounded 429 retries. Codes 0 and 1
//! are exercised throughout the other modules.
use crate::helpers::{closed_port_url, spawn_server, Client};
use crate::stub::{self, json_type};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_2() {
    let server = spawn_server().await;
    let client = Client::new(&server.admin_key);
    client.log_in(&server).await;
    for (args, why) in [
        (vec!["api-key", "list", "--bogus"], "unknown flag"),
        (vec!["api-key", "get"], "missing --api-key-id"),
        (vec!["api-key", "frobnicate"], "unknown subcommand"),
        (
            vec!["--api-url", "ftp://example", "api-key", "list"],
            "not an http URL",
        ),
        (vec!["setup", "not a url"], "bad setup URL"),
        (
            vec!["--profile", "a/b", "auth", "status"],
            "bad profile name",
        ),
        (
            vec![
                "auth",
                "login",
                "--user-id",
                "admin",
                "--token-override",
                "",
            ],
            "empty key",
        ),
    ] {
        let run = client.run(&args).await;
        assert_eq!(run.code, 2, "{why}: {run:#?}");
    }
    let json = client
        .run(&["--json", "role", "delete", "--role-name", "admin"])
        .await
        .expect(2)
        .json();
    assert!(json["error"].as_str().unwrap().contains("--yes"));
    // The server and projections subcommands are still there.
    client
        .run(&["projections", "--help"])
        .await
        .expect(0)
        .out_has("verify");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_exits_3_naming_the_url() {
    let client = Client::new("unused-secret");
    let closed = closed_port_url().await;
    client
        .run(&["setup", &closed])
        .await
        .expect(3)
        .err_has(&format!("cannot reach the server at {closed}/api/version"));
    let env = [
        ("APIKEYD_TOKEN", "vams_whatever"),
        ("APIKEYD_API_URL", closed.as_str()),
    ];
    client.run_with(&["api-key", "list"], &env).await.expect(3);
    let json = client
        .run_with(&["--json", "role", "user", "list"], &env)
        .await
        .expect(3)
        .json();
    assert!(json["error"].as_str().unwrap().contains(&closed));
    client
        .run_with(
            &[
                "auth",
                "login",
                "--user-id",
                "u-1",
                "--token-override",
                "vams_x",
            ],
            &[("APIKEYD_API_URL", closed.as_str())],
        )
        .await
        .expect(3);
    assert!(!client.profile_file("default", "auth.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_is_retried_a_bounded_number_of_times() {
    let client = Client::new("vams_stubkey");
    let throttled = (
        429,
        vec![("Retry-After", "0".to_owned())],
        r#"{"message":"Too Many Requests"}"#.to_owned(),
    );
    let answers = throttled.clone();
    let flaky = stub::start(Box::new(move |n, _: &str| {
        if n < 2 {
            let (status, headers, body) = answers.clone();
            (status, headers, body)
        } else {
            (200, json_type(), r#"{"Items":[]}"#.to_owned())
        }
    }))
    .await;
    let env = [
        ("APIKEYD_TOKEN", "vams_stubkey"),
        ("APIKEYD_API_URL", flaky.url.as_str()),
    ];
    client
        .run_with(&["api-key", "list"], &env)
        .await
        .expect(0)
        .out_has("No API keys.");
    let heads = flaky.heads();
    assert_eq!(heads.len(), 3, "two 429s, then the answer");
    assert!(heads[0].starts_with("GET /auth/api-keys "));
    assert!(
        heads[0]
            .to_ascii_lowercase()
            .contains("authorization: bearer vams_stubkey"),
        "{}",
        heads[0]
    );

    let busy = stub::start(Box::new(move |_, _: &str| throttled.clone())).await;
    let env = [
        ("APIKEYD_TOKEN", "vams_stubkey"),
        ("APIKEYD_API_URL", busy.url.as_str()),
    ];
    client
        .run_with(&["api-key", "list"], &env)
        .await
        .expect(1)
        .err_has("error (429): Too Many Requests");
    assert_eq!(busy.heads().len(), 4, "one request and three retries");
}
