//! Operator and security-team commands that work on the store directly: event history, replay and
//! chain verification, time travel, and reading the audit trail.
//!
//! Output goes through `writeln!` so that a closed stdout (`| head`) is an error the command line
//! turns into a quiet exit 0 ([`crate::console`]); data from the store is escaped in text output
//! and exact in `--json` output.
use crate::config::Settings;
use crate::console::escape;
use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use cqrs_es::Aggregate;
use domain::api_key::ApiKey;
use domain::UserId;
use infra::audit_reader::{self, AuditQuery};
use infra::chain::ChainedLog;
use projections::audit::AuditRecord;
use projections::forensics::{self, KeyAt, UserAt};
use projections::{EventFeed, Projector, ViewStore};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

/// `apikeyd events …`
#[derive(Debug, Subcommand)]
pub enum EventsAction {
    /// Every event of one key, in order, with actors and changes.
    History {
        /// The key's id.
        api_key_id: Uuid,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Rebuild projections from the event store, with progress and events/s.
    Replay {
        /// Which projection to rebuild.
        #[arg(long, value_enum, default_value = "all")]
        projection: ReplayTarget,
    },
    /// Walk every aggregate's hash chain and the independent witnesses; exit 1 on any altered,
    /// removed or reordered event.
    Verify,
}

impl EventsAction {
    /// `events replay --projection all`.
    pub fn replay_all() -> Self {
        Self::Replay {
            projection: ReplayTarget::All,
        }
    }
}

/// What `events replay` rebuilds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReplayTarget {
    /// Key lookup, key listing, roles and user roles (persisted together).
    Views,
    /// The local JSON-lines audit file, rewritten from the log.
    AuditFile,
    /// Both.
    All,
}

/// `apikeyd forensics …`
#[derive(Debug, Subcommand)]
pub enum ForensicsAction {
    /// The key as it was at an instant: existed? active? expired? could it authenticate?
    Key {
        api_key_id: Uuid,
        #[command(flatten)]
        at: At,
    },
    /// Every key that could act as the user at an instant, with the roles the user held then.
    User {
        user_id: String,
        #[command(flatten)]
        at: At,
    },
}

/// The instant of a forensic question.
#[derive(Debug, Clone, Args)]
pub struct At {
    /// RFC 3339 (`2026-11-26T10:00:00Z`), a naive date-time or a date, read as UTC (default: now).
    #[arg(long)]
    at: Option<String>,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// `apikeyd audit …`
#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// The latest audit records.
    Tail {
        /// How many.
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: usize,
        #[command(flatten)]
        source: AuditSource,
    },
    /// Audit records matching filters, oldest first.
    Search {
        #[arg(long)]
        api_key_id: Option<String>,
        #[arg(long)]
        user_id: Option<String>,
        #[arg(long)]
        actor: Option<String>,
        /// e.g. apiKeyCreate, apiKeyUpdate, apiKeyDelete, roleCreate, userRolesAssign, authFailure.
        #[arg(long)]
        action: Option<String>,
        /// From this instant (RFC 3339 or date, UTC).
        #[arg(long)]
        since: Option<String>,
        /// Up to this instant.
        #[arg(long)]
        until: Option<String>,
        /// At most this many (the latest).
        #[arg(long)]
        limit: Option<usize>,
        #[command(flatten)]
        source: AuditSource,
    },
}

