//! A role deletion is one DynamoDB transaction: a role with more holders than one transaction can
//! revoke is refused with nothing changed; one fewer holder and it is deleted, holders and all.
use crate::env::{fresh_group, fresh_prefix, Emulators};
use crate::node::{Node, NodeConfig};

/// Holders whose revocations, with the deletion, fill one transaction: two writes per event (the
/// event and its feed copy) plus the admin guard, 100 writes at most.
const FITS: usize = 48;

#[tokio::test]
async fn a_role_deletion_too_large_for_one_transaction_changes_nothing() {
    let Some(_emulators) = Emulators::or_skip("role_deletion") else {
        return;
    };
    let logs = tempfile::tempdir().expect("a logs dir");
    let config = NodeConfig::new(&fresh_prefix(), &fresh_group("role-deletion"));
    let node = Node::start(&config, "roles", logs.path()).await;
    let api = node.api(&node.bootstrap_key().expect("a fresh table set bootstraps"));
    api.ensure_role("crowd").await;
    let holders: Vec<String> = (0..=FITS).map(|i| format!("holder-{i:02}")).collect();
    for user in &holders {
        api.assign_roles(user, &["crowd"]).await.assert_status(200);
    }
    let refused = api.delete_role("crowd").await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert!(
        refused
            .message()
            .is_some_and(|m| m.contains("too many holders")),
        "{}",
        refused.text
    );
    let holding = |items: Vec<serde_json::Value>| {
        items
            .iter()
            .filter(|u| {
                u["roleName"]
                    .as_array()
                    .is_some_and(|r| r.contains(&"crowd".into()))
            })
            .count()
    };
    assert_eq!(holding(api.list_user_roles().await), FITS + 1);
    assert!(api
        .list_roles()
        .await
        .iter()
        .any(|r| r["roleName"] == "crowd"));

    api.remove_user_roles(&holders[0]).await.assert_status(200);
    api.delete_role("crowd").await.assert_status(200);
    assert_eq!(holding(api.list_user_roles().await), 0);
    assert!(api
        .list_roles()
        .await
        .iter()
        .all(|r| r["roleName"] != "crowd"));
}
