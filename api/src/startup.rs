//! Wiring: stores, projections, command bus, bootstrap and the HTTP server.
use crate::auth_audit::AuthFailureAudit;
use crate::commands::{CommandBus, Frameworks};
use crate::config::{AuditFormat, Settings};
use crate::connections::ConnectionCap;
use crate::error::ApiError;
use crate::limits::{AuthFailLimiter, Limits};
use crate::metrics::Metrics;
use crate::routes;
use crate::state::AppState;
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Server, ServiceResponse};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::{from_fn, ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, App, HttpServer};
use cqrs_es::persist::PersistedEventRepository;
use domain::services::Services;
use infra::audit_file::AuditFile;
use infra::cloudwatch::{AuditFormat as CloudFormat, CloudWatchAudit};
use infra::dynamo::Lease;
use infra::{AdminGuard, DynamoStore};
use projections::directory::ReadModelDirectory;
use projections::key_rate::KeyRateLimiter;
use projections::key_views::{KeyViews, PersistedKeyViews, UserKeys};
use projections::miss::{LookupFallback, MissGuard};
use projections::projector::CatchUpQuery;
use projections::usage::UsageStore;
use projections::{AuditSink, EventFeed, Projector, ViewStore};
use secrecy::{ExposeSecret, SecretString};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

/// How long an idle keep-alive connection stays open. Longer than the idle timeout of the pools that
/// reuse connections (nginx upstream keepalive 60 s, most HTTP clients 60–90 s, AWS load balancers
/// 60 s): a server that closes first races the client's next request on that connection, which the
/// client sees as a reset with no answer. Idle connections count against the per-IP cap.
const KEEP_ALIVE: Duration = Duration::from_secs(75);

/// How often the embedded backend's projections retry and look for events other processes appended.
const EMBEDDED_POLL: Duration = Duration::from_millis(500);

/// How often AWS nodes poll the feed: with the re-read window this bounds how long another node's
/// deactivation takes to reach this one (well under a second).
const AWS_POLL: Duration = Duration::from_millis(200);

/// How long a listing waits for the persisted views to reach what memory holds (read-your-writes)
/// before it answers 503.
const VIEWS_DEADLINE: Duration = Duration::from_secs(3);

/// The storage side of the service, independent of HTTP (also used by CLI tools).
pub struct Backend {
    /// Executes commands.
    pub bus: Arc<dyn CommandBus>,
    /// Read model and its upkeep.
    pub projector: Arc<Projector>,
    /// The event log.
    pub feed: Arc<dyn EventFeed>,
    /// Persisted views and checkpoints.
    pub views: Arc<dyn ViewStore>,
    /// The key listing: the persisted views, read once they hold this node's writes.
    pub keys: Arc<dyn KeyViews>,
    /// Store look-ups for keys memory does not know yet (other nodes' fresh keys), rate-limited.
    pub misses: Option<Arc<MissGuard>>,
    /// How often projections poll the log.
    pub poll: Duration,
    /// Checkpoint names of the audit sinks the projector delivers to.
    pub audit_sinks: Vec<String>,
    /// Writes refused authentications to the audit sinks, bounded.
    pub auth_audit: Option<Arc<AuthFailureAudit>>,
    /// Where keys' last use and usage counts are persisted.
    pub usage: Arc<dyn UsageStore>,
    /// Per-key rate limits.
    pub key_rate: Arc<KeyRateLimiter>,
}

/// The audit sinks the settings ask for. Several nodes on one DynamoDB table set share one CloudWatch
/// stream, so its delivery is guarded by a lease in the views table.
async fn audit_sinks(settings: &Settings, shared: Option<&DynamoStore>) -> Vec<Arc<dyn AuditSink>> {
    let mut sinks: Vec<Arc<dyn AuditSink>> = Vec::new();
    if let Some(path) = settings.audit_path() {
        sinks.push(Arc::new(AuditFile::new(path)));
    }
    let format = match settings.audit_format {
        AuditFormat::Json => CloudFormat::Json,
        AuditFormat::Vams => CloudFormat::Vams,
    };
    // Each group has its own checkpoint (and lease), so the VAMS group can be added, or the JSON
    // one dropped, at any time without re-sending or skipping the other's records.
    let groups = [
        (settings.audit_group(), format, "audit-cloudwatch"),
        (
            settings.audit_group_vams(),
            CloudFormat::Vams,
            "audit-cloudwatch-vams",
        ),
    ];
    for (group, format, name) in groups {
        let Some(group) = group else { continue };
        let lease = shared.map(|store| Arc::new(Lease::new(store.clone(), name)));
        let client = infra::cloudwatch::client().await;
        sinks.push(Arc::new(CloudWatchAudit::new(
            client, &group, format, name, lease,
        )));
    }
    sinks
}

