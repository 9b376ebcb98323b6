//! Audit trail, tamper evidence and time travel on the embedded backend (issue 4): the local audit
//! file holds every event once and in order, forensic answers match hand-computed expectations at
//! instants around each change, `events verify` catches an edited event, and refused
//! authentications are audited with a bound.
mod forensics;
mod rotation;
mod tamper;
mod trail;

use chrono::{DateTime, Utc};
use std::time::Duration;

/// An instant strictly between two steps: sleeping a little on each side keeps event times
/// (microsecond clocks) apart from it.
pub async fn pause_at() -> DateTime<Utc> {
    tokio::time::sleep(Duration::from_millis(30)).await;
    let at = Utc::now();
    tokio::time::sleep(Duration::from_millis(30)).await;
    at
}

/// RFC 3339 with microseconds, as the forensic routes accept it.
pub fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
