//! `apikeyd bench sqlite-commits`: the raw SQLite commit rate on the store's disk, the baseline of
//! the creates/s figure (see `infra::sqlite::baseline`).
use crate::config::Settings;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

/// What `bench sqlite-commits` was asked for.
#[derive(Debug, Clone, clap::Args)]
pub struct BaselineArgs {
    /// How long to commit for.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// At most this many commits.
    #[arg(long, default_value_t = 1_000_000)]
    commits: u64,
}

/// Commits on a fresh file in the data directory (the same disk as the store), then removes it;
/// prints `N commits/s`.
pub async fn sqlite_commits(settings: &Settings, args: BaselineArgs) -> anyhow::Result<ExitCode> {
    let dir = settings
        .data_dir
        .join(format!("baseline-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let measured = infra::sqlite::baseline::commit_rate(
        &dir.join("baseline.db"),
        Duration::from_secs_f64(args.seconds),
        args.commits,
    )
    .await;
    std::fs::remove_dir_all(&dir)?;
    let (commits, took) = measured?;
    let seconds = took.as_secs_f64();
    writeln!(
        std::io::stdout(),
        "{:.0} commits/s ({commits} commits in {seconds:.2}s)",
        commits as f64 / seconds.max(1e-9)
    )?;
    Ok(ExitCode::SUCCESS)
}