/// Where `audit` reads from.
#[derive(Debug, Clone, Args)]
pub struct AuditSource {
    /// `file` or `cloudwatch` (default: CloudWatch when an audit log group is configured).
    #[arg(long, value_parser = ["file", "cloudwatch"])]
    from: Option<String>,
    /// With `--from cloudwatch`: the log group to read (default APIKEYD_AUDIT_LOG_GROUP); JSON
    /// records and `[AUTHCHANGES]` lines are both read, so the VAMS group (or VAMS's own) works too.
    #[arg(long)]
    log_group: Option<String>,
    /// JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

struct Stores {
    feed: Arc<dyn EventFeed>,
    views: Arc<dyn ViewStore>,
    chain: Arc<dyn ChainedLog>,
}

async fn open(settings: &Settings) -> anyhow::Result<Stores> {
    let store = crate::stores::Store::open(settings).await?;
    Ok(Stores {
        feed: store.feed(),
        views: store.views(),
        chain: store.chain(),
    })
}

fn instant(raw: Option<&str>) -> anyhow::Result<DateTime<Utc>> {
    match raw {
        None => Ok(Utc::now()),
        Some(raw) => {
            forensics::parse_instant(raw).with_context(|| format!("not an instant: {raw}"))
        }
    }
}

fn print_records(records: &[AuditRecord], json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        for r in records {
            writeln!(out, "{}", serde_json::to_string(r)?)?;
        }
        return Ok(());
    }
    writeln!(
        out,
        "{:<32} {:<16} {:<20} {:<38} {:<20} CHANGES",
        "TIME", "ACTION", "ACTOR", "SUBJECT", "USER"
    )?;
    for r in records {
        let subject = r
            .api_key_name
            .as_ref()
            .map(|n| format!("{n} ({})", r.api_key_id.as_deref().unwrap_or("")))
            .or_else(|| r.role_name.clone())
            .unwrap_or_else(|| r.aggregate_id.clone());
        let changes = if r.changes.is_null() {
            String::new()
        } else {
            r.changes.to_string()
        };
        writeln!(
            out,
            "{:<32} {:<16} {:<20} {:<38} {:<20} {}",
            crate::routes::wire_time(r.time),
            escape(&r.action),
            escape(&r.actor),
            escape(&subject),
            escape(r.user_id.as_deref().unwrap_or("-")),
            escape(&changes)
        )?;
    }
    out.flush()?;
    Ok(())
}

