//! Progress of long operator commands (replay, rebuild, seeding, import): a bar with the rate on a
//! terminal, nothing at all when stderr is a pipe or a file or the output is for a program (`--json`),
//! so logs and scripts get no control characters.
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A progress bar over counts of items, in one or more phases.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar for `what`, out of `total` when known (a count without an end otherwise).
    pub fn new(what: &str, total: Option<u64>) -> Self {
        let progress = Self::shown_if(true);
        progress.phase(what, total.unwrap_or(0));
        progress
    }

    /// A bar drawn only when `for_person` and stderr is a terminal; start it with [`Self::phase`].
    pub fn shown_if(for_person: bool) -> Self {
        let bar = ProgressBar::new(0);
        let target = match for_person && std::io::stderr().is_terminal() {
            true => ProgressDrawTarget::stderr(),
            false => ProgressDrawTarget::hidden(),
        };
        bar.set_draw_target(target);
        Self { bar }
    }

    /// Starts a phase of `total` steps (0: a count without a known end).
    pub fn phase(&self, label: &str, total: u64) {
        let template = match total {
            0 => "{msg}: {human_pos} ({per_sec})",
            _ => "{msg}: [{bar:40}] {human_pos}/{human_len} ({per_sec}, {eta} left)",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.bar.set_style(style.progress_chars("=> "));
        }
        self.bar.set_message(label.to_owned());
        self.bar.set_length(total);
        self.bar.set_position(0);
    }

    /// `done` items so far.
    pub fn set(&self, done: u64) {
        self.bar.set_position(done);
    }

    /// Advances by `steps`.
    pub fn advance(&self, steps: u64) {
        self.bar.inc(steps);
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
