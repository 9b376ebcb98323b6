//! `apikeyd … | head`: a reader that closes stdout early ends the command quietly with status 0,
//! without a panic or an error message, for client commands and operator tools alike.
use crate::helpers::{spawn_server, Client};
use crate::stub::{self, json_type};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::process::Command;

/// Rows enough for far more output than a pipe buffers (64 KiB on Linux, about 100 bytes a row), so
/// the writer must meet the closed end.
const ROWS: usize = 5_000;

/// Runs `apikeyd args` with stdout a pipe, reads a few bytes, closes the read end, and returns the
/// exit code and stderr.
async fn run_into_closed_pipe(args: &[&str], env: &[(&str, &str)], home: &Path) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_apikeyd"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("xdg"))
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("apikeyd runs");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut first = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(60), stdout.read(&mut first))
        .await
        .expect("output within a minute")
        .expect("read stdout");
    assert!(read > 0, "{args:?} printed nothing");
    drop(stdout);
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("apikeyd ends within a minute of the reader leaving")
        .expect("wait for apikeyd");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().expect("exited, not killed"), stderr)
}

#[track_caller]
fn quiet_success((code, stderr): (i32, String), what: &str) {
    assert_eq!(code, 0, "{what}: exit {code}, stderr: {stderr}");
    for noise in ["panicked", "Broken pipe", "failed printing", "error"] {
        assert!(
            !stderr.contains(noise),
            "{what}: stderr says {noise:?}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_listings_end_quietly_when_the_reader_leaves() {
    let items: Vec<Value> = (0..ROWS)
        .map(|n| {
            json!({
                "apiKeyId": format!("00000000-0000-4000-8000-{n:012}"),
                "apiKeyName": format!("key number {n}"), "userId": "bot",
                "description": "one of many", "createdBy": "admin",
                "createdAt": "2026-11-26T12:00:00+00:00", "updatedAt": "2026-11-26T12:00:00+00:00",
                "expiresAt": "", "isActive": "true",
            })
        })
        .collect();
    let body = json!({ "Items": items }).to_string();
    let server = stub::start(Box::new(move |_, _: &str| (200, json_type(), body.clone()))).await;
    let home = tempfile::tempdir().unwrap();
    let env = [
        ("APIKEYD_TOKEN", "vams_stubkey"),
        ("APIKEYD_API_URL", server.url.as_str()),
    ];
    for args in [&["api-key", "list"][..], &["--json", "api-key", "list"]] {
        quiet_success(
            run_into_closed_pipe(args, &env, home.path()).await,
            &format!("{args:?}"),
        );
    }
}

/// Waits (bounded) for the server's audit file to hold a record, and returns its first line.
async fn first_audit_line(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains("apiKeyCreate")) {
            return line.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no audit record in {}",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_commands_end_quietly_when_the_reader_leaves() {
    let server = spawn_server().await;
    let client = Client::new(&server.admin_key);
    client.log_in(&server).await;
    let args = [
        "api-key",
        "create",
        "--name",
        "audited",
        "--user-id",
        "admin",
        "--description",
        "d",
    ];
    client.run(&args).await.expect(0);
    let record: Value =
        serde_json::from_str(&first_audit_line(&server.data.path().join("audit.log")).await)
            .unwrap();
    // Many distinct records (readers de-duplicate by event id), in a file of the operator's own.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.log");
    let mut text = String::new();
    for n in 0..ROWS {
        let mut copy = record.clone();
        copy["eventId"] = json!(format!("copy-{n}"));
        text.push_str(&copy.to_string());
        text.push('\n');
    }
    std::fs::write(&file, text).unwrap();
    let file = file.display().to_string();
    let env = [
        ("APIKEYD_AUDIT_FILE", file.as_str()),
        ("APIKEYD_DATA_DIR", dir.path().to_str().unwrap()),
    ];
    let lines = ROWS.to_string();
    let commands: [&[&str]; 3] = [
        &["audit", "search", "--from", "file"],
        &["audit", "search", "--from", "file", "--json"],
        &["audit", "tail", "--from", "file", "-n", &lines],
    ];
    for args in commands {
        quiet_success(
            run_into_closed_pipe(args, &env, dir.path()).await,
            &format!("{args:?}"),
        );
    }
}
