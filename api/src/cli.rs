//! The `apikeyd` command line.
use crate::client::{ClientArgs, ClientCommand};
use crate::config::{load_config_file, Settings};
use crate::startup::Application;
use clap::{Parser, Subcommand};
use projections::Projector;
use std::io::Write;
use std::process::ExitCode;

/// apikeyd: API keys for VAMS-compatible services, event-sourced.
///
/// Every setting can be given as a flag, as an APIKEYD_* environment variable, or as a KEY=value line
/// in the file named by APIKEYD_CONFIG (flags win over the environment, which wins over the file).
#[derive(Debug, Parser)]
#[command(name = "apikeyd", version, about, long_about)]
pub struct Cli {
    #[command(flatten, next_help_heading = "Server options")]
    settings: Settings,
    #[command(flatten, next_help_heading = "Client options")]
    client: ClientArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service. On an empty store it first creates the admin role, gives it to the
    /// bootstrap admin user and prints one admin API key to stderr, once.
    Serve,
    /// Regain access: make sure the first admin role exists and USER holds it, then issue a new admin
    /// key for USER (printed once to stderr). Works on the store directly; the server may be running.
    Recover {
        /// The user to give admin access (default: APIKEYD_BOOTSTRAP_ADMIN).
        #[arg(long)]
        user_id: Option<String>,
    },
    /// AWS backend administration.
    Aws {
        #[command(subcommand)]
        action: AwsAction,
    },
    /// Work on the projections (read models) built from the event log.
    Projections {
        #[command(subcommand)]
        action: ProjectionsAction,
    },
    /// The event log: a key's history, replaying projections, verifying the hash chain.
    Events {
        #[command(subcommand)]
        action: crate::tools::EventsAction,
    },
    /// Time travel: a key or a user as they were at an instant.
    Forensics {
        #[command(subcommand)]
        action: crate::tools::ForensicsAction,
    },
    /// Read the audit trail (local file or CloudWatch Logs).
    Audit {
        #[command(subcommand)]
        action: crate::tools::AuditAction,
    },
    /// Migrate from another system (a running VAMS) into the configured backend.
    Import {
        #[command(subcommand)]
        action: crate::import::ImportAction,
    },
    /// Benchmark helpers (not for production stores).
    #[command(hide = true)]
    Bench {
        #[command(subcommand)]
        action: BenchAction,
    },
    /// Client commands, talking to a running server over HTTP.
    #[command(flatten)]
    Client(ClientCommand),
}

#[derive(Debug, Subcommand)]
enum AwsAction {
    /// Create every DynamoDB table apikeyd uses (under APIKEYD_TABLE_PREFIX) if missing, wait
    /// until they are active and record the change feed's shard count (--feed-shards N, 1..=64,
    /// default 1; more shards lift the ~1 000 writes/s a single feed partition takes). Idempotent
    /// with the same count; safe from several machines at once. The count cannot be changed later:
    /// initialising again with another one is refused.
    Init,
}

#[derive(Debug, Subcommand)]
enum BenchAction {
    /// Put N keys into the embedded store quickly: the events the command path would record,
    /// appended many commands per transaction, then the views and audit file rebuilt.
    Seed(crate::bench_seed::SeedArgs),
    /// The baseline of the creates/s figure: single-threaded 2-row SQLite commits (WAL,
    /// synchronous=FULL) on a fresh file beside the store; prints commits/s.
    SqliteCommits(crate::bench_baseline::BaselineArgs),
}

