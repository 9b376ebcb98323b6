//! AWS-backend tests of apikeyd against the emulators (DynamoDB Local, moto for CloudWatch Logs):
//! several nodes on one table set, DynamoDB and CloudWatch outages, the audit stream, and measured
//! latencies. Black box like the `api` suite: the real `apikeyd` binary (built first with
//! `cargo build -p api --bin apikeyd`) or the in-process app, driven over HTTP only.
//!
//! Every test needs `APIKEYD_EMULATORS` (set by `eval "$(bash scripts/emulators.sh start)"`, always
//! set in CI); without it each prints why it is skipped and passes. Each test uses its own table
//! prefix and log group, and the outage tests their own emulator process, so they run in parallel.
//!
//! # Layout
//! - `env`: the emulators or a skip, fresh names, free ports, bounded polling.
//! - `node`: `apikeyd serve` on the AWS backend as a process; two nodes started together.
//! - `emulator`: a test's own DynamoDB Local or moto that it can kill and restart on the same port.
//! - `cloudwatch`: reading a log group with the SDK, waiting for a complete, settled delivery.
//! - `stats`: medians and percentiles of measured durations.
//! - `last_use`: two nodes' last-use observations merge (latest wins, counts add up); a graceful
//!   stop flushes them.
//! - `bounded_cache`: three nodes caching a few keys each serve every key; a held key costs no
//!   look-up, an evicted one one; revocation of held and evicted keys within 1 s.
//! - `admin_guard_cache`: admin keys a one-key cache lacks count; the last admin key is refused.
//! - `multi_node`: one bootstrap, keys across nodes, revocation within 1 s, a split name race.
//! - `fault`: DynamoDB Local killed and restarted: 503s, nothing written, recovery, projections verify.
//! - `paused`: DynamoDB Local frozen (SIGSTOP): `/readyz` and `/metrics` still answer at once.
//! - `measurements`: create, cold and cached verify, propagation (printed, not asserted).
//! - `audit_lifecycle`: every lifecycle event once, in order, in its day stream, without plaintext.
//! - `audit_rotation`: a rotation and a leak report in the group, by hash prefix, without plaintext.
//! - `audit_outage`: moto killed and restarted: every record written meanwhile arrives once, in order.
//! - `role_deletion`: a deletion too large for one transaction changes nothing; one that fits is whole.
//! - `audit_leadership`: two nodes, one log group, each event once; the delivering node leaving or
//!   restarting neither loses nor repeats a record.
//! - `sharded_feed`: three nodes on a feed of 4 shards (`aws init --feed-shards 4`): keys across
//!   nodes, a deactivation and a deletion through one node refused by the others within 1 s.
//! - `shared_rate_limit`: two nodes lease one key's window: the fleet never admits above the limit.
//! - `vams_format`: `APIKEYD_AUDIT_FORMAT=vams` lines equal the ones VAMS's own code builds
//!   (`vams_expected.py`, run in Python).
//! - `dual_format`: a JSON and a VAMS group at once, each event once in each across a restart;
//!   `audit search --since/--until` returns only the range, from either.
#![forbid(unsafe_code)]

mod cloudwatch;
mod emulator;
mod env;
mod node;
mod stats;

mod admin_guard_cache;
mod audit_leadership;
mod audit_lifecycle;
mod audit_outage;
mod audit_rotation;
mod bounded_cache;
mod dual_format;
mod fault;
mod last_use;
mod measurements;
mod multi_node;
mod paused;
mod rate_limit_outage;
mod role_deletion;
mod sharded_feed;
mod shared_rate_limit;
mod vams_format;
