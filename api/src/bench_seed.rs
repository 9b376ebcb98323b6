//! `apikeyd bench seed --keys N`: puts N keys into the embedded store quickly, for benchmarks.
//!
//! The events are exactly those the command path records: the `ApiKey` aggregate decides every
//! create (name free, user holds a role) and its events are serialized by cqrs-es and appended by
//! the group commit's own code, only many commands per transaction instead of whatever happens to
//! be queued. Then the views and the audit file are rebuilt by `events replay`, so the store is
//! what a server that took those creates one by one would leave behind.
use crate::commands::Metadata;
use crate::config::{BackendKind, Settings};
use anyhow::Context;
use async_trait::async_trait;
use chrono::Utc;
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::SerializedEvent;
use cqrs_es::{Aggregate, EventEnvelope};
use domain::admin_access::AdminAccess;
use domain::api_key::{ApiKey, ApiKeyCommand, CreateApiKey};
use domain::services::{Directory, DirectoryUnavailable, Services};
use domain::{Actor, ApiKeyName, Description, RoleName, UserId};
use projections::audit::meta;
use projections::{Projector, ReadModel};
use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// Creates per transaction.
const CHUNK: usize = 5_000;

/// The role the seeded keys' user holds.
const ROLE: &str = "bench";

/// What `bench seed` was asked for.
#[derive(Debug, Clone, clap::Args)]
pub struct SeedArgs {
    /// How many keys to create.
    #[arg(long, default_value_t = 1_000_000)]
    keys: usize,
    /// The user the keys act as (given role `bench` first).
    #[arg(long, default_value = "bench-user")]
    user: String,
    /// AWS backend: also write every seeded key's plaintext, one per line, to this new file (mode
    /// 0600), so a benchmark can present them. Benchmark tables only: the seed refuses tables
    /// that hold keys already.
    #[arg(long)]
    plaintexts: Option<std::path::PathBuf>,
}

/// The directory as it stood before the seed (never caught up again): the names seeded are distinct by construction, so
/// the decisions it gives are the ones the read model would give (the store's name claims still
/// check every one).
struct Snapshot {
    projector: Arc<Projector>,
}

impl Snapshot {
    fn model(&self) -> std::sync::RwLockReadGuard<'_, ReadModel> {
        self.projector.read()
    }
}

#[async_trait]
impl Directory for Snapshot {
    async fn roles_of(&self, user: &UserId) -> Result<Vec<RoleName>, DirectoryUnavailable> {
        Ok(self.model().directory.roles_of(user))
    }

    async fn holders_of(&self, role: &RoleName) -> Result<Vec<UserId>, DirectoryUnavailable> {
        Ok(self.model().directory.holders_of(role))
    }

    async fn role_exists(&self, role: &RoleName) -> Result<bool, DirectoryUnavailable> {
        Ok(self.model().directory.roles.contains_key(role))
    }

    async fn key_name_in_use(&self, name: &ApiKeyName) -> Result<bool, DirectoryUnavailable> {
        Ok(self.model().name_in_use(name.as_ref()))
    }

    async fn admin_access(&self) -> Result<AdminAccess, DirectoryUnavailable> {
        Ok(projections::directory::admin_access(
            &self.model(),
            &BTreeSet::new(),
        ))
    }
}

/// `apikeyd bench seed`
pub async fn seed(settings: &Settings, args: SeedArgs) -> anyhow::Result<ExitCode> {
    if settings.backend == BackendKind::Aws {
        return seed_aws(settings, args).await;
    }
    anyhow::ensure!(
        args.plaintexts.is_none(),
        "--plaintexts is for the AWS backend's seed only"
    );
    let started = Instant::now();
    let backend = crate::startup::Backend::open(settings).await?;
    let user =
        crate::bootstrap::ensure_admin(backend.bus.as_ref(), &backend.projector, ROLE, &args.user)
            .await?;
    backend.projector.catch_up_memory().await?;
    let services = Services::new(Arc::new(Snapshot {
        projector: backend.projector.clone(),
    }));
    let store = infra::SqliteStore::open(&settings.database_path())
        .await
        .with_context(|| format!("cannot open {}", settings.database_path().display()))?;
    let stamp = Utc::now().format("%Y%m%dT%H%M%S");
    let progress = crate::progress::Progress::new("seeding keys", Some(args.keys as u64));
    let mut done = 0;
    while done < args.keys {
        let count = CHUNK.min(args.keys - done);
        let mut commits = Vec::with_capacity(count);
        for i in done..done + count {
            commits.push(create(&services, &user, &format!("seed-{stamp}-{i}")).await?);
        }
        let slices: Vec<&[SerializedEvent]> = commits.iter().map(Vec::as_slice).collect();
        for outcome in store.append_batch(&slices).await {
            outcome.context("appending seeded keys")?;
        }
        done += count;
        progress.set(done as u64);
    }
    progress.finish();
    let seeded = started.elapsed().as_secs_f64();
    writeln!(
        std::io::stdout(),
        "seeded {done} keys in {seeded:.2}s ({:.0} keys/s)",
        done as f64 / seeded.max(1e-9)
    )?;
    crate::tools::events(settings, crate::tools::EventsAction::replay_all()).await
}