/// `apikeyd events …`
pub async fn events(settings: &Settings, action: EventsAction) -> anyhow::Result<ExitCode> {
    let stores = open(settings).await?;
    match action {
        EventsAction::History { api_key_id, json } => {
            let events = stores
                .feed
                .aggregate_events(ApiKey::TYPE, &api_key_id.to_string())
                .await?;
            if events.is_empty() {
                eprintln!("no events for API key {api_key_id}");
                return Ok(ExitCode::FAILURE);
            }
            let records: Vec<AuditRecord> = events.iter().map(AuditRecord::from_event).collect();
            print_records(&records, json)?;
            Ok(ExitCode::SUCCESS)
        }
        EventsAction::Replay { projection } => replay(settings, &stores, projection).await,
        EventsAction::Verify => {
            let report = infra::chain::verify(
                stores.chain.stored_events().await?,
                stores.chain.mirrored_events().await?,
                &stores.chain.recorded_versions().await?,
            );
            let mut out = std::io::stdout().lock();
            for problem in &report.problems {
                writeln!(out, "TAMPERED  {}", escape(problem))?;
            }
            writeln!(
                out,
                "{} events in {} aggregates checked: {}",
                report.events,
                report.aggregates,
                if report.problems.is_empty() {
                    "chain intact".to_owned()
                } else {
                    format!("{} problems", report.problems.len())
                }
            )?;
            Ok(if report.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// `projections rebuild`: the same as `events replay --projection views`.
pub async fn rebuild(settings: &Settings) -> anyhow::Result<ExitCode> {
    replay(settings, &open(settings).await?, ReplayTarget::Views).await
}

/// The one rebuild behind `events replay` and `projections rebuild`: folds the whole log (a progress
/// bar on a terminal), then writes what `target` names and prints the events/s.
async fn replay(
    settings: &Settings,
    stores: &Stores,
    target: ReplayTarget,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let progress = crate::progress::Progress::new("replaying events", None);
    let rebuilt =
        Projector::rebuild_until(stores.feed.as_ref(), None, &mut |n| progress.set(n as u64))
            .await?;
    progress.finish();
    let folded = started.elapsed().as_secs_f64();
    let model = &rebuilt.model;
    if matches!(target, ReplayTarget::Views | ReplayTarget::All) {
        stores.views.replace_all(model, &rebuilt.cursor).await?;
        writeln!(
            std::io::stdout(),
            "views rebuilt: {} keys, {} roles, {} users with roles",
            model.listing.len(),
            model.directory.roles.len(),
            model.directory.users.len()
        )?;
    }
    if matches!(target, ReplayTarget::AuditFile | ReplayTarget::All) {
        match settings.audit_path() {
            Some(path) => {
                let written = rewrite_audit_file(stores, &path).await?;
                writeln!(
                    std::io::stdout(),
                    "audit file {} rewritten: {written} records",
                    path.display()
                )?;
            }
            None => writeln!(std::io::stdout(), "no audit file configured; skipped")?,
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    writeln!(
        std::io::stdout(),
        "replayed {} events in {seconds:.2}s ({:.0} events/s; folding {folded:.2}s, writing {:.2}s)",
        rebuilt.events,
        rebuilt.events as f64 / seconds.max(1e-9),
        seconds - folded
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Rewrites the audit file from the whole log and moves its checkpoint to the end. Records that are
/// not events (refused authentications) are kept, merged in by time.
async fn rewrite_audit_file(stores: &Stores, path: &std::path::Path) -> anyhow::Result<usize> {
    let mut records: Vec<AuditRecord> = audit_reader::read_file(path, &AuditQuery::default())
        .await
        .map_err(|e| anyhow::anyhow!(e))?
        .into_iter()
        .filter(|r| r.aggregate_type == "Auth")
        .collect();
    let mut cursor = String::new();
    loop {
        let batch = stores.feed.events_after(&cursor, 1000).await?;
        let Some(last) = batch.last() else { break };
        cursor = last.cursor.clone();
        records.extend(batch.iter().map(AuditRecord::from_event));
    }
    records.sort_by_key(|r| r.time);
    let mut text = String::new();
    for record in &records {
        text.push_str(&serde_json::to_string(record)?);
        text.push('\n');
    }
    let tmp = path.with_extension("log.rebuild");
    tokio::fs::write(&tmp, text).await?;
    tokio::fs::rename(&tmp, path).await?;
    stores.views.set_checkpoint("audit-file", &cursor).await?;
    Ok(records.len())
}

fn print_key(out: &mut impl Write, key: &KeyAt) -> std::io::Result<()> {
    writeln!(out, "key {} at {}: {}", key.api_key_id, key.at, key.state)?;
    if key.state == "LIVE" {
        let shown = |v: &Option<String>| escape(v.as_deref().unwrap_or("")).into_owned();
        writeln!(out, "  name         {}", shown(&key.api_key_name))?;
        writeln!(
            out,
            "  user         {} (roles then: {})",
            shown(&key.user_id),
            roles(&key.user_roles)
        )?;
        writeln!(out, "  description  {}", shown(&key.description))?;
        writeln!(out, "  active       {}", key.is_active.unwrap_or(false))?;
        writeln!(
            out,
            "  expires      {}{}",
            key.expires_at.as_deref().unwrap_or("never"),
            if key.expired { " (expired)" } else { "" }
        )?;
        print_secrets(out, key)?;
    }
    for record in &key.history {
        writeln!(
            out,
            "  {}  {:<18} by {}{}",
            record
                .time
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            record.action,
            escape(&record.actor),
            history_detail(record)
        )?;
    }
    writeln!(
        out,
        "  could authenticate: {} ({})",
        if key.could_authenticate { "yes" } else { "no" },
        key.verification
    )
}

/// Which secret was valid then, by hash prefix; a rotation and a leak report.
fn print_secrets(out: &mut impl Write, key: &KeyAt) -> std::io::Result<()> {
    for secret in &key.secrets {
        writeln!(
            out,
            "  secret       {} {:<8} {}{}",
            secret.hash_prefix,
            secret.role,
            if secret.valid { "valid" } else { "not valid" },
            secret
                .valid_until
                .as_deref()
                .map(|u| format!(" (until {u})"))
                .unwrap_or_default()
        )?;
    }
    if let Some(at) = &key.rotated_at {
        writeln!(out, "  rotated      {at}")?;
    }
    if let Some(at) = &key.exposed_at {
        let source = escape(key.exposure_source.as_deref().unwrap_or("")).into_owned();
        writeln!(out, "  exposed      {at} ({source})")?;
    }
    Ok(())
}

/// The part of a history line after the actor: changed fields, a rotation's hash prefixes, a
/// report's source.
fn history_detail(record: &projections::audit::AuditRecord) -> String {
    let changes = &record.changes;
    match record.action.as_str() {
        "apiKeyRotate" => format!(
            ": secret {} -> {}",
            changes["keyHashPrefix"]["old"].as_str().unwrap_or("?"),
            changes["keyHashPrefix"]["new"].as_str().unwrap_or("?")
        ),
        "apiKeyExposed" => format!(
            ": secret {} reported ({})",
            changes["keyHashPrefix"].as_str().unwrap_or("?"),
            escape(changes["source"].as_str().unwrap_or(""))
        ),
        _ if !record.changed_fields.is_empty() => format!(": {}", record.changed_fields.join(", ")),
        _ => String::new(),
    }
}

fn roles(list: &[domain::RoleName]) -> String {
    if list.is_empty() {
        return "none".to_owned();
    }
    list.iter()
        .map(|r| escape(r.as_ref()).into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_user(out: &mut impl Write, user: &UserAt) -> std::io::Result<()> {
    writeln!(
        out,
        "user {} at {}: roles {}",
        escape(&user.user_id),
        user.at,
        roles(&user.roles)
    )?;
    let usable = user.keys.iter().filter(|k| k.could_authenticate).count();
    writeln!(out, "  keys that could authenticate as this user: {usable}")?;
    for key in &user.keys {
        writeln!(
            out,
            "  {} {:<30} {}",
            key.api_key_id,
            escape(key.api_key_name.as_deref().unwrap_or("")),
            if key.could_authenticate {
                "could authenticate".to_owned()
            } else {
                format!("refused: {}", key.verification)
            }
        )?;
    }
    Ok(())
}

/// `apikeyd forensics …`
pub async fn forensics_cmd(
    settings: &Settings,
    action: ForensicsAction,
) -> anyhow::Result<ExitCode> {
    let stores = open(settings).await?;
    let at_of = |a: &At| instant(a.at.as_deref());
    match action {
        ForensicsAction::Key { api_key_id, at } => {
            let instant = at_of(&at)?;
            let model = Projector::rebuild_until(stores.feed.as_ref(), Some(instant), &mut |_| {})
                .await?
                .model;
            let events = stores
                .feed
                .aggregate_events(domain::api_key::ApiKey::TYPE, &api_key_id.to_string())
                .await?;
            let key = forensics::key(&model, api_key_id, instant).with_history(&events, instant);
            let mut out = std::io::stdout().lock();
            if at.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&key)?)?;
            } else {
                print_key(&mut out, &key)?;
            }
        }
        ForensicsAction::User { user_id, at } => {
            let instant = at_of(&at)?;
            let user = UserId::parse(&user_id).map_err(|e| anyhow::anyhow!(e))?;
            let model = Projector::rebuild_until(stores.feed.as_ref(), Some(instant), &mut |_| {})
                .await?
                .model;
            let answer = forensics::user(&model, &user, instant);
            let mut out = std::io::stdout().lock();
            if at.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
            } else {
                print_user(&mut out, &answer)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `apikeyd audit …`
pub async fn audit(settings: &Settings, action: AuditAction) -> anyhow::Result<ExitCode> {
    let (query, source) = match action {
        AuditAction::Tail { lines, source } => (
            AuditQuery {
                limit: Some(lines),
                ..Default::default()
            },
            source,
        ),
        AuditAction::Search {
            api_key_id,
            user_id,
            actor,
            action,
            since,
            until,
            limit,
            source,
        } => (
            AuditQuery {
                api_key_id,
                user_id,
                actor,
                action,
                since: since.as_deref().map(|s| instant(Some(s))).transpose()?,
                until: until.as_deref().map(|s| instant(Some(s))).transpose()?,
                limit,
            },
            source,
        ),
    };
    let from = source.from.clone().unwrap_or_else(|| {
        if settings.audit_group().is_some() || source.log_group.is_some() {
            "cloudwatch"
        } else {
            "file"
        }
        .to_owned()
    });
    let records = if from == "cloudwatch" {
        let group = source
            .log_group
            .clone()
            .or_else(|| settings.audit_group())
            .context("no audit log group configured (APIKEYD_AUDIT_LOG_GROUP or --log-group)")?;
        let client = infra::cloudwatch::client().await;
        audit_reader::read_cloudwatch(&client, &group, &query)
            .await
            .map_err(|e| anyhow::anyhow!(e))?
    } else {
        let path = settings
            .audit_path()
            .context("no audit file configured (APIKEYD_AUDIT_FILE)")?;
        audit_reader::read_file(&path, &query)
            .await
            .map_err(|e| anyhow::anyhow!(e))?
    };
    print_records(&records, source.json)?;
    Ok(ExitCode::SUCCESS)
}