#[derive(Debug, Subcommand)]
enum ProjectionsAction {
    /// Rebuild every projection from the events in memory and compare with the persisted ones.
    /// Exit 0 when they match, 1 (with the differences) when they do not.
    Verify,
    /// Rebuild every persisted projection from the event log, replacing what is stored (the same
    /// as `events replay --projection views`).
    Rebuild,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    if let Err(e) = load_config_file() {
        eprintln!("apikeyd: {e}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    crate::telemetry::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("apikeyd: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve => serve(cli.settings).await,
            Command::Projections { action } => projections(cli.settings, action).await,
            Command::Aws {
                action: AwsAction::Init,
            } => aws_init(cli.settings).await,
            Command::Recover { user_id } => recover(cli.settings, user_id).await,
            Command::Events { action } => crate::tools::events(&cli.settings, action).await,
            Command::Forensics { action } => {
                crate::tools::forensics_cmd(&cli.settings, action).await
            }
            Command::Audit { action } => crate::tools::audit(&cli.settings, action).await,
            Command::Import { action } => crate::import::run(&cli.settings, action).await,
            Command::Bench { action } => match action {
                BenchAction::Seed(args) => crate::bench_seed::seed(&cli.settings, args).await,
                BenchAction::SqliteCommits(args) => {
                    crate::bench_baseline::sqlite_commits(&cli.settings, args).await
                }
            },
            Command::Client(command) => Ok(crate::client::run(command, &cli.client).await),
        }
    });
    match result {
        Ok(code) => code,
        // The reader of stdout went away (`| head`): it has what it wanted (see `console`).
        Err(e) if crate::console::caused_by_closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("apikeyd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    let bind = settings.bind.clone();
    let app = Application::build(settings).await?;
    let address = format!(
        "http://{}:{}",
        bind.rsplit_once(':').map_or("127.0.0.1", |(h, _)| h),
        app.port()
    );
    if let Some(key) = app.bootstrap_key() {
        eprintln!(
            "\n================================================================================\n\
             apikeyd first start: created role 'admin', gave it to the bootstrap admin user and\n\
             issued this admin API key. It is shown ONCE and stored only as a hash. Save it now:\n\n\
             {key}\n\n\
             Try it:  curl -H \"Authorization: Bearer <key>\" {address}/auth/api-keys\n\
             Web console: {address}/admin/\n\
             ================================================================================\n"
        );
    }
    eprintln!("apikeyd listening on {address}");
    app.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}

async fn recover(settings: Settings, user_id: Option<String>) -> anyhow::Result<ExitCode> {
    let backend = crate::startup::Backend::open(&settings).await?;
    let role = settings.admin_roles.first().map_or("admin", String::as_str);
    let user_id = user_id.unwrap_or_else(|| settings.bootstrap_admin.clone());
    let user =
        crate::bootstrap::ensure_admin(backend.bus.as_ref(), &backend.projector, role, &user_id)
            .await?;
    let name = format!("recovery-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S"));
    let key = crate::bootstrap::issue_key(backend.bus.as_ref(), &name, &user, "Recovery admin key")
        .await?
        .ok_or_else(|| anyhow::anyhow!("a key named {name} already exists; retry in a second"))?;
    // A one-shot process: the views and the audit follow commands in the background, which ends
    // with this process, so bring them up to date before exiting.
    backend.projector.catch_up_views().await?;
    backend.projector.flush_audit().await?;
    eprintln!(
        "apikeyd recover: user '{user}' holds role '{role}'. New admin key '{name}', shown ONCE:\n\n{}\n",
        secrecy::ExposeSecret::expose_secret(&key)
    );
    Ok(ExitCode::SUCCESS)
}

async fn aws_init(settings: Settings) -> anyhow::Result<ExitCode> {
    let store = infra::DynamoStore::connect(&settings.table_prefix).await;
    let created = store.init_tables_sharded(settings.feed_shards).await?;
    let client = infra::cloudwatch::client().await;
    for group in [settings.audit_group(), settings.audit_group_vams()]
        .into_iter()
        .flatten()
    {
        let made = infra::cloudwatch::ensure_group(&client, &group).await?;
        writeln!(
            std::io::stdout(),
            "log group {group}: {}",
            if made { "created" } else { "exists" }
        )?;
    }
    let tables = store.tables();
    for table in [
        &tables.events,
        &tables.feed,
        &tables.unique,
        &tables.lookup,
        &tables.views,
        &tables.usage,
        &tables.rate_limits,
    ] {
        let state = if created.contains(table) {
            "created"
        } else {
            "exists"
        };
        writeln!(std::io::stdout(), "{table}: {state}")?;
    }
    writeln!(
        std::io::stdout(),
        "{}: {} feed shard(s)",
        tables.feed,
        settings.feed_shards
    )?;
    Ok(ExitCode::SUCCESS)
}

async fn projections(settings: Settings, action: ProjectionsAction) -> anyhow::Result<ExitCode> {
    if let ProjectionsAction::Rebuild = action {
        return crate::tools::rebuild(&settings).await;
    }
    let store = crate::stores::Store::open(&settings).await?;
    let (feed, views) = (store.feed(), store.views());
    let progress = crate::progress::Progress::new("folding events", None);
    let rebuilt =
        Projector::rebuild_until(feed.as_ref(), None, &mut |n| progress.set(n as u64)).await?;
    progress.finish();
    let model = &rebuilt.model;
    let summary = format!(
        "{} events, {} keys, {} roles, {} users with roles",
        rebuilt.events,
        model.listing.len(),
        model.directory.roles.len(),
        model.directory.users.len()
    );
    let (persisted, persisted_cursor) = views.load().await?;
    let differences = model.differences(&persisted);
    let mut out = std::io::stdout().lock();
    if differences.is_empty() && persisted_cursor == rebuilt.cursor {
        writeln!(out, "projections match the event log: {summary}")?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "projections differ from the event log (log at {:?}, views at {persisted_cursor:?}):",
        rebuilt.cursor
    )?;
    for d in differences {
        writeln!(out, "  {}", crate::console::escape(&d))?;
    }
    Ok(ExitCode::FAILURE)
}
