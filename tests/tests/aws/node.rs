//! `apikeyd serve` on the AWS backend as a separate process: the real binary with its own data dir and
//! environment, so each node (and each emulator it talks to) is configured exactly as in production.
use std::path::Path;
use std::process::Output;
use tempfile::TempDir;
use tests::binary::{self, Server};
use tests::{Api, Backend};

/// What the first start prints around the bootstrap key.
pub const BOOTSTRAP_BANNER: &str = "apikeyd first start";

/// How a node reaches AWS: its table set, its audit log group and endpoint overrides.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// `APIKEYD_TABLE_PREFIX`.
    pub prefix: String,
    /// `APIKEYD_AUDIT_LOG_GROUP`.
    pub log_group: String,
    /// Extra environment, e.g. `AWS_ENDPOINT_URL_DYNAMODB` of a test's own emulator.
    pub env: Vec<(String, String)>,
}

impl NodeConfig {
    /// Tables under `prefix`, audit into `log_group`, the exported emulators.
    pub fn new(prefix: &str, log_group: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            log_group: log_group.to_owned(),
            env: Vec::new(),
        }
    }

    /// The same with one more environment variable.
    pub fn with_env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Everything the binary needs besides its data dir and bind address.
    fn vars(&self) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = [
            ("APIKEYD_BACKEND", "aws"),
            ("APIKEYD_TABLE_PREFIX", self.prefix.as_str()),
            ("APIKEYD_AWS_CREATE_TABLES", "true"),
            ("APIKEYD_AUDIT_LOG_GROUP", self.log_group.as_str()),
            ("APIKEYD_WORKERS", "2"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        vars.extend(self.env.iter().cloned());
        vars
    }

    /// Runs a one-shot `apikeyd <args>` (e.g. `projections verify`) on this configuration.
    pub async fn run(&self, args: &[&str]) -> Output {
        let dir = tempfile::tempdir().expect("a data dir for the tool");
        let vars = self.vars();
        let env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        binary::run(Backend::Embedded, dir.path(), args, &env).await
    }
}

/// A running node: the process, its data dir and what it printed at start.
pub struct Node {
    /// The process (stopped when dropped).
    pub server: Server,
    /// Its own data dir, deleted when the node is dropped.
    _data_dir: TempDir,
    /// `A`, `B`, …: for messages.
    pub label: String,
}

impl Node {
    /// Starts `apikeyd serve` on `127.0.0.1:0` and waits until it listens.
    pub async fn start(config: &NodeConfig, label: &str, logs: &Path) -> Node {
        let data_dir = tempfile::Builder::new()
            .prefix(&format!("apikeyd-aws-{label}-"))
            .tempdir()
            .expect("a data dir");
        let vars = config.vars();
        let env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let server = Server::start(Backend::Embedded, data_dir.path(), logs, label, &env).await;
        Node {
            server,
            _data_dir: data_dir,
            label: label.to_owned(),
        }
    }

    /// The bootstrap key this node printed, if it printed the first-start block.
    pub fn bootstrap_key(&self) -> Option<String> {
        let stderr = self.server.stderr_text();
        if !stderr.contains(BOOTSTRAP_BANNER) {
            return None;
        }
        let keys = tests::secrets::find_keys(&stderr);
        assert_eq!(
            keys.len(),
            1,
            "node {}: the first-start block must hold exactly one key; stderr:\n{stderr}",
            self.label
        );
        keys.into_iter().next()
    }

    /// A client of this node administered with `admin_key`.
    pub fn api(&self, admin_key: &str) -> Api {
        Api::new(self.server.address.clone(), admin_key)
    }
}

/// Starts two nodes on one configuration at the same time and returns them with the one bootstrap
/// key, asserting that exactly one of them printed the first-start block.
pub async fn start_pair(config: &NodeConfig, logs: &Path) -> (Node, Node, String) {
    let (a, b) = tokio::join!(
        Node::start(config, "A", logs),
        Node::start(config, "B", logs)
    );
    let printed: Vec<(String, String)> = [&a, &b]
        .iter()
        .filter_map(|node| node.bootstrap_key().map(|key| (node.label.clone(), key)))
        .collect();
    assert_eq!(
        printed.len(),
        1,
        "exactly one of two nodes starting together must print the bootstrap key, got {printed:?}\n\
         --- A stderr\n{}\n--- B stderr\n{}",
        a.server.stderr_text(),
        b.server.stderr_text()
    );
    let (_, key) = printed.into_iter().next().expect("one bootstrap key");
    (a, b, key)
}
