//! The import beside a running `apikeyd serve` (its own process) on the same embedded store: the
//! server's background projector polls the log from its checkpoint, so what the import commits —
//! new keys and, with `--update-changed`, their changes — is served without a restart.
use crate::env::Emulators;
use crate::fixture::{import_json_into, Fixture};
use crate::migrate::{paused_in_vams, verify_codes};
use tests::binary::Server;
use tests::secrets::find_keys;
use tests::{Api, Backend};

#[tokio::test]
async fn a_running_embedded_server_serves_what_an_import_commits() {
    if Emulators::or_skip("import beside serve").is_none() {
        return;
    }
    let data = tempfile::tempdir().expect("data dir");
    let logs = tempfile::tempdir().expect("logs dir");
    let backend = Backend::Embedded;
    let server = Server::start(backend, data.path(), logs.path(), "serve", &[]).await;
    let admin_key = find_keys(&server.stderr_text())
        .into_iter()
        .next()
        .expect("the first start prints the bootstrap key");
    let api = Api::new(server.address.clone(), admin_key);
    let fixture = Fixture::fill().await;

    let (_, report, _) = import_json_into(backend, data.path(), &fixture, &[]).await;
    // No key here holds the colliding name: it is imported too.
    assert_eq!(report["imported"]["apiKeys"], 11, "{report}");
    verify_codes(&api, &fixture.imported).await;
    let exact = fixture.case("exact");
    assert_eq!(api.get_key(&exact.id).await.ok()["apiKeyName"], exact.name);

    let case = fixture.pause_in_vams().await;
    let (_, applied, _) =
        import_json_into(backend, data.path(), &fixture, &["--update-changed"]).await;
    assert_eq!(applied["updated"]["apiKeys"], 1, "{applied}");
    paused_in_vams(&api, case).await;

    let status = server.stop().await;
    assert!(status.success(), "serve exit status: {status}");
}
