//! `apikeyd import vams`: copy a running VAMS deployment's API keys, roles and user roles into
//! whichever backend is configured, so every existing key keeps working with its original plaintext.
//!
//! The run reads VAMS's three tables (checked for VAMS's schema first), reads each item through the
//! domain's parsers, plans against the current read model (new, unchanged, changed on either side,
//! deleted here, name collisions) and then writes: roles, user roles, keys, each as import events
//! (`RoleImported`, `UserRolesImported`, `ApiKeyImported`, and `…ImportUpdated` with
//! `--update-changed`). New aggregates are committed many per transaction through the stores' bulk
//! path; anything a batch cannot take is retried one by one through the command bus, so one bad item
//! never blocks the others and is never half-written. See docs/adr/015-vams-import.md.
//!
//! # Layout
//! - [`records`]: the VAMS items, read and typed.
//! - [`plan`]: what to do with each item, decided against the read model (also the dry run).
//! - [`apply`]: writing the plan (bulk for new aggregates, the command bus for the rest).
//! - [`report`]: the summary, as text or one JSON object.
//! - [`progress`]: a progress bar on a terminal, nothing elsewhere.
pub mod apply;
pub mod plan;
pub mod records;
pub mod report;

use crate::config::Settings;
use clap::{Args, Subcommand};
use infra::vams::VamsTables;
use std::process::ExitCode;
use std::time::Instant;

/// `apikeyd import …`
#[derive(Debug, Subcommand)]
pub enum ImportAction {
    /// Import API keys, roles and user roles from a running VAMS (its DynamoDB tables, read through
    /// the standard AWS chain). Keys keep their ids and hashes, so they authenticate as before.
    /// Idempotent: a second run imports nothing and reports what it skipped.
    Vams(VamsArgs),
}

/// The VAMS tables and how to import them.
#[derive(Debug, Clone, Args)]
pub struct VamsArgs {
    /// VAMS's ApiKeyStorageTable (its generated name).
    #[arg(long)]
    pub api_keys_table: String,
    /// VAMS's UserRolesStorageTable.
    #[arg(long)]
    pub user_roles_table: String,
    /// VAMS's RolesStorageTable.
    #[arg(long)]
    pub roles_table: String,
    /// Print the plan (counts, conversions, collisions) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print one JSON summary object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Bring keys and roles changed in VAMS since they were imported up to date (otherwise such
    /// changes are only reported).
    #[arg(long)]
    pub update_changed: bool,
}

impl VamsArgs {
    fn tables(&self) -> VamsTables {
        VamsTables {
            api_keys: self.api_keys_table.clone(),
            user_roles: self.user_roles_table.clone(),
            roles: self.roles_table.clone(),
        }
    }
}

/// `apikeyd import …`: exit 0 when every item was imported or skipped as planned, 1 when an item
/// could not be imported (each is named in the report) or a table is missing or not VAMS's.
pub async fn run(settings: &Settings, action: ImportAction) -> anyhow::Result<ExitCode> {
    let ImportAction::Vams(args) = action;
    let started = Instant::now();
    let progress = crate::progress::Progress::shown_if(!args.json);
    let tables = args.tables();
    let client = infra::vams::client().await;
    tables.check(&client).await?;
    let read_started = Instant::now();
    let records = records::read(&client, &tables, &progress).await?;
    let reading = read_started.elapsed();
    let mut writing = std::time::Duration::ZERO;
    // The plan compares every VAMS record with the key's row here: the full fold of the log (a
    // serving node's memory keeps no listing rows).
    let mut report = if args.dry_run {
        let feed = crate::stores::Store::open(settings).await?.feed();
        let model = projections::Projector::rebuild_from(feed.as_ref())
            .await?
            .model;
        let plan = plan::Plan::build(&model, feed.as_ref(), records, args.update_changed).await?;
        report::Report::planned(&tables, &plan)
    } else {
        let backend = crate::startup::Backend::open(settings).await?;
        let model = projections::Projector::rebuild_from(backend.feed.as_ref())
            .await?
            .model;
        let plan =
            plan::Plan::build(&model, backend.feed.as_ref(), records, args.update_changed).await?;
        drop(model);
        let store = apply::open_bulk(settings).await?;
        let write_started = Instant::now();
        let outcome =
            apply::Writer::new(&backend, store, &settings.admin_roles, &tables, &progress)
                .apply(&plan)
                .await?;
        writing = write_started.elapsed();
        report::Report::applied(&tables, &plan, outcome)
    };
    progress.finish();
    report.finish(started.elapsed(), reading, writing);
    report.print(args.json)?;
    Ok(if report.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
