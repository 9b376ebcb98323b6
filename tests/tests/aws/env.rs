//! What every test here needs first: the emulators (or a reason to skip), fresh names, free ports and
//! bounded waits.
use std::future::Future;
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// Set (to anything) by `scripts/emulators.sh start`, always set in CI.
const EMULATORS_ENV: &str = "APIKEYD_EMULATORS";

/// The emulators `scripts/emulators.sh start` runs and exports.
#[derive(Debug, Clone)]
pub struct Emulators {
    /// `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`: the shared moto server.
    pub cloudwatch: String,
}

impl Emulators {
    /// The exported emulators, or `None` after printing why `test` is skipped. Without
    /// `APIKEYD_EMULATORS` a plain `cargo test` passes; with it, a missing endpoint is a failure.
    pub fn or_skip(test: &str) -> Option<Self> {
        if std::env::var_os(EMULATORS_ENV).is_none_or(|v| v.is_empty()) {
            eprintln!(
                "{test}: skipped: {EMULATORS_ENV} is not set \
                 (run `eval \"$(bash scripts/emulators.sh start)\"` first)"
            );
            return None;
        }
        // Nodes read this one from the environment themselves; check it is there all the same.
        required("AWS_ENDPOINT_URL_DYNAMODB");
        Some(Self {
            cloudwatch: required("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"),
        })
    }
}

/// An environment variable `scripts/emulators.sh start` exports; panics when it is missing.
pub fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{EMULATORS_ENV} is set but {name} is not: export what `scripts/emulators.sh start` prints")
    })
}

/// A table prefix no other test uses: `t<uuid>` (letters and digits only).
pub fn fresh_prefix() -> String {
    format!("t{}", uuid::Uuid::new_v4().simple())
}

/// A CloudWatch log group no other test uses.
pub fn fresh_group(test: &str) -> String {
    format!("apikeyd-test-{test}-{}", uuid::Uuid::new_v4().simple())
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener.local_addr().expect("local address").port()
}

/// Calls `probe` every `every` until it returns `Some`, for at most `within`; panics naming `what`
/// (and the last observation `describe` gives) when time runs out. Returns the value and the time
/// it took.
pub async fn eventually<T, F, Fut>(
    what: &str,
    within: Duration,
    every: Duration,
    mut probe: F,
) -> (T, Duration)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let started = Instant::now();
    loop {
        let last = match probe().await {
            Ok(value) => return (value, started.elapsed()),
            Err(last) => last,
        };
        assert!(
            started.elapsed() < within,
            "{what}: not within {within:?}; last observation: {last}"
        );
        tokio::time::sleep(every).await;
    }
}

/// Waits until `api`'s node answers `/readyz` with 200, for at most `within`.
pub async fn ready_within(api: &tests::Api, within: Duration) {
    eventually(
        "/readyz answers 200",
        within,
        Duration::from_millis(250),
        || async {
            let ready = api.get("/readyz").anonymous().send().await;
            match ready.status {
                200 => Ok(()),
                _ => Err(format!("{} {}", ready.status, ready.text)),
            }
        },
    )
    .await;
}