/// What a backend's store offers besides the log and the views.
struct Stores {
    /// Look-ups of keys memory does not know yet (several nodes).
    fallback: Option<Arc<dyn LookupFallback>>,
    /// Listings answered from the persisted views (the model keeps no listing rows).
    listing: Arc<dyn KeyViews>,
    /// Per-key rate limits: exact in memory on one node, leased from a shared count on several.
    key_rate: KeyRateLimiter,
    /// Users' keys beyond a bounded key cache, for the admin guard.
    user_keys: Option<Arc<dyn UserKeys>>,
}

impl Backend {
    /// The backend the settings name.
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        match crate::stores::Store::open(settings).await? {
            crate::stores::Store::Embedded(store) => {
                let sinks = audit_sinks(settings, None).await;
                let listing: Arc<dyn KeyViews> = Arc::new(store.clone());
                let stores = Stores {
                    fallback: None,
                    listing,
                    key_rate: KeyRateLimiter::local(),
                    // Every key is in memory.
                    user_keys: None,
                };
                Self::assemble(store, settings, sinks, stores, EMBEDDED_POLL).await
            }
            crate::stores::Store::Aws(store) => {
                let sinks = audit_sinks(settings, Some(&store)).await;
                // Listings query the views' index; tables of a release before it gain it here
                // (one GetItem once they have it).
                store.ensure_view_index().await?;
                let fallback: Arc<dyn LookupFallback> = Arc::new(store.clone());
                let listing: Arc<dyn KeyViews> = Arc::new(store.clone());
                let stores = Stores {
                    fallback: Some(fallback),
                    listing,
                    // The fleet shares each key's count (ADR 020).
                    key_rate: KeyRateLimiter::shared(store.window_counts()),
                    user_keys: Some(Arc::new(store.clone())),
                };
                Self::assemble(store, settings, sinks, stores, AWS_POLL).await
            }
        }
    }

    async fn assemble<S>(
        store: S,
        settings: &Settings,
        sinks: Vec<Arc<dyn AuditSink>>,
        stores: Stores,
        poll: Duration,
    ) -> anyhow::Result<Self>
    where
        S: PersistedEventRepository
            + AdminGuard
            + EventFeed
            + ViewStore
            + UsageStore
            + Clone
            + 'static,
    {
        let feed: Arc<dyn EventFeed> = Arc::new(store.clone());
        let views: Arc<dyn ViewStore> = Arc::new(store.clone());
        let usage: Arc<dyn UsageStore> = Arc::new(store.clone());
        let audit_sinks = sinks.iter().map(|s| s.name().to_owned()).collect();
        let auth_audit = AuthFailureAudit::start(sinks.clone());
        let projector = Projector::start(feed.clone(), views.clone(), sinks).await?;
        let mut directory = ReadModelDirectory::new(projector.clone(), &settings.admin_roles);
        if let Some(user_keys) = stores.user_keys {
            directory = directory.with_user_keys(user_keys);
        }
        let services = Services::new(Arc::new(directory));
        let bus = Arc::new(Frameworks::new(store, services, || {
            CatchUpQuery(projector.clone())
        }));
        let keys: Arc<dyn KeyViews> = Arc::new(PersistedKeyViews::new(
            projector.clone(),
            stores.listing,
            VIEWS_DEADLINE,
        ));
        Ok(Self {
            bus,
            projector,
            feed,
            views,
            keys,
            misses: stores.fallback.map(MissGuard::new).map(Arc::new),
            poll,
            audit_sinks,
            auth_audit,
            usage,
            key_rate: Arc::new(stores.key_rate),
        })
    }
}

/// A built, bound, not yet running service.
pub struct Application {
    port: u16,
    server: Server,
    bootstrap_key: Option<SecretString>,
    projector: Arc<Projector>,
    last_use: Arc<crate::usage_flush::LastUse>,
}

