//! Who sent a request, computed once per request: the client address by the trusted-proxy rule, the
//! socket peer and the request id, as one [`ClientInfo`] in the request's extensions. The failure
//! limiter, the audit trail, event metadata and the logs all read it instead of asking again, so
//! they can never disagree about who the client was.
//!
//! # The trusted-proxy rule
//! A forwarding header is believed only when the socket peer is a trusted proxy
//! (`APIKEYD_TRUSTED_PROXIES`, addresses or CIDR ranges). With the default header,
//! `X-Forwarded-For` is walked from the right — each proxy appends the address it saw — skipping
//! trusted proxies; the first untrusted address is the client. Everything left of it was written by
//! the client and is ignored, so a client cannot pick its own address. `X-Real-IP` is read only when
//! configured as the header to trust (`APIKEYD_CLIENT_IP_HEADER=x-real-ip`), for proxies that set it.
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use std::convert::Infallible;
use std::future::{ready, Ready};
use std::net::IpAddr;

pub use domain::cidr::{Cidr, InvalidCidr};

/// Which forwarding header a trusted proxy names the client in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ClientIpHeader {
    /// `X-Forwarded-For`, walked from the right past trusted proxies (nginx:
    /// `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`).
    #[default]
    XForwardedFor,
    /// `X-Real-IP`, a single address the proxy sets (nginx: `proxy_set_header X-Real-IP $remote_addr;`).
    XRealIp,
}

impl ClientIpHeader {
    fn name(self) -> &'static str {
        match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::XRealIp => "x-real-ip",
        }
    }
}

/// How the client address is found: which peers are trusted proxies and which header they set.
#[derive(Debug, Clone, Default)]
pub struct ClientRule {
    /// Peers whose forwarding header is believed.
    pub trusted: Vec<Cidr>,
    /// The header they name the client in.
    pub header: ClientIpHeader,
}

impl ClientRule {
    /// Whether `ip` is a trusted proxy.
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|c| c.contains(ip))
    }

    /// The client address for a connection from `peer` carrying `forwarded` (the configured
    /// header's values, in order of appearance). Pure: the whole rule, without HTTP.
    pub fn client_address(&self, peer: IpAddr, forwarded: &[&str]) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.is_trusted(peer) {
            return peer;
        }
        match self.header {
            ClientIpHeader::XRealIp => forwarded.last().and_then(|v| parse_hop(v)).unwrap_or(peer),
            ClientIpHeader::XForwardedFor => {
                // Rightmost first: each hop was appended by the one to its right, the last by `peer`.
                let mut client = peer;
                for hop in forwarded.iter().rev().flat_map(|v| v.rsplit(',')) {
                    let Some(ip) = parse_hop(hop) else { break };
                    client = ip;
                    if !self.is_trusted(ip) {
                        break;
                    }
                }
                client
            }
        }
    }
}

/// One forwarded hop: an address, optionally with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim();
    raw.parse::<IpAddr>()
        .ok()
        .or_else(|| raw.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

/// The facts about a request's sender, computed once by [`crate::request_id::middleware`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client: the peer, or the address a trusted proxy forwarded.
    pub client_ip: Option<IpAddr>,
    /// The socket peer (a proxy, when there is one).
    pub peer_ip: Option<IpAddr>,
    /// Correlates logs, audit records and events.
    pub request_id: String,
}

impl ClientInfo {
    /// Computes the facts for `req` under `rule`.
    pub fn compute(req: &HttpRequest, rule: &ClientRule, request_id: String) -> Self {
        let peer_ip = req.peer_addr().map(|a| a.ip().to_canonical());
        let forwarded: Vec<&str> = req
            .headers()
            .get_all(rule.header.name())
            .filter_map(|v| v.to_str().ok())
            .collect();
        Self {
            client_ip: peer_ip.map(|peer| rule.client_address(peer, &forwarded)),
            peer_ip,
            request_id,
        }
    }

    /// The facts the middleware stored; computed on the spot (peer only) if it did not run.
    pub fn of(req: &HttpRequest) -> Self {
        if let Some(info) = req.extensions().get::<Self>() {
            return info.clone();
        }
        Self::compute(req, &ClientRule::default(), crate::request_id::choose(req))
    }

    /// The client address of `req` by the same rule as [`Self::of`], without copying the request
    /// id (the verification hot path).
    pub fn client_ip_of(req: &HttpRequest) -> Option<IpAddr> {
        if let Some(info) = req.extensions().get::<Self>() {
            return info.client_ip;
        }
        Self::of(req).client_ip
    }

    /// The client address as text, `-` when unknown (logs).
    pub fn client(&self) -> String {
        self.client_ip
            .map_or_else(|| "-".to_owned(), |ip| ip.to_string())
    }
}

impl FromRequest for ClientInfo {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(trusted: &[&str], header: ClientIpHeader) -> ClientRule {
        ClientRule {
            trusted: trusted.iter().map(|t| t.parse().expect("cidr")).collect(),
            header,
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn the_trusted_proxy_rule() {
        let xff = rule(&["127.0.0.1", "10.0.0.0/8"], ClientIpHeader::XForwardedFor);
        let real = rule(&["127.0.0.1"], ClientIpHeader::XRealIp);
        let proxy = ip("127.0.0.1");
        let cases: [(&ClientRule, &str, &[&str], &str, &str); 11] = [
            (
                &xff,
                "203.0.113.5",
                &["198.51.100.1"],
                "203.0.113.5",
                "untrusted peer: headers ignored",
            ),
            (
                &xff,
                "127.0.0.1",
                &[],
                "127.0.0.1",
                "trusted peer, no header: the peer",
            ),
            (
                &xff,
                "127.0.0.1",
                &["198.51.100.1"],
                "198.51.100.1",
                "one hop",
            ),
            (
                &xff,
                "127.0.0.1",
                &["6.6.6.6, 198.51.100.1"],
                "198.51.100.1",
                "client-sent entry left of the real one",
            ),
            (
                &xff,
                "127.0.0.1",
                &["198.51.100.1, 10.0.0.7"],
                "198.51.100.1",
                "inner trusted proxy skipped",
            ),
            (
                &xff,
                "127.0.0.1",
                &["6.6.6.6", "198.51.100.1, 10.2.3.4"],
                "198.51.100.1",
                "several header lines",
            ),
            (
                &xff,
                "127.0.0.1",
                &["10.0.0.1, 10.0.0.2"],
                "10.0.0.1",
                "all trusted: the leftmost",
            ),
            (
                &xff,
                "127.0.0.1",
                &["garbage, 10.0.0.2"],
                "10.0.0.2",
                "unparseable hop stops the walk",
            ),
            (
                &xff,
                "127.0.0.1",
                &["198.51.100.1:4711"],
                "198.51.100.1",
                "hop with a port",
            ),
            (
                &real,
                "127.0.0.1",
                &["198.51.100.9"],
                "198.51.100.9",
                "X-Real-IP when configured",
            ),
            (
                &real,
                "203.0.113.5",
                &["198.51.100.9"],
                "203.0.113.5",
                "X-Real-IP from an untrusted peer",
            ),
        ];
        for (rule, peer, forwarded, want, why) in cases {
            assert_eq!(rule.client_address(ip(peer), forwarded), ip(want), "{why}");
        }
        // With the X-Forwarded-For rule, X-Real-IP is simply not consulted: `compute` reads only
        // the configured header, so the pure rule never sees it.
        assert_eq!(xff.client_address(proxy, &[]), proxy);
    }
}
