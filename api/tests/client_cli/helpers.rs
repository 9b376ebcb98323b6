//! Shared helpers: a server on port 0 and a client with its own HOME.
use api::config::Settings;
use api::startup::Application;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::process::Command;

/// Client settings from the shell running the tests must not leak into a run.
const CLEARED_ENV: [&str; 6] = [
    "APIKEYD_TOKEN",
    "APIKEYD_PROFILE",
    "APIKEYD_API_URL",
    "APIKEYD_CONFIG",
    "XDG_CONFIG_HOME",
    "RUST_LOG",
];

/// A server on port 0 over a fresh store.
pub struct Server {
    pub data: TempDir,
    pub url: String,
    pub admin_key: String,
}

pub async fn spawn_server() -> Server {
    let data = tempfile::tempdir().expect("temp dir");
    let app = Application::build(Settings::for_tests(data.path()))
        .await
        .expect("server builds");
    let url = format!("http://127.0.0.1:{}", app.port());
    let admin_key = app.bootstrap_key().expect("a fresh store issues a key");
    tokio::spawn(app.run_until_stopped());
    Server {
        data,
        url,
        admin_key,
    }
}

/// One user's machine: a HOME of its own; `secret` must never appear in any output.
pub struct Client {
    pub home: TempDir,
    pub use_xdg: bool,
    pub secret: Option<String>,
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn expect(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code: {self:#?}");
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }

    pub fn out_has(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}: {self:#?}"
        );
        self
    }

    pub fn err_has(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}: {self:#?}"
        );
        self
    }
}

impl Client {
    pub fn new(secret: &str) -> Self {
        Self {
            home: tempfile::tempdir().expect("temp home"),
            use_xdg: true,
            secret: Some(secret.to_owned()),
        }
    }

    /// `$XDG_CONFIG_HOME/apikeyd` (or `~/.config/apikeyd` without XDG).
    pub fn config_dir(&self) -> PathBuf {
        let base = if self.use_xdg {
            self.home.path().join("xdg")
        } else {
            self.home.path().join(".config")
        };
        base.join("apikeyd")
    }

    pub fn profile_file(&self, profile: &str, file: &str) -> PathBuf {
        self.config_dir().join("profiles").join(profile).join(file)
    }

    pub async fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[]).await
    }

    pub async fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_apikeyd"));
        for name in CLEARED_ENV {
            command.env_remove(name);
        }
        command.env("HOME", self.home.path());
        if self.use_xdg {
            command.env("XDG_CONFIG_HOME", self.home.path().join("xdg"));
        }
        command
            .envs(env.iter().copied())
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let output = tokio::time::timeout(Duration::from_secs(60), command.output())
            .await
            .expect("apikeyd finishes within a minute")
            .expect("apikeyd runs");
        let run = Run {
            code: output.status.code().expect("exited, not killed"),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        if let Some(secret) = &self.secret {
            assert!(
                !run.stdout.contains(secret.as_str()) && !run.stderr.contains(secret.as_str()),
                "the stored key was printed by {args:?}: {run:#?}"
            );
        }
        run
    }

    /// `setup` then `auth login` as the bootstrap admin.
    pub async fn log_in(&self, server: &Server) {
        self.run(&["setup", &server.url]).await.expect(0);
        self.run(&[
            "auth",
            "login",
            "--user-id",
            "admin",
            "--token-override",
            &server.admin_key,
        ])
        .await
        .expect(0);
    }
}

/// The trimmed cell under `column` in the first table row containing `needle`. The table pads
/// every column but the last to one width and separates columns by two spaces, so a column starts
/// at the same character in the header and in each row and ends where the next header starts:
/// reading cells this way keeps a check on one column true when columns are added.
pub fn cell(table: &str, needle: &str, column: &str) -> String {
    let header: Vec<char> = table
        .lines()
        .next()
        .expect("a header line")
        .chars()
        .collect();
    let starts: Vec<usize> = (0..header.len())
        .filter(|&i| header[i] != ' ' && (i == 0 || (i >= 2 && header[i - 2..i] == [' ', ' '])))
        .collect();
    let name = |n: usize| -> String {
        let end = starts.get(n + 1).copied().unwrap_or(header.len());
        header[starts[n]..end]
            .iter()
            .collect::<String>()
            .trim()
            .to_owned()
    };
    let at = (0..starts.len())
        .find(|&n| name(n) == column)
        .unwrap_or_else(|| panic!("no column {column:?} in {:?}", table.lines().next()));
    let row = table
        .lines()
        .skip(1)
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no row with {needle:?} in {table}"));
    let cells = row.chars().skip(starts[at]);
    let cell: String = match starts.get(at + 1) {
        Some(next) => cells.take(next - starts[at]).collect(),
        None => cells.collect(),
    };
    cell.trim().to_owned()
}

/// A port nothing listens on.
pub async fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}
