//! Runs the real `apikeyd` binary: `serve` in the background, one-shot commands to completion.
use crate::backend::Backend;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// Settings the binary reads from the environment. Cleared before every run so that the shell running
/// the tests cannot change what a test sees.
const SETTINGS_ENV: [&str; 12] = [
    "APIKEYD_BACKEND",
    "APIKEYD_TABLE_PREFIX",
    "APIKEYD_AWS_CREATE_TABLES",
    "APIKEYD_BIND",
    "APIKEYD_DATA_DIR",
    "APIKEYD_PUBLIC_URL",
    "APIKEYD_ADMIN_ROLES",
    "APIKEYD_BOOTSTRAP_ADMIN",
    "APIKEYD_MAX_BODY_BYTES",
    "APIKEYD_WORKERS",
    "APIKEYD_CONFIG",
    "RUST_LOG",
];

/// What `serve` prints to stderr once it accepts connections.
pub const LISTENING: &str = "apikeyd listening on ";

/// How long a start or a one-shot command may take on a busy two-core machine.
const PATIENCE: Duration = Duration::from_secs(60);

/// `target/<profile>/apikeyd`, next to the `deps/` folder holding this test binary.
pub fn apikeyd_path() -> PathBuf {
    let exe = std::env::current_exe().expect("locate the running test binary");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps");
    let path = profile_dir.join(format!("apikeyd{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "the apikeyd binary is missing at {}: build it first with `cargo build -p api --bin apikeyd`",
        path.display()
    );
    path
}

fn command(backend: Backend, data_dir: &Path, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(apikeyd_path());
    for name in SETTINGS_ENV {
        command.env_remove(name);
    }
    command
        .envs(backend.binary_env(data_dir))
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Runs `apikeyd <args>` against the store in `data_dir` and waits for it (bounded).
pub async fn run(backend: Backend, data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = command(backend, data_dir, env);
    command.args(args);
    tokio::time::timeout(PATIENCE, command.output())
        .await
        .unwrap_or_else(|_| panic!("apikeyd {args:?} did not finish within {PATIENCE:?}"))
        .unwrap_or_else(|e| panic!("apikeyd {args:?} could not run: {e}"))
}

/// `stdout` and `stderr` of a finished command, for failure messages.
pub fn describe(output: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A running `apikeyd serve` whose stdout and stderr go to files.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT` as announced on stderr.
    pub address: String,
    /// File receiving stdout.
    pub stdout: PathBuf,
    /// File receiving stderr.
    pub stderr: PathBuf,
}

impl Server {
    /// Starts `apikeyd serve` on `127.0.0.1:0`, logging to `<logs_dir>/<label>.{stdout,stderr}`, and
    /// waits until it announces its address.
    pub async fn start(
        backend: Backend,
        data_dir: &Path,
        logs_dir: &Path,
        label: &str,
        env: &[(&str, &str)],
    ) -> Server {
        let stdout = logs_dir.join(format!("{label}.stdout"));
        let stderr = logs_dir.join(format!("{label}.stderr"));
        let mut command = command(backend, data_dir, env);
        command
            .arg("serve")
            .env("APIKEYD_BIND", "127.0.0.1:0")
            .stdout(File::create(&stdout).expect("create the stdout file"))
            .stderr(File::create(&stderr).expect("create the stderr file"));
        let child = command.spawn().expect("spawn apikeyd serve");
        let mut server = Server {
            child,
            address: String::new(),
            stdout,
            stderr,
        };
        server.address = server.wait_until_listening().await;
        server
    }

    async fn wait_until_listening(&mut self) -> String {
        let started = Instant::now();
        loop {
            if let Some(address) = listening_address(&self.stderr_text()) {
                return address;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "apikeyd serve exited ({status}) before listening; stderr:\n{}",
                    self.stderr_text()
                );
            }
            assert!(
                started.elapsed() < PATIENCE,
                "apikeyd serve did not print {LISTENING:?} within {PATIENCE:?}; stderr:\n{}",
                self.stderr_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Everything written to stderr so far.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.stderr).unwrap_or_default()).into_owned()
    }

    /// Everything written to stdout so far.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.stdout).unwrap_or_default()).into_owned()
    }

    /// Kills the server at once (SIGKILL): no graceful stop, nothing flushed.
    pub async fn kill(mut self) -> ExitStatus {
        self.child.kill().await.expect("kill apikeyd serve");
        self.child.wait().await.expect("wait for apikeyd serve")
    }

    /// Asks the server to shut down (SIGTERM), then kills it if it has not exited within 15 s.
    pub async fn stop(mut self) -> ExitStatus {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        match tokio::time::timeout(Duration::from_secs(15), self.child.wait()).await {
            Ok(status) => status.expect("wait for apikeyd serve"),
            Err(_) => {
                self.child.kill().await.expect("kill apikeyd serve");
                self.child.wait().await.expect("wait for apikeyd serve")
            }
        }
    }
}

/// The URL on the first line announcing [`LISTENING`], if any.
pub fn listening_address(stderr: &str) -> Option<String> {
    let start = stderr.find(LISTENING)? + LISTENING.len();
    let address: String = stderr[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '.' | '[' | ']'))
        .collect();
    address.starts_with("http://").then_some(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_address() {
        let stderr = "noise\napikeyd listening on http://127.0.0.1:40123\nmore";
        assert_eq!(
            listening_address(stderr).as_deref(),
            Some("http://127.0.0.1:40123")
        );
        assert_eq!(listening_address("starting"), None);
    }
}
