//! `api-key list|get|create|update|delete`, in tables and in JSON.
use crate::helpers::{cell, spawn_server, Client};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_key_lifecycle() {
    let server = spawn_server().await;
    let client = Client::new(&server.admin_key);
    client.log_in(&server).await;

    // Create, for people: the key is shown once, clearly marked.
    let created = client
        .run(&[
            "api-key",
            "create",
            "--name",
            "ci-pipeline",
            "--user-id",
            "admin",
            "--description",
            "Builds and deploys",
        ])
        .await;
    created
        .expect(0)
        .out_has("Created API key 'ci-pipeline'")
        .out_has("Save this key now: it will not be shown again.")
        .out_has("Never");
    let new_key = created
        .stdout
        .split_whitespace()
        .find(|w| w.starts_with("vams_"))
        .expect("the new key is printed")
        .to_owned();

    // Create, for machines, with a date-only expiry and a time.
    let json = client
        .run(&[
            "--json",
            "api-key",
            "create",
            "--name",
            "nightly",
            "--user-id",
            "admin",
            "--description",
            "Nightly job",
            "--expires-at",
            "2099/12/31",
            "--expires-time",
            "08:30:00",
        ])
        .await
        .expect(0)
        .json();
    assert!(json["apiKey"].as_str().unwrap().starts_with("vams_"));
    assert!(json["expiresAt"]
        .as_str()
        .unwrap()
        .starts_with("2099-12-31T08:30:00"));
    let id = json["apiKeyId"].as_str().unwrap().to_owned();

    // The new key works on its own, from the environment.
    let fresh = Client::new(&server.admin_key);
    fresh
        .run_with(
            &[
                "--api-url",
                &server.url,
                "api-key",
                "get",
                "--api-key-id",
                &id,
            ],
            &[("APIKEYD_TOKEN", new_key.as_str())],
        )
        .await
        .expect(0)
        .out_has("nightly");

    // List: a table by default, the server's JSON with --json, filtered.
    let table = client.run(&["api-key", "list"]).await;
    table.expect(0).out_has("ci-pipeline").out_has("nightly");
    let header = table.stdout.lines().next().unwrap();
    for column in [
        "Name",
        "Key ID",
        "User ID",
        "Description",
        "Expires",
        "Active",
    ] {
        assert!(header.contains(column), "{column} in {header:?}");
    }
    assert_eq!(cell(&table.stdout, "ci-pipeline", "Expires"), "Never");
    assert_eq!(cell(&table.stdout, "ci-pipeline", "Active"), "yes");
    assert_eq!(
        cell(&table.stdout, "ci-pipeline", "Limits"),
        "-",
        "a key without settings"
    );
    let all = client
        .run(&["--json", "api-key", "list"])
        .await
        .expect(0)
        .json();
    assert_eq!(
        all["Items"].as_array().unwrap().len(),
        3,
        "admin's bootstrap key too"
    );
    let filtered = client
        .run(&["--json", "api-key", "list", "--filter", "NIGHTLY"])
        .await
        .expect(0)
        .json();
    let names: Vec<&str> = items(&filtered)
        .iter()
        .map(|i| i["apiKeyName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["nightly"]);
    client
        .run(&["api-key", "list", "--filter", "no-such-thing"])
        .await
        .expect(0)
        .out_has("No API keys.");

    // Get.
    client
        .run(&["api-key", "get", "--api-key-id", &id])
        .await
        .expect(0)
        .out_has("Nightly job")
        .out_has("2099-12-31 08:30:00 UTC");

    // Update: description, expiry with the default time, disable, then clear the expiry.
    client
        .run(&[
            "api-key",
            "update",
            "--api-key-id",
            &id,
            "--description",
            "Nightly build",
            "--expires-at",
            "2098-01-02",
            "--is-active",
            "false",
        ])
        .await
        .expect(0)
        .out_has("Updated API key 'nightly'")
        .out_has("Nightly build")
        .out_has("2098-01-02 23:59:59 UTC");
    let json = client
        .run(&["--json", "api-key", "get", "--api-key-id", &id])
        .await
        .expect(0)
        .json();
    assert_eq!(json["isActive"], "false");
    let listed = client.run(&["api-key", "list"]).await;
    assert_eq!(cell(&listed.stdout, "nightly", "Active"), "no");
    let json = client
        .run(&[
            "--json",
            "api-key",
            "update",
            "--api-key-id",
            &id,
            "--expires-at",
            "",
            "--is-active",
            "true",
        ])
        .await
        .expect(0)
        .json();
    assert_eq!(json["expiresAt"], "");
    assert_eq!(json["isActive"], "true");

    // Refusals: duplicate name (server, 1), nothing to update and bad combinations (usage, 2).
    client
        .run(&[
            "api-key",
            "create",
            "--name",
            "nightly",
            "--user-id",
            "admin",
            "--description",
            "again",
        ])
        .await
        .expect(1)
        .err_has("error (400): An API key with the name 'nightly' already exists");
    let duplicate = client
        .run(&[
            "--json",
            "api-key",
            "create",
            "--name",
            "nightly",
            "--user-id",
            "admin",
            "--description",
            "again",
        ])
        .await
        .expect(1)
        .json();
    assert_eq!(duplicate["status"], 400);
    assert!(duplicate["error"]
        .as_str()
        .unwrap()
        .contains("already exists"));
    client
        .run(&["api-key", "update", "--api-key-id", &id])
        .await
        .expect(2)
        .err_has("nothing to update");
    client
        .run(&[
            "api-key",
            "create",
            "--name",
            "x",
            "--user-id",
            "admin",
            "--description",
            "d",
            "--expires-time",
            "10:00:00",
        ])
        .await
        .expect(2);
    client
        .run(&[
            "api-key",
            "create",
            "--name",
            "x",
            "--user-id",
            "admin",
            "--description",
            "d",
            "--expires-at",
            "2099-01-01T00:00:00Z",
            "--expires-time",
            "10:00:00",
        ])
        .await
        .expect(2)
        .err_has("date-only");
    client
        .run(&[
            "api-key",
            "update",
            "--api-key-id",
            &id,
            "--is-active",
            "maybe",
        ])
        .await
        .expect(2);

    // Delete: refused without --yes when there is no terminal, then done.
    client
        .run(&["api-key", "delete", "--api-key-id", &id])
        .await
        .expect(2)
        .err_has("--yes");
    client
        .run(&["api-key", "delete", "--api-key-id", &id, "--yes"])
        .await
        .expect(0)
        .out_has("deleted successfully");
    client
        .run(&["api-key", "get", "--api-key-id", &id])
        .await
        .expect(1)
        .err_has("API key not found");
    let json = client
        .run(&["--json", "api-key", "delete", "--api-key-id", &id, "--yes"])
        .await
        .expect(1)
        .json();
    assert!(json["error"].as_str().is_some());
}

fn items(body: &Value) -> &Vec<Value> {
    body["Items"].as_array().expect("Items")
}
