//! A test's own emulator process (DynamoDB Local or moto) that it can kill and start again on the same
//! port, to simulate an outage without disturbing the shared emulators other tests use.
use crate::env::{free_port, required};
use std::fs::File;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tokio::process::{Child, Command};

/// How long an emulator may take to answer after its start on a busy two-core machine.
const START_PATIENCE: Duration = Duration::from_secs(60);

/// Which emulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// DynamoDB Local with `-dbPath`: its data survives a restart.
    DynamoDb,
    /// moto server (CloudWatch Logs): keeps nothing, so a restart starts empty.
    Moto,
}

/// One emulator process on a fixed loopback port.
pub struct Emulator {
    kind: Kind,
    port: u16,
    /// DynamoDB Local's `-dbPath` and the logs of every start.
    dir: TempDir,
    child: Option<Child>,
    starts: usize,
}

impl Emulator {
    /// Starts `kind` on a free port and waits until it answers.
    pub async fn start(kind: Kind) -> Emulator {
        let mut emulator = Emulator {
            kind,
            port: free_port(),
            dir: tempfile::Builder::new()
                .prefix("apikeyd-emulator-")
                .tempdir()
                .expect("an emulator dir"),
            child: None,
            starts: 0,
        };
        emulator.launch().await;
        emulator
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the process (SIGKILL, as a crash or a pulled cable would) and waits until it is gone.
    pub async fn kill(&mut self) {
        let mut child = self.child.take().expect("the emulator is running");
        child.start_kill().expect("kill the emulator");
        tokio::time::timeout(Duration::from_secs(15), child.wait())
            .await
            .expect("the killed emulator exits within 15 s")
            .expect("wait for the emulator");
    }

    /// Freezes the process (SIGSTOP): connections are accepted by the kernel but nothing answers,
    /// as with a hung server or a network black hole.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused process run again (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self
            .child
            .as_ref()
            .and_then(Child::id)
            .expect("the emulator is running");
        let status = std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} {pid} failed: {status}");
    }

    /// Starts it again on the same port (and, for DynamoDB Local, the same data).
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "restart after kill only");
        self.launch().await;
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("start-{}.log", self.starts))
    }

    fn command(&self) -> Command {
        match self.kind {
            Kind::DynamoDb => {
                let dir = PathBuf::from(required("APIKEYD_DYNAMODB_LOCAL_DIR"));
                let db_path = self.dir.path().join("db");
                std::fs::create_dir_all(&db_path).expect("create the dbPath");
                let mut command = Command::new("java");
                command
                    .arg("-Xmx384m")
                    .arg(format!(
                        "-Djava.library.path={}",
                        dir.join("DynamoDBLocal_lib").display()
                    ))
                    .arg("-jar")
                    .arg(dir.join("DynamoDBLocal.jar"))
                    .args(["-sharedDb", "-disableTelemetry", "-dbPath"])
                    .arg(&db_path)
                    .args(["-port", &self.port.to_string()])
                    .current_dir(self.dir.path());
                command
            }
            Kind::Moto => {
                let mut command = Command::new(required("APIKEYD_MOTO_BIN"));
                command.args(["-H", "127.0.0.1", "-p", &self.port.to_string()]);
                command
            }
        }
    }

    async fn launch(&mut self) {
        self.starts += 1;
        let log = File::create(self.log_path()).expect("create the emulator log");
        let mut command = self.command();
        command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .kill_on_drop(true);
        self.child = Some(command.spawn().expect("spawn the emulator"));
        self.wait_ready().await;
    }

    /// Waits until any HTTP answer comes back (the process listens), bounded.
    async fn wait_ready(&mut self) {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .expect("a client");
        let url = match self.kind {
            Kind::DynamoDb => self.endpoint(),
            Kind::Moto => format!("{}/moto-api/", self.endpoint()),
        };
        let started = Instant::now();
        loop {
            let answered = match self.kind {
                Kind::DynamoDb => client.post(&url).body("{}").send().await.is_ok(),
                Kind::Moto => client.get(&url).send().await.is_ok(),
            };
            if answered {
                return;
            }
            let child = self.child.as_mut().expect("launched");
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "{:?} exited ({status}) during start-up:\n{}",
                    self.kind,
                    self.log()
                );
            }
            assert!(
                started.elapsed() < START_PATIENCE,
                "{:?} did not answer on port {} within {START_PATIENCE:?}:\n{}",
                self.kind,
                self.port,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.log_path()).unwrap_or_default()).into_owned()
    }
}
