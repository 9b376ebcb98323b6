//! Connection-level abuse limits: a cap on each socket peer's open connections.
//!
//! Every accepted connection takes a slot for its peer address, released when the connection ends.
//! A peer already holding `APIKEYD_MAX_CONNECTIONS_PER_IP` gets its new connection shut down at once
//! (counted in `apikeyd_connections_refused_total`), so one client opening hundreds of idle or
//! slow-body connections cannot use up the process's file descriptors and starve everyone else.
//! Trusted proxies are exempt: every client behind them shares their address (bound them in the
//! proxy instead, e.g. nginx `limit_conn`). Time limits live elsewhere: actix's
//! `client_request_timeout` for the request head, [`crate::body`] for the body.
use crate::client_info::ClientRule;
use crate::metrics::Metrics;
use actix_web::dev::Extensions;
use std::any::Any;
use std::collections::HashMap;
use std::net::{IpAddr, Shutdown};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// At most one log line per interval about refused connections, with the count since the last one.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// Open connections per peer address.
pub struct ConnectionCap {
    max: usize,
    exempt: ClientRule,
    open: Mutex<HashMap<IpAddr, usize>>,
    /// When the last refusal line was logged, and refusals since.
    unlogged: Mutex<(Option<Instant>, u64)>,
}

/// What a new connection gets.
enum Admission {
    /// A slot, held for the connection's life.
    Counted(Slot),
    /// No cap applies (cap off, or a trusted proxy).
    Exempt,
    /// Its peer already holds the maximum.
    Refused,
}

/// One connection's slot; dropping it (with the connection's data) frees the slot.
struct Slot {
    cap: Arc<ConnectionCap>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.cap.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

impl ConnectionCap {
    /// At most `max` connections per peer (`0`: no cap); peers `exempt` trusts are not counted.
    pub fn new(max: usize, exempt: ClientRule) -> Arc<Self> {
        Arc::new(Self {
            max,
            exempt,
            open: Mutex::new(HashMap::new()),
            unlogged: Mutex::new((None, 0)),
        })
    }

    /// Admits a new connection from `ip`.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Admission {
        let ip = ip.to_canonical();
        if self.max == 0 || self.exempt.is_trusted(ip) {
            return Admission::Exempt;
        }
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= self.max {
            return Admission::Refused;
        }
        *n += 1;
        Admission::Counted(Slot {
            cap: self.clone(),
            ip,
        })
    }

    /// The `HttpServer::on_connect` hook: takes a slot into the connection's data, or shuts the
    /// socket down so the dispatcher sees end-of-stream and drops the connection at once.
    pub fn on_connect(self: &Arc<Self>, conn: &dyn Any, data: &mut Extensions, metrics: &Metrics) {
        let Some(stream) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() else {
            return;
        };
        let Ok(peer) = stream.peer_addr() else {
            return;
        };
        match self.admit(peer.ip()) {
            Admission::Counted(slot) => {
                data.insert(slot);
            }
            Admission::Exempt => {}
            Admission::Refused => {
                metrics.connection_refused();
                self.log_refusal(peer.ip());
                // Best effort: a socket that is already gone needs no shutting.
                let _ = socket2::SockRef::from(stream).shutdown(Shutdown::Both);
            }
        }
    }
}

impl ConnectionCap {
    /// A sampled WARN line: a client hitting the cap sees failed connections, the operator this.
    fn log_refusal(&self, ip: IpAddr) {
        let mut unlogged = self.unlogged.lock().unwrap_or_else(|p| p.into_inner());
        unlogged.1 += 1;
        let now = Instant::now();
        if unlogged
            .0
            .is_some_and(|at| now.saturating_duration_since(at) < LOG_EVERY)
        {
            return;
        }
        tracing::warn!(
            peer = %ip,
            refused_since_last_line = unlogged.1,
            max = self.max,
            "connection refused: peer holds APIKEYD_MAX_CONNECTIONS_PER_IP connections (one line per minute)"
        );
        *unlogged = (Some(now), 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn caps_each_peer_and_frees_slots_on_drop() {
        let proxy = ClientRule {
            trusted: vec!["10.0.0.1".parse().expect("cidr")],
            ..ClientRule::default()
        };
        let cap = ConnectionCap::new(2, proxy);
        let a = ip("192.0.2.1");
        let first = cap.admit(a);
        let second = cap.admit(a);
        assert!(matches!(
            (&first, &second),
            (Admission::Counted(_), Admission::Counted(_))
        ));
        assert!(
            matches!(cap.admit(a), Admission::Refused),
            "third over the cap"
        );
        assert!(
            matches!(cap.admit(ip("192.0.2.2")), Admission::Counted(_)),
            "other peers unaffected"
        );
        for _ in 0..5 {
            assert!(
                matches!(cap.admit(ip("10.0.0.1")), Admission::Exempt),
                "trusted proxy exempt"
            );
        }
        drop(first);
        assert!(
            matches!(cap.admit(a), Admission::Counted(_)),
            "a freed slot is reusable"
        );
        let off = ConnectionCap::new(0, ClientRule::default());
        assert!(
            matches!(off.admit(a), Admission::Exempt),
            "0 turns the cap off"
        );
    }
}
