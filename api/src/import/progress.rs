//! A progress bar on stderr when it is a terminal and the output is for a person; hidden otherwise,
//! so scripts, `--json` and logs get no control characters.
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// The import's progress display.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// Visible only when `for_person` and stderr is a terminal.
    pub fn new(for_person: bool) -> Self {
        let bar = if for_person && std::io::stderr().is_terminal() {
            ProgressBar::new(0)
        } else {
            ProgressBar::hidden()
        };
        Self { bar }
    }

    /// Starts a phase of `total` steps (0: a count without a known end).
    pub fn phase(&self, label: &str, total: u64) {
        let template = if total == 0 {
            "{spinner} {msg}: {pos}"
        } else {
            "{msg:>16} [{bar:40}] {pos}/{len} ({per_sec}, {eta})"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.bar.set_style(style.progress_chars("=> "));
        }
        self.bar.set_message(label.to_owned());
        self.bar.set_length(total);
        self.bar.set_position(0);
    }

    /// Moves to `done` steps.
    pub fn set(&self, done: u64) {
        self.bar.set_position(done);
    }

    /// Advances by `steps`.
    pub fn advance(&self, steps: u64) {
        self.bar.inc(steps);
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
