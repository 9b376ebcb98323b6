//! The port a fleet-wide limiter leases from: a count of admissions per key and window that every
//! node shares (DynamoDB on AWS), and an in-memory one for tests and single-process use.
use crate::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use uuid::Uuid;

/// A count of admissions per (key, window) shared by every node of a fleet.
#[async_trait]
pub trait WindowCounts: Send + Sync + 'static {
    /// Atomically adds up to `want` admissions to window `window` (of `period_seconds`-long
    /// windows) of key `key`, never taking the count past `limit`; returns how many were granted
    /// (0 when the window is full). The row may be dropped after `expires_at`.
    ///
    /// The period is part of the row's identity so that a key whose period changes never shares a
    /// count with the windows of its old period.
    async fn reserve(
        &self,
        key: Uuid,
        period_seconds: u32,
        window: u64,
        want: u32,
        limit: u32,
        expires_at: DateTime<Utc>,
    ) -> Result<u32, StoreError>;
}

/// [`WindowCounts`] in one process's memory: what the DynamoDB table does, for tests of the
/// leasing engine (rows are never dropped).
#[derive(Debug, Default)]
pub struct MemoryCounts {
    rows: Mutex<HashMap<(Uuid, u32, u64), u32>>,
    reserves: AtomicU64,
}

impl MemoryCounts {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many reservations were asked for (the store writes a fleet would make).
    pub fn reserves(&self) -> u64 {
        self.reserves.load(Ordering::Relaxed)
    }

    /// The count of one window (0 when it has no row).
    pub fn count(&self, key: Uuid, period_seconds: u32, window: u64) -> u32 {
        let rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        rows.get(&(key, period_seconds, window))
            .copied()
            .unwrap_or(0)
    }
}

#[async_trait]
impl WindowCounts for MemoryCounts {
    async fn reserve(
        &self,
        key: Uuid,
        period_seconds: u32,
        window: u64,
        want: u32,
        limit: u32,
        _expires_at: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        self.reserves.fetch_add(1, Ordering::Relaxed);
        let mut rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        let count = rows.entry((key, period_seconds, window)).or_insert(0);
        let granted = want.min(limit.saturating_sub(*count));
        *count += granted;
        Ok(granted)
    }
}
