//! Exact per-node limiting: a count per key for its current window, in memory, no I/O.
use super::shards::{Expiring, Shards};
use super::span::{Seen, Span};
use super::Admission;

/// One key's admissions in its current window.
struct Counted {
    span: Span,
    count: u32,
}

impl Expiring for Counted {
    fn expired(&self, now_secs: u64) -> bool {
        self.span.ended(now_secs)
    }
}

/// Every key's count on this node.
pub(super) struct LocalCounts {
    keys: Shards<Counted>,
}

impl LocalCounts {
    pub fn new() -> Self {
        Self {
            keys: Shards::new(),
        }
    }

    /// Counts one request of `key` against `limit` in the window of `seen`; the limit is compared at
    /// each request, so a changed limit applies from the next request on.
    pub fn admit(&self, key: uuid::Uuid, limit: u32, seen: Seen, now_secs: u64) -> Admission {
        let fresh = || Counted {
            span: seen.span(),
            count: 0,
        };
        self.keys.with(key, now_secs, fresh, |counted| {
            if counted.span.advance(seen) {
                counted.count = 0;
            }
            if counted.count < limit {
                counted.count += 1;
                Admission::Admitted
            } else {
                Admission::Limited {
                    retry_after_secs: counted.span.retry_after(now_secs),
                }
            }
        })
    }

    pub fn tracked_keys(&self) -> usize {
        self.keys.len()
    }
}