/// The events of one create, decided by the aggregate and serialized as cqrs-es commits them.
async fn create(
    services: &Services,
    user: &UserId,
    name: &str,
) -> anyhow::Result<Vec<SerializedEvent>> {
    let key = infra::key_material::generate()?;
    let id = uuid::Uuid::new_v4();
    let command = CreateApiKey {
        api_key_id: id,
        name: ApiKeyName::parse(name)?,
        user_id: user.clone(),
        description: Description::parse("seeded for benchmarks")?,
        expires_at: None,
        key_hash: key.hash,
        policy: domain::KeyPolicy::default(),
        actor: Actor::system(),
        at: Utc::now(),
    };
    let mut aggregate = ApiKey::default();
    let sink = EventSink::default();
    aggregate
        .handle(ApiKeyCommand::Create(command), services, &sink)
        .await?;
    let metadata = Metadata::from([
        (meta::AUTH_METHOD.to_owned(), "system".to_owned()),
        (meta::OPERATION.to_owned(), "apiKeyCreate".to_owned()),
    ]);
    sink.collect()
        .await
        .into_iter()
        .enumerate()
        .map(|(i, payload)| {
            let envelope = EventEnvelope::<ApiKey> {
                aggregate_id: id.to_string(),
                sequence: i + 1,
                payload,
                metadata: metadata.clone(),
            };
            SerializedEvent::try_from(&envelope).context("serializing a seeded event")
        })
        .collect()
}

/// Keys built and written per round of the AWS seed.
const AWS_CHUNK: usize = 10_000;

/// The AWS seed: the user and its role through the command path (so a server folds them from the
/// feed), then each key's rows as a server's projection would have saved them
/// ([`infra::DynamoStore::seed_key_rows`]): no events, since a node reads no key history to serve.
async fn seed_aws(settings: &Settings, args: SeedArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let backend = crate::startup::Backend::open(settings).await?;
    let first = backend
        .keys
        .page(None, &Default::default(), None, Some(1))
        .await?;
    anyhow::ensure!(
        first.items.is_empty(),
        "bench seed fills benchmark tables only: {} holds keys already",
        settings.table_prefix
    );
    let user =
        crate::bootstrap::ensure_admin(backend.bus.as_ref(), &backend.projector, ROLE, &args.user)
            .await?;
    let store = infra::DynamoStore::connect(&settings.table_prefix).await;
    let mut plaintexts = match &args.plaintexts {
        Some(path) => {
            use std::os::unix::fs::OpenOptionsExt;
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            Some(std::io::BufWriter::new(file))
        }
        None => None,
    };
    let stamp = Utc::now().format("%Y%m%dT%H%M%S");
    let progress = crate::progress::Progress::new("seeding keys", Some(args.keys as u64));
    let mut done = 0;
    while done < args.keys {
        let count = AWS_CHUNK.min(args.keys - done);
        let now = Utc::now();
        let mut views = Vec::with_capacity(count);
        for i in done..done + count {
            let key = infra::key_material::generate()?;
            if let Some(out) = plaintexts.as_mut() {
                use secrecy::ExposeSecret;
                writeln!(out, "{}", key.plaintext.expose_secret())?;
            }
            views.push(projections::key_listing::ApiKeyView {
                api_key_id: uuid::Uuid::new_v4(),
                api_key_name: format!("seed-{stamp}-{i}"),
                user_id: user.clone(),
                description: "seeded for benchmarks".into(),
                key_hash: key.hash,
                created_by: "system".into(),
                created_at: now,
                updated_at: now,
                expires_at: None,
                is_active: true,
                version: 1,
                secret: Default::default(),
                policy: Default::default(),
            });
        }
        store
            .seed_key_rows(&views)
            .await
            .context("writing seeded keys")?;
        done += count;
        progress.set(done as u64);
    }
    if let Some(mut out) = plaintexts {
        out.flush()?;
    }
    progress.finish();
    let seeded = started.elapsed().as_secs_f64();
    writeln!(
        std::io::stdout(),
        "seeded {done} keys in {seeded:.2}s ({:.0} keys/s)",
        done as f64 / seeded.max(1e-9)
    )?;
    Ok(ExitCode::SUCCESS)
}
