//! Progress of long operator commands (replay, rebuild, seeding): a bar with the rate on a
//! terminal, nothing at all when stderr is a pipe or a file, so logs and scripts stay clean.
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A progress bar over a count of items.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar for `what`, out of `total` when known (a spinner with a count otherwise).
    pub fn new(what: &str, total: Option<u64>) -> Self {
        let bar = match total {
            Some(total) => ProgressBar::new(total),
            None => ProgressBar::no_length(),
        };
        let template = match total {
            Some(_) => "{msg}: [{bar:40}] {human_pos}/{human_len} ({per_sec}, {eta} left)",
            None => "{msg}: {human_pos} ({per_sec})",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_owned());
        let target = match std::io::stderr().is_terminal() {
            true => ProgressDrawTarget::stderr(),
            false => ProgressDrawTarget::hidden(),
        };
        bar.set_draw_target(target);
        Self { bar }
    }

    /// `done` items so far.
    pub fn set(&self, done: usize) {
        self.bar.set_position(done as u64);
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
