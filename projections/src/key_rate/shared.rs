//! Fleet-wide limiting by leases: each node reserves blocks of a window's count from the shared
//! [`WindowCounts`] and admits locally while its block lasts (see the module docs and ADR 020).
use super::shards::{Expiring, Shards};
use super::span::{Seen, Span};
use super::{lease_size, Admission, WindowCounts};
use crate::StoreError;
use std::sync::{Arc, Mutex, PoisonError};
use uuid::Uuid;

/// What this node holds of one key's current window.
struct LeaseState {
    span: Span,
    /// The limit the tokens were leased under.
    limit: u32,
    /// Admissions leased from the store and not used yet.
    tokens: u32,
    /// The store granted nothing: refuse locally until the window ends.
    exhausted: bool,
    /// Reservations answered so far, so a request that waited behind a failed one can tell.
    answered: u64,
    /// How the last reservation failed, if it did.
    failure: Option<StoreError>,
}

impl LeaseState {
    /// Follows the request's window and limit. A lowered limit drops the unused tokens (they were
    /// leased under the old one and could exceed the new); any change lifts `exhausted`, since
    /// the store decides afresh under the new limit.
    fn align(&mut self, seen: Seen, limit: u32) {
        if self.span.advance(seen) {
            self.tokens = 0;
            self.exhausted = false;
        }
        if limit != self.limit {
            if limit < self.limit {
                self.tokens = 0;
            }
            self.limit = limit;
            self.exhausted = false;
        }
    }

    /// Admits from the lease, or refuses when the window is exhausted; `None` when a reservation
    /// is needed.
    fn take(&mut self, now_secs: u64) -> Option<Admission> {
        if self.tokens > 0 {
            self.tokens -= 1;
            Some(Admission::Admitted)
        } else if self.exhausted {
            Some(Admission::Limited {
                retry_after_secs: self.span.retry_after(now_secs),
            })
        } else {
            None
        }
    }
}

/// One key's lease, and the turn to refill it: one reservation in flight per key per node.
struct KeyLease {
    state: Mutex<LeaseState>,
    /// Owned by the reservation in flight (its task, see [`SharedCounts::refill`]).
    refill: Arc<tokio::sync::Mutex<()>>,
}

impl KeyLease {
    fn state(&self) -> std::sync::MutexGuard<'_, LeaseState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Books a reservation of `want` for `span` under `limit`: the lease keeps what the request
    /// that asked does not take. A grant for a window or limit the key has left is stranded,
    /// never carried over.
    fn record(
        &self,
        span: Span,
        limit: u32,
        want: u32,
        reserved: Result<u32, StoreError>,
        now_secs: u64,
    ) -> Result<Admission, StoreError> {
        let mut state = self.state();
        state.answered += 1;
        let granted = match reserved {
            Ok(granted) => granted.min(want),
            Err(failure) => {
                state.failure = Some(failure.clone());
                return Err(failure);
            }
        };
        state.failure = None;
        if granted == 0 {
            // Full under this limit; a limit raised meanwhile gets its own reservation.
            if state.span == span && state.limit == limit {
                state.exhausted = true;
            }
            return Ok(Admission::Limited {
                retry_after_secs: span.retry_after(now_secs),
            });
        }
        if state.span == span && state.limit >= limit {
            state.tokens += granted - 1;
        }
        Ok(Admission::Admitted)
    }

    /// Returns the admission of a request that left before its reservation was answered.
    fn give_back(&self, span: Span, limit: u32) {
        let mut state = self.state();
        if state.span == span && state.limit >= limit {
            state.tokens += 1;
        }
    }
}

/// The task reserving for a request ended without answering (it panicked).
#[derive(Debug, thiserror::Error)]
#[error("the reservation of a rate-limit lease ended without an answer")]
pub(super) struct ReservationLost;

impl Expiring for Arc<KeyLease> {
    fn expired(&self, now_secs: u64) -> bool {
        // A lease someone holds (a reservation in flight) stays, so the key keeps one refill turn.
        Arc::strong_count(self) == 1 && self.state().span.ended(now_secs)
    }
}

