//! The in-process app under test: `api::startup::Application` on port 0 against a fresh store.
use crate::backend::Backend;
use crate::call::Api;
use api::config::Settings;
use api::startup::Application;
use std::path::Path;
use std::sync::Arc;
use tempfile::TempDir;
use tokio::task::JoinHandle;

/// Adjusts the settings before the app is built (public URL, admin roles, …); kept for restarts.
pub type Configure = Arc<dyn Fn(&mut Settings) + Send + Sync>;

/// A running app and everything a test needs to talk to it. Derefs to [`Api`], which has the
/// `address`, the `admin_key`, the `client` and every typed request helper.
pub struct TestApp {
    /// Address, admin key, client and request helpers.
    pub api: Api,
    /// The port the app bound.
    pub port: u16,
    /// What this start of the app reported as a new bootstrap key: `Some` only on a fresh store.
    pub bootstrap_key: Option<String>,
    /// The data directory, deleted when the last owner drops it.
    pub data_dir: Arc<TempDir>,
    /// The store behind the app.
    pub backend: Backend,
    configure: Configure,
    server: JoinHandle<std::io::Result<()>>,
}

impl std::ops::Deref for TestApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

/// Boots the app with the default test settings on the backend chosen by `APIKEYD_TEST_BACKEND`.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Boots the app after `configure` has adjusted its settings.
pub async fn spawn_app_with(configure: impl Fn(&mut Settings) + Send + Sync + 'static) -> TestApp {
    let data_dir = tempfile::Builder::new()
        .prefix("apikeyd-test-")
        .tempdir()
        .expect("create a temporary data dir");
    start(
        Backend::from_env(),
        Arc::new(data_dir),
        Arc::new(configure),
        None,
    )
    .await
}

/// Boots the app on `backend` whatever `APIKEYD_TEST_BACKEND` says (suites that cover both backends
/// in one run).
pub async fn spawn_app_on(backend: Backend) -> TestApp {
    let data_dir = tempfile::Builder::new()
        .prefix("apikeyd-test-")
        .tempdir()
        .expect("create a temporary data dir");
    start(
        backend,
        Arc::new(data_dir),
        Arc::new(|_: &mut Settings| {}),
        None,
    )
    .await
}

impl TestApp {
    /// Stops this app and starts a new one on the same store, as an operator restart would.
    pub async fn restart(self) -> TestApp {
        self.server.abort();
        // A cancelled task is the expected outcome; whatever it returned no longer matters.
        let _ = self.server.await;
        start(
            self.backend,
            self.data_dir,
            self.configure,
            Some(self.api.admin_key),
        )
        .await
    }

    /// Starts a second app on the same store and settings (another node), leaving this one running.
    pub async fn another_node(&self) -> TestApp {
        start(
            self.backend,
            self.data_dir.clone(),
            self.configure.clone(),
            Some(self.api.admin_key.clone()),
        )
        .await
    }

    /// The data directory's path.
    pub fn data_path(&self) -> &Path {
        self.data_dir.path()
    }
}

async fn start(
    backend: Backend,
    data_dir: Arc<TempDir>,
    configure: Configure,
    known_admin_key: Option<String>,
) -> TestApp {
    let mut settings = backend.settings(data_dir.path());
    configure(&mut settings);
    let app = Application::build(settings)
        .await
        .unwrap_or_else(|e| panic!("Application::build on {backend:?} failed: {e:?}"));
    let port = app.port();
    let bootstrap_key = app.bootstrap_key();
    let fresh_store = known_admin_key.is_none();
    let admin_key = known_admin_key
        .or_else(|| bootstrap_key.clone())
        .expect("the first start of an empty store must report a bootstrap key");
    if fresh_store {
        assert!(
            crate::secrets::is_well_formed_key(&admin_key),
            "bootstrap key {admin_key:?} is not vams_ + 43 URL-safe characters"
        );
    }
    let server = tokio::spawn(app.run_until_stopped());
    TestApp {
        api: Api::new(format!("http://127.0.0.1:{port}"), admin_key),
        port,
        bootstrap_key,
        data_dir,
        backend,
        configure,
        server,
    }
}
