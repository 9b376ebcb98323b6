//! Logs of the real binary with `APIKEYD_LOG_FORMAT=json` at `RUST_LOG=debug`: one JSON object per
//! line, handler events inside a span carrying the request id, the access log naming it too (method
//! and path, never the query string), and no key material or Authorization value anywhere in them.
use crate::helpers::get;
use serde_json::Value;
use tests::binary::Server;
use tests::secrets::secret_part;
use tests::{Api, Backend};

#[tokio::test]
async fn json_logs_carry_the_request_id_and_never_a_key() {
    let data = tempfile::tempdir().expect("data dir");
    let logs = tempfile::tempdir().expect("logs dir");
    let env = [("APIKEYD_LOG_FORMAT", "json"), ("RUST_LOG", "debug")];
    let server = Server::start(Backend::from_env(), data.path(), logs.path(), "json", &env).await;
    let admin_key = tests::secrets::find_keys(&server.stderr_text())
        .into_iter()
        .next()
        .expect("the bootstrap key on stderr");
    let api = Api::new(server.address.clone(), admin_key.clone());
    let created = api.create_key_ok("logged key", "admin").await;
    let refused = "vams_refusedrefusedrefusedrefusedrefusedrefu";
    // A client that puts key material in a query string must not get it logged either.
    let in_query = "vams_inqueryinqueryinqueryinqueryinqueryinqu";
    get(
        &api,
        &format!("/auth/api-keys?filter={in_query}"),
        Some(&admin_key),
        &[],
    )
    .await
    .assert_status(200);
    get(
        &api,
        "/auth/api-keys",
        Some(&created.key),
        &[("X-Request-Id", "ops-log-ok")],
    )
    .await
    .assert_status(200);
    get(
        &api,
        "/auth/check",
        Some(refused),
        &[("X-Request-Id", "ops-log-refused")],
    )
    .await
    .assert_status(401);
    let stderr_path = server.stderr.clone();
    let stdout_path = server.stdout.clone();
    server.stop().await;

    let stderr = std::fs::read_to_string(&stderr_path).expect("stderr");
    let stdout = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    // The first-start banner is plain text by design (it shows the bootstrap key once); everything
    // else is JSON lines.
    let json_lines: Vec<&str> = stderr
        .lines()
        .chain(stdout.lines())
        .filter(|l| l.starts_with('{'))
        .collect();
    assert!(json_lines.len() > 5, "too few JSON log lines:\n{stderr}");
    let records: Vec<Value> = json_lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();

    let refusal = records
        .iter()
        .find(|r| r["fields"]["message"] == "authentication refused")
        .expect("a refusal is logged");
    assert_eq!(
        refusal["span"]["request_id"], "ops-log-refused",
        "{refusal}"
    );
    assert_eq!(refusal["fields"]["code"], "NOT_FOUND");
    let access: Vec<&str> = records
        .iter()
        .filter_map(|r| r["fields"]["message"].as_str())
        .filter(|m| m.contains("\"GET /auth/api-keys\" "))
        .collect();
    assert!(
        access.iter().any(|m| m.ends_with("rid=ops-log-ok")),
        "the access log names the request id: {access:?}"
    );

    let text = json_lines.join("\n");
    for (secret, what) in [
        (secret_part(&admin_key), "the admin key"),
        (secret_part(&created.key), "an issued key"),
        (secret_part(refused), "a refused key"),
        (secret_part(in_query), "a key in a query string"),
        ("Bearer", "an Authorization value"),
    ] {
        assert!(!text.contains(secret), "{what} appears in the logs");
    }
}
