//! Forensics after rotations and a leak report: which secret could authenticate at each instant
//! (by hash prefix, never a plaintext), and the key's history with its rotations and the report,
//! over HTTP and from `apikeyd forensics key`.
use crate::{iso, pause_at};
use serde_json::Value;
use tests::secrets::{secret_part, sha256_hex};
use tests::spawn_app;

fn prefix(key: &str) -> String {
    sha256_hex(key)[..8].to_owned()
}

/// `(role, hash prefix, valid)` of each secret in a forensic answer.
fn secrets(answer: &Value) -> Vec<(String, String, bool)> {
    answer["secrets"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|s| {
                    (
                        s["role"].as_str().unwrap_or_default().to_owned(),
                        s["hashPrefix"].as_str().unwrap_or_default().to_owned(),
                        s["valid"] == true,
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn actions(answer: &Value) -> Vec<String> {
    answer["history"]
        .as_array()
        .map(|h| {
            h.iter()
                .map(|r| r["action"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn forensics_tell_which_secret_was_valid_and_show_rotations_and_reports() {
    let app = spawn_app().await;
    let first = app.key_for_new_user("frank", &["ops"]).await;
    let t0 = iso(pause_at().await);
    let second = app.rotate_key(&first.id, 3600).await;
    let t1 = iso(pause_at().await);
    let third = app.rotate_key(&first.id, 0).await;
    let t2 = iso(pause_at().await);
    app.report_exposure(&[&third.key], "found in a CI log")
        .await
        .assert_status(202);
    app.wait_until_deactivated(&first.id).await;
    let t3 = iso(pause_at().await);

    let at = |t: String| {
        let app = &app;
        let id = first.id.clone();
        async move {
            let path = format!("/forensics/keys/{id}?at={}", tests::call::encode(&t));
            app.get(&path).send().await.ok().clone()
        }
    };
    let own = |role: &str, key: &str, valid| (role.to_owned(), prefix(key), valid);
    let a0 = at(t0).await;
    assert_eq!(secrets(&a0), vec![own("current", &first.key, true)]);
    assert_eq!(actions(&a0), ["apiKeyCreate"]);
    let a1 = at(t1).await;
    assert_eq!(
        secrets(&a1),
        vec![
            own("current", &second.key, true),
            own("previous", &first.key, true)
        ]
    );
    assert!(a1["rotatedAt"].is_string());
    let a2 = at(t2).await;
    assert_eq!(
        secrets(&a2),
        vec![own("current", &third.key, true)],
        "no grace left"
    );
    let a3 = at(t3.clone()).await;
    assert_eq!(secrets(&a3), vec![own("current", &third.key, false)]);
    assert_eq!(a3["exposureSource"], "found in a CI log");
    assert_eq!(
        actions(&a3),
        [
            "apiKeyCreate",
            "apiKeyRotate",
            "apiKeyRotate",
            "apiKeyExposed"
        ]
    );
    let text = a3.to_string();
    for key in [&first.key, &second.key, &third.key] {
        assert!(
            !text.contains(secret_part(key)),
            "no plaintext in forensics"
        );
    }
}