impl Application {
    /// Opens the stores, runs the first-start bootstrap and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let backend = Backend::open(&settings).await?;
        let admin_role = settings.admin_roles.first().map_or("admin", String::as_str);
        let bootstrap_key = crate::bootstrap::run(
            backend.bus.as_ref(),
            &backend.projector,
            backend.views.as_ref(),
            admin_role,
            &settings.bootstrap_admin,
        )
        .await?;
        let listener = TcpListener::bind(&settings.bind)
            .map_err(|e| anyhow::anyhow!("cannot bind {}: {e}", settings.bind))?;
        let address = listener.local_addr()?;
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}"))
            .trim_end_matches('/')
            .to_owned();
        let last_use = Arc::new(
            crate::usage_flush::LastUse::start(
                backend.usage.clone(),
                settings.last_used_flush_seconds,
            )
            .await,
        );
        let state = web::Data::new(AppState {
            last_use: last_use.clone(),
            key_rate: backend.key_rate.clone(),
            bus: backend.bus,
            projector: backend.projector.clone(),
            feed: backend.feed,
            misses: backend.misses,
            admin_roles: settings.admin_roles.clone(),
            public_url,
            max_body_bytes: settings.max_body_bytes,
            views: backend.views.clone(),
            keys: backend.keys.clone(),
            audit_sinks: backend.audit_sinks.clone(),
            auth_audit: backend.auth_audit.clone(),
            refusal_status: settings.vams_refusal_status,
            max_key_lifetime: settings
                .max_key_lifetime_days
                .map(domain::lifetime::MaxKeyLifetime::days),
            metrics: Metrics::new(),
            limits: Limits {
                auth_failures: AuthFailLimiter::new(
                    settings.auth_fail_limit,
                    settings.auth_fail_burst,
                ),
                exposure_reports: AuthFailLimiter::new(
                    settings.exposure_report_limit,
                    settings.exposure_report_limit,
                ),
                client_rule: settings.client_rule(),
                max_header_bytes: settings.max_header_bytes,
                body_timeout: Duration::from_millis(settings.body_timeout_ms),
            },
        });
        let cap = ConnectionCap::new(settings.max_connections_per_ip, settings.client_rule());
        let on_connect_state = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::QueryConfig::default().error_handler(|e, _| {
                    ApiError::BadRequest(format!("Invalid query string: {e}")).into()
                }))
                .app_data(web::PathConfig::default().error_handler(|e, _| {
                    ApiError::BadRequest(format!("Invalid path: {e}")).into()
                }))
                .wrap(ErrorHandlers::new().default_handler(json_error_body))
                .wrap(from_fn(crate::limits::middleware))
                .wrap(from_fn(crate::telemetry::access_log))
                .wrap(from_fn(crate::metrics::middleware))
                .wrap(from_fn(crate::request_id::middleware))
                .configure(routes::config)
                .configure(crate::metrics::config)
                .configure(crate::openapi::config)
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(ApiError::NotFound("Not Found".into()))
                }))
        })
        .on_connect(move |conn, data| cap.on_connect(conn, data, &on_connect_state.metrics))
        .listen(listener)?
        .keep_alive(KEEP_ALIVE)
        .shutdown_timeout(10);
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        let projector = backend.projector;
        projector.spawn_background(backend.poll);
        last_use.spawn(projector.clone());
        Ok(Self {
            port: address.port(),
            server: server.run(),
            bootstrap_key,
            projector,
            last_use,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The first-start admin key, when this start issued one.
    pub fn bootstrap_key(&self) -> Option<String> {
        self.bootstrap_key
            .as_ref()
            .map(|k| k.expose_secret().to_owned())
    }

    /// Serves until SIGINT/SIGTERM, finishing in-flight requests, then flushes projections and audit.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if self.last_use.interval.is_some() {
            self.last_use.flush(&self.projector).await;
        }
        if let Err(e) = self.projector.catch_up_views().await {
            tracing::error!(error = %e, "final projection flush failed; it will catch up on next start");
        }
        if let Err(e) = self.projector.flush_audit().await {
            tracing::error!(error = %e, "final audit flush failed; it will catch up on next start");
        }
        result
    }
}

/// Rewrites any error response that is not already JSON (routing 404/405, framework errors) into
/// `{"message": …}`, so clients only ever see one error shape.
fn json_error_body<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let message = match status.as_u16() {
        405 => "Method Not Allowed".to_owned(),
        413 => "Request body too large".to_owned(),
        _ => status.canonical_reason().unwrap_or("Error").to_owned(),
    };
    let (req, _) = res.into_parts();
    let response = ApiError::json(status, &message).map_into_boxed_body();
    let res: ServiceResponse<EitherBody<B, BoxBody>> =
        ServiceResponse::new(req, response).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}
