//! The OpenAPI 3 document, generated from the handlers' `#[utoipa::path]` annotations and served at
//! `GET /openapi.json`.
//!
//! # Layout
//! - this file: [`ApiDoc`] (every path), the bearer security scheme, and the error response sets
//!   operations share ([`Common`], [`Authenticated`], [`RateLimited`], [`Admin`], [`WithBody`],
//!   [`Writes`], [`NotFound`]).
//! - [`schemas`]: the response shapes handlers build with `json!`.
//!
//! Every error is `{"message": …}` ([`schemas::ErrorBody`]). An operation lists exactly the statuses
//! it can answer; the schemathesis check (`scripts/schemathesis.sh`) fails on any other.
pub mod schemas;

use crate::routes;
use actix_web::{web, HttpResponse};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi};

/// Name of the bearer scheme operations refer to.
pub const BEARER: &str = "bearer";

/// The whole document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "apikeyd",
        description = "API keys, roles and user roles, wire-compatible with the API-key subsystem of AWS VAMS; \
                       verification for gateways; operations endpoints.",
        license(name = "Apache-2.0")
    ),
    paths(
        routes::meta::version,
        routes::meta::amplify_config,
        routes::meta::secure_config,
        routes::meta::login_profile,
        routes::api_keys::list,
        routes::api_keys::create,
        routes::api_keys::get,
        routes::api_keys::update,
        routes::api_keys::delete,
        routes::api_keys::audit,
        routes::rotation::rotate,
        routes::exposures::report,
        routes::usage::usage,
        routes::roles::list,
        routes::roles::create,
        routes::roles::update,
        routes::roles::delete,
        routes::user_roles::list,
        routes::user_roles::assign,
        routes::user_roles::replace,
        routes::user_roles::remove_all,
        routes::verify::verify,
        routes::verify::check,
        routes::forensics::key,
        routes::forensics::user,
        routes::health::healthz,
        routes::health::readyz,
        routes::admin_ui::redirect_to_index,
        routes::admin_ui::index,
        routes::admin_ui::app_js,
        routes::admin_ui::app_css,
        crate::metrics::metrics,
        openapi_json,
    ),
    components(schemas(schemas::ErrorBody)),
    modifiers(&BearerScheme, &OperationIds),
    tags(
        (name = "config", description = "What vamscli calls during setup and login"),
        (name = "api-keys", description = "API key management (admin)"),
        (name = "roles", description = "Roles (admin)"),
        (name = "user-roles", description = "Users' roles (admin)"),
        (name = "verify", description = "Key verification for gateways and services"),
        (name = "exposures", description = "Public leak reports: named keys are deactivated"),
        (name = "forensics", description = "Keys and users as they were at an instant (admin)"),
        (name = "ops", description = "Health, readiness, metrics, this document"),
        (name = "console", description = "The admin web console's static files"),
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("vams_…")
                    .description(Some(
                        "An API key: `Authorization: Bearer vams_…` (the bare key is accepted too).",
                    ))
                    .build(),
            ),
        );
    }
}

/// Handler names repeat across families (`list`, `create`, …) and a GET+HEAD handler is one
/// operation per method; operation ids must be unique, so each becomes `<tag>.<handler>`
/// (`api-keys.create`, `roles.list`), HEAD ones `<tag>.<handler>.head`.
struct OperationIds;

impl Modify for OperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                (&mut item.get, ""),
                (&mut item.put, ""),
                (&mut item.post, ""),
                (&mut item.delete, ""),
                (&mut item.head, ".head"),
                (&mut item.patch, ""),
            ];
            for (operation, suffix) in operations {
                let Some(operation) = operation.as_mut() else {
                    continue;
                };
                let tag = operation.tags.as_ref().and_then(|t| t.first()).cloned();
                if let (Some(tag), Some(id)) = (tag, operation.operation_id.as_mut()) {
                    *id = format!("{tag}.{id}{suffix}");
                }
            }
        }
    }
}

/// `GET /openapi.json`.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(openapi_json));
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object), Common))]
pub async fn openapi_json() -> HttpResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let body = DOCUMENT.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .expect("the document serializes")
    });
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body.as_str())
}

/// A `{"message": …}` response.
fn error(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

fn set(entries: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    entries
        .iter()
        .map(|(status, description)| ((*status).to_owned(), error(description)))
        .collect()
}

/// Answers any route can give: oversized headers.
pub struct Common;

impl IntoResponses for Common {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(&[(
            "431",
            "Request headers larger than APIKEYD_MAX_HEADER_BYTES",
        )])
    }
}

/// Answers of routes that check a bearer key: refused (401) or rate-limited (429).
pub struct Authenticated;

impl IntoResponses for Authenticated {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = set(&[(
            "401",
            "Missing or refused key (also a key used from outside its allowedCidrs)",
        )]);
        responses.extend(RateLimited::responses());
        responses.extend(Common::responses());
        responses
    }
}

/// 429 with `Retry-After`: the client IP presented too many refused keys.
pub struct RateLimited;

impl IntoResponses for RateLimited {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([("429".to_owned(), rate_limited())])
    }
}

fn rate_limited() -> RefOr<Response> {
    let RefOr::T(mut response) = error(
        "A refused key from a client address that presented too many (it was not looked up further), or a valid key over its own rateLimit for the current window. Retry after `Retry-After` seconds",
    ) else {
        unreachable!("error() builds an inline response")
    };
    response.headers.insert(
        "Retry-After".into(),
        HeaderBuilder::new()
            .schema(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1)),
            )
            .description(Some("Whole seconds to wait"))
            .build(),
    );
    response.into()
}

/// Answers of admin routes: [`Authenticated`], not an admin (403), bad input (400).
pub struct Admin;

impl IntoResponses for Admin {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = Authenticated::responses();
        responses.extend(set(&[
            ("400", "Invalid input; the message says which"),
            (
                "403",
                "The key acts with no admin role (its user holds none, or its role scope names none)",
            ),
        ]));
        responses
    }
}

/// Answers of routes reading a JSON body: missing/invalid JSON (400), too large (413).
pub struct WithBody;

impl IntoResponses for WithBody {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(&[
            (
                "400",
                "Missing, invalid or ill-shaped JSON body, or invalid values",
            ),
            ("408", "Body not received within APIKEYD_BODY_TIMEOUT_MS"),
            ("413", "Body larger than APIKEYD_MAX_BODY_BYTES"),
        ])
    }
}

/// Answers of routes writing events: a concurrent change won (409), store down (503).
pub struct Writes;

impl IntoResponses for Writes {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(&[
            ("409", "Changed concurrently; retry"),
            ("503", "Store unavailable; nothing was written"),
        ])
    }
}

/// No such resource (or a path parameter that routes nowhere).
pub struct NotFound;

impl IntoResponses for NotFound {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(&[("404", "No such resource")])
    }
}