/// The fast path's verdict.
enum Fast {
    Done(Admission),
    /// Reserve more; the reservations answered so far, to notice one that failed while this
    /// request waited for its turn.
    Refill(Arc<KeyLease>, u64),
}

/// Every key's lease on this node, over the fleet's shared counts.
pub(super) struct SharedCounts {
    counts: Arc<dyn WindowCounts>,
    keys: Shards<Arc<KeyLease>>,
}

impl SharedCounts {
    pub fn new(counts: Arc<dyn WindowCounts>) -> Self {
        Self {
            counts,
            keys: Shards::new(),
        }
    }

    /// Decides from this node's lease alone, or says which lease to refill.
    fn fast(&self, key: Uuid, limit: u32, seen: Seen, now_secs: u64) -> Fast {
        let fresh = || {
            Arc::new(KeyLease {
                state: Mutex::new(LeaseState {
                    span: seen.span(),
                    limit,
                    tokens: 0,
                    exhausted: false,
                    answered: 0,
                    failure: None,
                }),
                refill: Arc::new(tokio::sync::Mutex::new(())),
            })
        };
        self.keys.with(key, now_secs, fresh, |lease| {
            let mut state = lease.state();
            state.align(seen, limit);
            match state.take(now_secs) {
                Some(done) => Fast::Done(done),
                None => Fast::Refill(Arc::clone(lease), state.answered),
            }
        })
    }

    /// The decision when the lease alone makes it: tokens left, or the window known full.
    pub fn admit_now(&self, key: Uuid, limit: u32, seen: Seen, now_secs: u64) -> Option<Admission> {
        match self.fast(key, limit, seen, now_secs) {
            Fast::Done(done) => Some(done),
            Fast::Refill(..) => None,
        }
    }

    pub async fn admit(
        &self,
        key: Uuid,
        limit: u32,
        seen: Seen,
        now_secs: u64,
    ) -> Result<Admission, StoreError> {
        match self.fast(key, limit, seen, now_secs) {
            Fast::Done(done) => Ok(done),
            Fast::Refill(lease, answered) => {
                self.refill(key, lease, answered, limit, seen, now_secs)
                    .await
            }
        }
    }

    /// Waits for the key's turn, then admits from what the request before it leased, or reserves
    /// a block for this node.
    ///
    /// The reservation runs in a task of its own that holds the turn: a request dropped while
    /// the store answers (its client gone) neither strands the block nor lets a second
    /// reservation of the key start before the first is booked.
    async fn refill(
        &self,
        key: Uuid,
        lease: Arc<KeyLease>,
        answered_before: u64,
        limit: u32,
        seen: Seen,
        now_secs: u64,
    ) -> Result<Admission, StoreError> {
        let turn = Arc::clone(&lease.refill).lock_owned().await;
        let (span, limit) = {
            let mut state = lease.state();
            state.align(seen, limit);
            if let Some(done) = state.take(now_secs) {
                return Ok(done);
            }
            // Requests that queued behind a failed reservation share its answer instead of each
            // waiting out the store's timeout in turn.
            if state.answered != answered_before {
                if let Some(failure) = &state.failure {
                    return Err(failure.clone());
                }
            }
            (state.span, state.limit)
        };
        let counts = Arc::clone(&self.counts);
        let (answer, answered) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let _turn = turn;
            let want = lease_size(limit);
            let reserved = counts
                .reserve(
                    key,
                    span.period,
                    span.window,
                    want,
                    limit,
                    span.expires_at(),
                )
                .await;
            let verdict = lease.record(span, limit, want, reserved, now_secs);
            if let Err(Ok(Admission::Admitted)) = answer.send(verdict) {
                lease.give_back(span, limit);
            }
        });
        answered
            .await
            .unwrap_or_else(|_| Err(StoreError::unavailable(ReservationLost)))
    }

    pub fn tracked_keys(&self) -> usize {
        self.keys.len()
    }
}
