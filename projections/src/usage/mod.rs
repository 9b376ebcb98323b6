//! Last use and usage counts of keys: a projection of its own, fed by successful verifications, not
//! by events (see ADR 019).
//!
//! - [`Usage`]: one key's last use, verifications per hour and most frequent client addresses, with
//!   the one merge rule every store and node applies ([`Usage::merge`]).
//! - [`tracker`]: what this node observed since its last flush, recorded on the verification hot
//!   path, and every key's persisted last use for listings.
//! - [`store`]: the port the stores implement and the flush that feeds them.
//!
//! # Bounds
//! Per key at most [`HOURS_KEPT`] hour buckets (older ones are dropped on every merge) and
//! [`IPS_KEPT`] client addresses (the least frequent is evicted first); the usage route shows the
//! [`IPS_SHOWN`] most frequent.
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

pub mod store;
pub mod tracker;

pub use store::{flush, FlushError, UsageStore};
pub use tracker::UsageTracker;

/// Hour buckets kept per key: 30 days.
pub const HOURS_KEPT: i64 = 30 * 24;
/// Client addresses kept per key.
pub const IPS_KEPT: usize = 64;
/// Client addresses the usage route shows.
pub const IPS_SHOWN: usize = 20;

/// When and from where a key last verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastUse {
    /// The instant of the verification.
    pub at: DateTime<Utc>,
    /// The client address (by the trusted-proxy rule), when known.
    pub from: Option<IpAddr>,
}

impl LastUse {
    /// The later of two observations; an older one never replaces a newer one (on a tie the one
    /// with the greater address, so every node and store picks the same).
    pub fn later(self, other: LastUse) -> LastUse {
        if (other.at, other.from) > (self.at, self.from) {
            other
        } else {
            self
        }
    }

    /// The later of two optional observations.
    pub fn latest(a: Option<LastUse>, b: Option<LastUse>) -> Option<LastUse> {
        match (a, b) {
            (Some(a), Some(b)) => Some(a.later(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Verifications from one client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpUse {
    /// The client address.
    pub ip: IpAddr,
    /// How many verifications came from it.
    pub count: u64,
    /// The last of them.
    pub last_seen: DateTime<Utc>,
}

/// One key's usage: what a node counts between flushes, and what the stores hold in all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// The latest verification.
    pub last: Option<LastUse>,
    /// Verifications per hour, by hour number since the Unix epoch.
    pub hours: BTreeMap<i64, u64>,
    /// Verifications per client address, most frequent first (at most [`IPS_KEPT`]).
    pub ips: Vec<IpUse>,
}

/// The hour number of an instant (hours since the Unix epoch).
pub fn hour_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(3600)
}

/// The start of an hour number.
pub fn hour_start(hour: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(hour.saturating_mul(3600), 0).unwrap_or_default()
}

impl Usage {
    /// Counts one verification at `at` from `from`. Allocates only for a new hour or address.
    pub fn record(&mut self, from: Option<IpAddr>, at: DateTime<Utc>) {
        self.record_many(from, at, hour_of(at), 1);
    }

    /// Counts `count` verifications in `hour` from `from`, the last at `at`.
    pub(crate) fn record_many(
        &mut self,
        from: Option<IpAddr>,
        at: DateTime<Utc>,
        hour: i64,
        count: u64,
    ) {
        let observed = LastUse { at, from };
        self.last = Some(self.last.map_or(observed, |last| last.later(observed)));
        *self.hours.entry(hour).or_insert(0) += count;
        if let Some(ip) = from {
            self.count_ip(IpUse {
                ip,
                count,
                last_seen: at,
            });
        }
    }

    /// Adds `seen` to the address table; a new address in a full table evicts the least frequent.
    pub(crate) fn count_ip(&mut self, seen: IpUse) {
        if let Some(known) = self.ips.iter_mut().find(|u| u.ip == seen.ip) {
            known.count += seen.count;
            known.last_seen = known.last_seen.max(seen.last_seen);
            return;
        }
        if self.ips.len() < IPS_KEPT {
            self.ips.push(seen);
            return;
        }
        if let Some(least) = self.ips.iter_mut().min_by_key(|u| (u.count, u.last_seen)) {
            if (least.count, least.last_seen) <= (seen.count, seen.last_seen) {
                *least = seen;
            }
        }
    }

    /// The merge rule of every store and node: the later last use wins, counts add up, hours older
    /// than [`HOURS_KEPT`] before `now` are dropped and only the [`IPS_KEPT`] most frequent
    /// addresses stay. Commutative and associative up to those bounds, so the order in which nodes
    /// flush does not matter.
    pub fn merge(&mut self, other: &Usage, now: DateTime<Utc>) {
        self.last = LastUse::latest(self.last, other.last);
        for (hour, count) in &other.hours {
            *self.hours.entry(*hour).or_insert(0) += count;
        }
        let oldest = hour_of(now) - HOURS_KEPT + 1;
        self.hours = self.hours.split_off(&oldest);
        for seen in &other.ips {
            match self.ips.iter_mut().find(|u| u.ip == seen.ip) {
                Some(known) => {
                    known.count += seen.count;
                    known.last_seen = known.last_seen.max(seen.last_seen);
                }
                None => self.ips.push(*seen),
            }
        }
        self.sort_ips();
        self.ips.truncate(IPS_KEPT);
    }

    fn sort_ips(&mut self) {
        self.ips
            .sort_by_key(|u| std::cmp::Reverse((u.count, u.last_seen, u.ip)));
    }

    /// Hours with use within the last [`HOURS_KEPT`] hours before `now`, oldest first.
    pub fn recent_hours(
        &self,
        now: DateTime<Utc>,
    ) -> impl Iterator<Item = (DateTime<Utc>, u64)> + '_ {
        let oldest = hour_of(now) - HOURS_KEPT + 1;
        self.hours
            .range(oldest..)
            .filter(|(_, count)| **count > 0)
            .map(|(hour, count)| (hour_start(*hour), *count))
    }

    /// The [`IPS_SHOWN`] most frequent addresses, most frequent first.
    pub fn top_ips(&self) -> Vec<IpUse> {
        let mut sorted = self.clone();
        sorted.sort_ips();
        sorted.ips.truncate(IPS_SHOWN);
        sorted.ips
    }
}

/// A key unused for `days` days as of `now`: never used, or last used before this instant.
pub fn unused_since(now: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    now - TimeDelta::days(i64::from(days))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().expect("ip"))
    }

