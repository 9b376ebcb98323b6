//! Operations tests of apikeyd: what an operator relies on to run it behind a gateway — metrics, the
//! OpenAPI document, request ids and logs, abuse limits, graceful shutdown and the nginx integration.
//! Black box like the `api` suite: the real app on port 0 (or the real `apikeyd` binary, built first
//! with `cargo build -p api --bin apikeyd`), driven over HTTP only.
//!
//! # Layout
//! - `helpers`: requests with arbitrary headers, reading `/metrics`.
//! - `metrics`: request counters and latency histograms, verification outcomes, backlog gauges.
//! - `openapi`: `/openapi.json` is OpenAPI 3 and matches the routes the app really serves.
//! - `request_id`: ids assigned, echoed and recorded on events.
//! - `rate_limit`: refused keys limited per client IP, 429 with `Retry-After`; valid keys always served.
//! - `client_ip`: the trusted-proxy rule; spoofed forwarding headers; the audit's `sourceIp`.
//! - `slow_clients`: the body timeout (408) and the per-IP connection cap.
//! - `redaction`: pasted keys in no response, log line, audit record or file.
//! - `console`: the console page cannot be framed.
//! - `limits`: header and body size caps.
//! - `logs`: JSON logs carry the request id and never a key.
//! - `shutdown`: SIGTERM finishes an in-flight request and flushes.
//! - `crash`: every acknowledged create survives `kill -9` mid-load (group commit durability).
//! - `views_fault`: unwritable view tables slow or fail no command; the views catch up after.
//! - `nginx`: `scripts/nginx-test.sh`, a real nginx in front of a real apikeyd.
//! - `deploy`: the CloudFormation template's audit queries, filters and alarms, and the Prometheus
//!   rules (cfn-lint and promtool when installed).
#![forbid(unsafe_code)]

mod client_ip;
mod console;
mod crash;
mod deploy;
mod helpers;
mod limits;
mod logs;
mod metrics;
mod nginx;
mod openapi;
mod rate_limit;
mod redaction;
mod request_id;
mod shutdown;
mod slow_clients;
mod views_fault;
