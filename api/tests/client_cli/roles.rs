//! `role list|create|update|delete` and `role user list|create|update|delete`.
use crate::helpers::{spawn_server, Client};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_user_roles() {
    let server = spawn_server().await;
    let client = Client::new(&server.admin_key);
    client.log_in(&server).await;

    // Roles: create (one with a space in its name), duplicate, list, update keeping other fields.
    client
        .run(&[
            "role",
            "create",
            "--role-name",
            "readers",
            "--description",
            "Read only",
        ])
        .await
        .expect(0)
        .out_has("Role readers created successfully");
    client
        .run(&[
            "--json",
            "role",
            "create",
            "--role-name",
            "data team",
            "--description",
            "Data",
            "--mfa-required",
        ])
        .await
        .expect(0);
    client
        .run(&[
            "role",
            "create",
            "--role-name",
            "readers",
            "--description",
            "again",
        ])
        .await
        .expect(1)
        .err_has("Role already exists");
    let table = client.run(&["role", "list"]).await;
    table
        .expect(0)
        .out_has("Read only")
        .out_has("data team")
        .out_has("admin");
    assert!(table.stdout.lines().next().unwrap().starts_with("Role "));
    client
        .run(&[
            "role",
            "update",
            "--role-name",
            "readers",
            "--mfa-required",
            "true",
        ])
        .await
        .expect(0)
        .out_has("Role readers updated successfully");
    let readers = role(&client, "readers").await;
    assert_eq!(readers["mfaRequired"], true);
    assert_eq!(readers["description"], "Read only", "kept by update");
    client
        .run(&[
            "role",
            "update",
            "--role-name",
            "readers",
            "--description",
            "Readers",
        ])
        .await
        .expect(0);
    let readers = role(&client, "readers").await;
    assert_eq!(
        (
            readers["description"].as_str(),
            readers["mfaRequired"].as_bool()
        ),
        (Some("Readers"), Some(true))
    );
    client
        .run(&["role", "update", "--role-name", "readers"])
        .await
        .expect(2);
    client
        .run(&[
            "role",
            "update",
            "--role-name",
            "ghosts",
            "--description",
            "x",
        ])
        .await
        .expect(1)
        .err_has("does not exist");

    // User roles: assign, replace, list, remove.
    client
        .run(&[
            "role",
            "user",
            "create",
            "--user-id",
            "alice",
            "--role-name",
            "readers",
        ])
        .await
        .expect(0)
        .out_has("User roles created successfully");
    client
        .run(&[
            "role",
            "user",
            "create",
            "--user-id",
            "bob",
            "--role-name",
            "nope",
        ])
        .await
        .expect(1)
        .err_has("error (400)");
    client
        .run(&[
            "role",
            "user",
            "update",
            "--user-id",
            "alice",
            "--role-name",
            "readers",
            "--role-name",
            "data team",
        ])
        .await
        .expect(0)
        .out_has("User roles updated successfully");
    let users = client.run(&["role", "user", "list"]).await;
    users.expect(0);
    let alice = users
        .stdout
        .lines()
        .find(|l| l.starts_with("alice"))
        .expect("alice listed");
    assert!(
        alice.contains("readers") && alice.contains("data team"),
        "{alice}"
    );
    let json = client
        .run(&["--json", "role", "user", "list"])
        .await
        .expect(0)
        .json();
    assert!(items(&json).iter().any(|u| u["userId"] == "alice"));
    client
        .run(&["role", "user", "create", "--user-id", "alice"])
        .await
        .expect(2);
    client
        .run(&["role", "user", "delete", "--user-id", "alice"])
        .await
        .expect(2)
        .err_has("--yes");
    client
        .run(&[
            "--json",
            "role",
            "user",
            "delete",
            "--user-id",
            "alice",
            "--yes",
        ])
        .await
        .expect(0)
        .json();
    let json = client
        .run(&["--json", "role", "user", "list"])
        .await
        .expect(0)
        .json();
    assert!(!items(&json).iter().any(|u| u["userId"] == "alice"));

    // Delete roles (the space is encoded in the path).
    client
        .run(&["role", "delete", "--role-name", "data team"])
        .await
        .expect(2);
    client
        .run(&["role", "delete", "--role-name", "data team", "--yes"])
        .await
        .expect(0)
        .out_has("success");
    client
        .run(&["role", "delete", "--role-name", "data team", "--yes"])
        .await
        .expect(1);
    let json = client
        .run(&["--json", "role", "list"])
        .await
        .expect(0)
        .json();
    assert!(!items(&json).iter().any(|r| r["roleName"] == "data team"));
}

async fn role(client: &Client, name: &str) -> Value {
    let json = client
        .run(&["--json", "role", "list"])
        .await
        .expect(0)
        .json();
    items(&json)
        .iter()
        .find(|r| r["roleName"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("role {name} listed"))
}

/// `message.Items` of a list answer.
fn items(body: &Value) -> Vec<Value> {
    body["message"]["Items"]
        .as_array()
        .expect("message.Items")
        .clone()
}