    #[test]
    fn recording_counts_hours_and_addresses() {
        let mut usage = Usage::default();
        usage.record(ip("10.0.0.1"), at("2026-12-01T20:10:00Z"));
        usage.record(ip("10.0.0.1"), at("2026-12-01T20:50:00Z"));
        usage.record(ip("10.0.0.2"), at("2026-12-01T21:05:00Z"));
        usage.record(None, at("2026-12-01T21:06:00Z"));
        let now = at("2026-12-01T22:00:00Z");
        let hours: Vec<_> = usage.recent_hours(now).collect();
        assert_eq!(
            hours,
            vec![
                (at("2026-12-01T20:00:00Z"), 2),
                (at("2026-12-01T21:00:00Z"), 2)
            ]
        );
        assert_eq!(
            usage.last,
            Some(LastUse {
                at: at("2026-12-01T21:06:00Z"),
                from: None
            })
        );
        let top = usage.top_ips();
        assert_eq!(top[0].ip, ip("10.0.0.1").unwrap());
        assert_eq!(top[0].count, 2);
        assert_eq!(top[1].count, 1);
    }

    #[test]
    fn an_older_observation_never_overwrites_a_newer_one() {
        let newer = LastUse {
            at: at("2026-12-01T20:00:00Z"),
            from: ip("10.0.0.2"),
        };
        let older = LastUse {
            at: at("2026-12-01T19:00:00Z"),
            from: ip("10.0.0.9"),
        };
        assert_eq!(newer.later(older), newer);
        assert_eq!(older.later(newer), newer);
        let now = at("2026-12-01T21:00:00Z");
        let (mut a, mut b) = (Usage::default(), Usage::default());
        a.record(newer.from, newer.at);
        b.record(older.from, older.at);
        let mut ab = a.clone();
        ab.merge(&b, now);
        let mut ba = b.clone();
        ba.merge(&a, now);
        assert_eq!(ab, ba, "merging is order-independent");
        assert_eq!(ab.last, Some(newer));
        assert_eq!(ab.hours.values().sum::<u64>(), 2, "counts add up");
    }

    #[test]
    fn merging_keeps_thirty_days_of_hours() {
        let now = at("2026-12-31T12:30:00Z");
        let mut old = Usage::default();
        old.record(None, at("2026-11-01T00:00:00Z"));
        old.record(None, now - TimeDelta::hours(HOURS_KEPT - 1));
        let mut kept = Usage::default();
        kept.merge(&old, now);
        assert_eq!(kept.hours.len(), 1, "the hour 31 days back is dropped");
        assert_eq!(kept.recent_hours(now).count(), 1);
    }

    #[test]
    fn the_address_table_is_bounded_and_keeps_the_most_frequent() {
        let t = at("2026-12-01T20:00:00Z");
        let mut usage = Usage::default();
        let frequent = ip("192.0.2.1");
        for _ in 0..5 {
            usage.record(frequent, t);
        }
        for n in 0..(IPS_KEPT as u32 * 3) {
            let addr = IpAddr::from(std::net::Ipv4Addr::from(0x0A00_0000 + n));
            usage.record(Some(addr), t + TimeDelta::seconds(i64::from(n)));
        }
        assert_eq!(usage.ips.len(), IPS_KEPT);
        assert!(usage
            .ips
            .iter()
            .any(|u| Some(u.ip) == frequent && u.count == 5));
        let mut merged = Usage::default();
        for _ in 0..3 {
            merged.merge(&usage, t);
        }
        assert_eq!(merged.ips.len(), IPS_KEPT);
        assert_eq!(merged.top_ips().len(), IPS_SHOWN);
        assert_eq!(merged.top_ips()[0].ip, frequent.unwrap());
        assert_eq!(merged.top_ips()[0].count, 15);
    }
}
