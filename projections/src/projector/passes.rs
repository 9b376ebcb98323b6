//! Coalescing of passes over the log.
use std::sync::atomic::{AtomicU64, Ordering};

/// Lets callers queued behind a pass share the next one instead of each running its own: a pass
/// that began after a caller arrived has read everything committed before it (group commit's
/// counterpart on the read side).
#[derive(Default)]
pub(super) struct Passes {
    begun: AtomicU64,
}

impl Passes {
    /// Taken before waiting for the lock.
    pub(super) fn ticket(&self) -> u64 {
        self.begun.load(Ordering::SeqCst)
    }

    /// Whether a pass that began after `ticket` was taken has already completed.
    pub(super) fn served(ticket: u64, completed: u64) -> bool {
        completed > ticket
    }

    /// Numbers a new pass (under the lock, before it reads anything).
    pub(super) fn begin(&self, counter: &mut u64) -> u64 {
        *counter += 1;
        self.begun.store(*counter, Ordering::SeqCst);
        *counter
    }
}
