//! A rotation and a leak report reach the CloudWatch log group (the same path as every record):
//! `apiKeyRotate` with both hash prefixes, `apiKeyExposed` with the source and the reporter, and
//! never a plaintext key.
use crate::audit_lifecycle::{audited_app, AuditedApp};
use crate::cloudwatch::{self, assert_no_duplicates, Line};
use crate::env::Emulators;
use tests::secrets::sha256_hex;

/// The bootstrap's three records, then role, assignment, create, rotate and the report.
const EXPECTED_ACTIONS: [&str; 8] = [
    "roleCreate",
    "userRolesAssign",
    "apiKeyCreate",
    "roleCreate",
    "userRolesAssign",
    "apiKeyCreate",
    "apiKeyRotate",
    "apiKeyExposed",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotations_and_leak_reports_reach_cloudwatch_without_plaintext() {
    let Some(emulators) = Emulators::or_skip("audit_rotation") else {
        return;
    };
    let AuditedApp {
        api,
        group,
        server,
        _data_dir,
        ..
    } = audited_app("rotation").await;

    let key = api.key_for_new_user("rita", &["rotators"]).await;
    let new = api.rotate_key(&key.id, 600).await;
    api.report_exposure(&[&new.key], "a public gist")
        .await
        .assert_status(202);
    api.wait_until_deactivated(&key.id).await;

    let client = cloudwatch::client(&emulators.cloudwatch).await;
    let lines = cloudwatch::settled(&client, &group, EXPECTED_ACTIONS.len()).await;
    let actions: Vec<&str> = lines.iter().map(Line::action).collect();
    assert_eq!(
        actions, EXPECTED_ACTIONS,
        "actions in the log group, in order"
    );
    assert_no_duplicates(&lines, "rotation");
    let rotate = &lines[6].record;
    assert_eq!(
        rotate["changes"]["keyHashPrefix"]["old"],
        sha256_hex(&key.key)[..8]
    );
    assert_eq!(
        rotate["changes"]["keyHashPrefix"]["new"],
        sha256_hex(&new.key)[..8]
    );
    assert_eq!(rotate["actor"], "admin");
    let exposed = &lines[7].record;
    assert_eq!(exposed["actor"], "anonymous");
    assert_eq!(exposed["changes"]["source"], "a public gist");
    assert!(exposed["sourceIp"]
        .as_str()
        .is_some_and(|ip| !ip.is_empty()));
    for line in cloudwatch::read_group(&client, &group)
        .await
        .expect("read the group")
    {
        assert!(
            !line.message.contains("vams_"),
            "a plaintext key in the audit stream: {}",
            line.message
        );
    }
    server.abort();
}
