//! Logging: `RUST_LOG` filters (default `info`), `APIKEYD_LOG_FORMAT=json` for JSON lines, and the
//! access log. Every formatted line passes through [`crate::redact::redact`] on its way to stderr, so
//! no log line — ours, a dependency's, any level — can carry a key-shaped string.
use crate::client_info::ClientInfo;
use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::Error;
use std::io::Write;
use std::time::Instant;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls are no-ops (tests).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("APIKEYD_LOG_FORMAT").is_ok_and(|f| f == "json");
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(RedactingStderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Makes [`Redacting`] writers to stderr.
struct RedactingStderr;

impl<'a> MakeWriter<'a> for RedactingStderr {
    type Writer = Redacting;

    fn make_writer(&'a self) -> Redacting {
        Redacting
    }
}

/// Writes to stderr with key-shaped strings redacted. The formatter hands over one whole line per
/// write, so a key is never split across two calls.
struct Redacting;

impl Write for Redacting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr()
            .lock()
            .write_all(crate::redact::redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// The access log, one INFO line per request inside its span: client (by the trusted-proxy rule),
/// method and path (never the query string or a header that could carry a key; key-shaped path parts
/// redacted), status, size, duration and the request id. Requests the failure limiter refused are
/// left out: they are counted in its sampled line instead, so a flood cannot flood the log.
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let info = ClientInfo::of(req.request());
    let line = format!("{} {}", req.method(), crate::redact::redact(req.path()));
    let res = next.call(req).await?;
    if crate::limits::was_limited(res.request()) {
        return Ok(res);
    }
    let size = match res.response().body().size() {
        BodySize::Sized(n) => n.to_string(),
        _ => "-".to_owned(),
    };
    tracing::info!(
        target: "apikeyd::access",
        "{} \"{line}\" {} {size} {:.3}ms rid={}",
        info.client(),
        res.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0,
        info.request_id
    );
    Ok(res)
}
