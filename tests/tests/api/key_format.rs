//! Keys are issued in the checksummed format; a key whose checksum does not match is refused as
//! malformed (never looked up); keys of the VAMS shape keep verifying.
use tests::spawn_app;

/// `^vams_[0-9A-Za-z]{49}$`, the pattern the README publishes.
fn checksummed_shape(key: &str) -> bool {
    key.strip_prefix("vams_")
        .is_some_and(|rest| rest.len() == 49 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[tokio::test]
async fn created_rotated_and_bootstrap_keys_are_checksummed_and_one_word() {
    let app = spawn_app().await;
    assert!(
        checksummed_shape(&app.admin_key),
        "bootstrap {}",
        app.admin_key.len()
    );
    let key = app.key_for_new_user("bot", &["viewer"]).await;
    assert!(checksummed_shape(&key.key));
    let rotated = app.rotate_key(&key.id, 0).await;
    assert!(checksummed_shape(&rotated.key));
}

#[tokio::test]
async fn a_mistyped_checksummed_key_is_malformed_and_a_vams_shaped_one_is_looked_up() {
    let app = spawn_app().await;
    let key = app.key_for_new_user("bot", &["viewer"]).await;
    for at in [5, 30, key.key.len() - 1] {
        let mut typo = key.key.clone().into_bytes();
        typo[at] = if typo[at] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(typo).unwrap();
        app.assert_key_refused(&typo, "MALFORMED").await;
    }
    app.assert_key_works(&key.key).await;
    // A VAMS key (`token_urlsafe(48)`): no checksum, so it is looked up (and unknown here).
    let vams = format!("vams_{}", "Ab-_".repeat(16));
    app.assert_key_refused(&vams, "NOT_FOUND").await;
}
