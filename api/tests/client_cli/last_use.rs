//! `api-key list --unused-for-days/--expiring-within-days`, the Last used column and `api-key usage`.
use crate::helpers::{spawn_server, Client};
use serde_json::Value;

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list["Items"]
        .as_array()
        .expect("Items")
        .iter()
        .map(|i| i["apiKeyName"].as_str().expect("a name").to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_use_in_the_table_the_filters_and_the_usage_report() {
    let server = spawn_server().await;
    let client = Client::new(&server.admin_key);
    client.log_in(&server).await;
    let create = |name: &'static str, extra: &'static [&'static str]| {
        let client = &client;
        async move {
            let mut args = vec![
                "--json",
                "api-key",
                "create",
                "--name",
                name,
                "--user-id",
                "admin",
                "--description",
                "last use",
            ];
            args.extend(extra);
            client.run(&args).await.expect(0).json()
        }
    };
    let used = create("used-key", &["--expires-at", "2099-01-01"]).await;
    create("idle-key", &["--expires-at", "2099-01-01"]).await;
    let id = used["apiKeyId"].as_str().expect("an id").to_owned();
    let key = used["apiKey"].as_str().expect("the key").to_owned();

    // One authenticated call with the new key is its first use.
    Client::new(&key)
        .run_with(
            &[
                "--api-url",
                &server.url,
                "api-key",
                "get",
                "--api-key-id",
                &id,
            ],
            &[("APIKEYD_TOKEN", key.as_str())],
        )
        .await
        .expect(0);

    let table = client.run(&["api-key", "list"]).await;
    let header = table.stdout.lines().next().expect("a header");
    assert!(header.contains("Last used"), "{header:?}");
    let row = table
        .stdout
        .lines()
        .find(|l| l.contains("idle-key"))
        .expect("the idle key's row");
    assert!(row.contains("Never"), "{row}");
    let row = table
        .stdout
        .lines()
        .find(|l| l.contains("used-key"))
        .expect("the used key's row");
    assert!(!row.contains("Never"), "{row}");

    let unused = client
        .run(&["--json", "api-key", "list", "--unused-for-days", "1"])
        .await
        .expect(0)
        .json();
    assert_eq!(names(&unused), ["idle-key"]);
    let expiring = client
        .run(&[
            "--json",
            "api-key",
            "list",
            "--expiring-within-days",
            "36500",
        ])
        .await
        .expect(0)
        .json();
    assert_eq!(names(&expiring), ["idle-key", "used-key"]);
    let soon = client
        .run(&["--json", "api-key", "list", "--expiring-within-days", "30"])
        .await
        .expect(0)
        .json();
    assert_eq!(names(&soon), Vec::<String>::new());

    client
        .run(&["api-key", "usage", "--api-key-id", &id])
        .await
        .expect(0)
        .out_has("Last used from")
        .out_has("127.0.0.1")
        .out_has("Verifications (30 days):  1");
    let report = client
        .run(&["--json", "api-key", "usage", "--api-key-id", &id])
        .await
        .expect(0)
        .json();
    assert_eq!(report["sourceIps"][0]["ip"], "127.0.0.1", "{report}");
    assert_eq!(report["hours"][0]["verifications"], 1);
    client
        .run(&[
            "api-key",
            "usage",
            "--api-key-id",
            "00000000-0000-4000-8000-000000000000",
        ])
        .await
        .err_has("not found");
}
